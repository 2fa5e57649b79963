from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "tongban.apps.documents"
    label = "documents"
    verbose_name = "Official documents and office work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.apps.documents import (
            permissions,  # noqa: F401  (registers them)
            setup,
        )

        setup.register_all()
