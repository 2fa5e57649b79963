from django.apps import AppConfig


class BasedataConfig(AppConfig):
    name = "tongban.apps.basedata"
    label = "basedata"
    verbose_name = "Base databases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.apps.basedata import handlers, permissions  # noqa: F401  (registers them)
        from tongban.platform.events.registry import schedule_every

        # the full quality sweep, daily (each load checks its own records at once)
        schedule_every(86400, "tongban.apps.basedata.tasks.quality_run")
