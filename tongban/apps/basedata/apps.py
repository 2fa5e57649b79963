from django.apps import AppConfig


class BasedataConfig(AppConfig):
    name = "tongban.apps.basedata"
    label = "basedata"
    verbose_name = "Base databases"
    default_auto_field = "django.db.models.BigAutoField"
