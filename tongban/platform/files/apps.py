from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "tongban.platform.files"
    label = "files"
    default_auto_field = "django.db.models.BigAutoField"
