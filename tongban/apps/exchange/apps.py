from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "tongban.apps.exchange"
    label = "exchange"
    verbose_name = "Scheduled data exchange"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from tongban.apps.exchange import permissions  # noqa: F401  (registers them)
        from tongban.apps.exchange.models import WEBHOOK_SECRET_PURPOSE, Subscription
        from tongban.platform.crypto.rotation import register_encrypted_column

        # webhook signing secrets are SM4 frames: key rotation re-encrypts them
        register_encrypted_column(Subscription, "webhook_secret_encrypted", WEBHOOK_SECRET_PURPOSE)
        from tongban.platform.events.registry import schedule_every, subscribe
        from tongban.platform.notify.services import notify_register_category

        notify_register_category("exchange", _("数据交换"))
        # webhook deliveries go through the event outbox (retries with backoff)
        subscribe(
            "exchange.delivery.dispatch",
            "tongban.apps.exchange.webhooks.on_dispatch",
            on_failure="tongban.apps.exchange.webhooks.on_dispatch_failed",
        )
        # scheduled runs fire within five minutes of their moment
        schedule_every(300, "tongban.apps.exchange.tasks.jobs_run_due")
