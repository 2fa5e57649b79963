from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tongban.platform.audit"
    label = "audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.platform.events.registry import schedule_every

        # the chain head, anchored outside the database every hour (audit/anchor.py)
        schedule_every(3600, "tongban.platform.audit.anchor.anchor_job")
