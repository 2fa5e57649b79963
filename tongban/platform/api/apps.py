from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "tongban.platform.api"
    label = "platform_api"
    default_auto_field = "django.db.models.BigAutoField"
