from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "tongban.platform.workflow"
    label = "workflow"
    verbose_name = "Workflow (BPMN)"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.platform.workflow import permissions  # noqa: F401  (registers them)
