from django.apps import AppConfig


class UiConfig(AppConfig):
    name = "tongban.platform.ui"
    label = "ui"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.urls import register_converter

        from tongban.platform.ui.converters import IdConverter

        # before any URL configuration is imported: every app's row ids use <id:...>
        register_converter(IdConverter, "id")
