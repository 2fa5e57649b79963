from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "tongban.platform.notify"
    label = "notify"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.platform.events.registry import subscribe

        subscribe(
            "notify.delivery.created",
            "tongban.platform.notify.handlers.send_delivery",
            on_failure="tongban.platform.notify.handlers.send_delivery_failed",
        )
