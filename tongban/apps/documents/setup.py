"""Everything the documents app registers with the platform at start-up (navigation,
notification category, periodic jobs, workbench, event handlers). Each area adds its own
function here and to ``register_all``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def _navigation() -> None:
    from tongban.platform.notify.services import notify_register_category
    from tongban.platform.ui.navigation import NavLink, register_nav_link

    notify_register_category("documents", _("公文"))
    register_nav_link(
        NavLink(
            "documents",
            _("公文"),
            "documents:home",
            order=50,
            public=False,
            staff_only=True,
        )
    )


def _supervised() -> None:
    from tongban.platform.events.registry import schedule_every

    # supervised tasks: reminders before the deadline, overdue escalation to supervision
    schedule_every(3600, "tongban.apps.documents.supervised.tasks_sweep_job")


def _drafting() -> None:
    from tongban.apps.documents import drafting

    drafting.register()  # the workbench: pending 核稿, 会签, 签发, 编号, 用印, 分发


def _exchange() -> None:
    from tongban.apps.documents import handlers

    # dispatch.sent → batched notifications; overdue deliveries reminded, reported once
    handlers.register()


def _seals() -> None:
    from tongban.apps.documents import seals

    # the seals' private keys for key rotation; sealed PDFs served to those who may read them
    seals.register()


def _receiving() -> None:
    from tongban.apps.documents.workbench import receiving_todo
    from tongban.platform.ui.workbench import WorkbenchProvider, register_provider

    # copies to sign for, and the user's own 传阅/承办 tasks
    register_provider(
        WorkbenchProvider(key="documents.receiving", label=_("收文办理"), todo=receiving_todo)
    )


def register_all() -> None:
    _navigation()
    _seals()
    _drafting()
    _exchange()
    _receiving()
    _supervised()
