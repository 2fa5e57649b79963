from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "tongban.apps.sharing"
    label = "sharing"
    verbose_name = "Information resource sharing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.apps.sharing import (
            permissions,  # noqa: F401  (registers them)
            setup,
        )

        setup.register_all()
