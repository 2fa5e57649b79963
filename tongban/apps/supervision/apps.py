from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "tongban.apps.supervision"
    label = "supervision"
    verbose_name = "Administrative e-supervision"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from tongban.apps.supervision import (  # noqa: F401  (registers them)
            handlers,
            handlers_documents,
            handlers_sharing,
            permissions,
        )
        from tongban.platform.events.registry import schedule_every
        from tongban.platform.notify.services import notify_register_category
        from tongban.platform.ui.navigation import NavLink, register_nav_link

        notify_register_category("supervision", _("电子监察"))
        register_nav_link(
            NavLink(
                "supervision",
                _("电子监察"),
                "supervision:home",
                order=40,
                public=False,
                staff_only=True,
            )
        )
        # time-based rules fire within a minute of their moment (see services.clock_sweep)
        schedule_every(60, "tongban.apps.supervision.tasks.clock_sweep")
        schedule_every(3600, "tongban.apps.supervision.tasks.corrections_escalate")

        from tongban.apps.supervision import workbench
        from tongban.platform.ui.workbench import WorkbenchProvider, register_provider

        register_provider(
            WorkbenchProvider(key="supervision", label=_("电子监察"), todo=workbench.todo)
        )
