from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Loads the demo city 示范市. Sits outside the platform so it may load app data too."""

    name = "tongban.demo"
    label = "demo"
    default_auto_field = "django.db.models.BigAutoField"
