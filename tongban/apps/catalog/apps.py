from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tongban.apps.catalog"
    label = "catalog"
    verbose_name = "Service catalogue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.apps.catalog import permissions  # noqa: F401  (registers them)
