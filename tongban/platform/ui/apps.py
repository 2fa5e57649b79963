from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "tongban.platform.ui"
    label = "ui"
    default_auto_field = "django.db.models.BigAutoField"
