"""Everything the sharing app registers with the platform at start-up (navigation,
notification category, periodic jobs, workbench, gateway providers). Each area adds its
own function here and to ``register_all``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


def _navigation() -> None:
    from tongban.platform.notify.services import notify_register_category
    from tongban.platform.ui.navigation import NavLink, register_nav_link

    notify_register_category("sharing", _("数据共享"))
    # the nav link to the catalogue is registered by _catalogue()
    del NavLink, register_nav_link


def _grants() -> None:
    from tongban.platform.events.registry import schedule_every

    # requests undecided after their working-day deadline reach supervision
    schedule_every(900, "tongban.apps.sharing.tasks.requests_report_overdue")


def _providers() -> None:
    from tongban.apps.sharing.providers_builtin import register_builtin

    register_builtin()


def _stats() -> None:
    from tongban.platform.events.registry import schedule_every

    # today's statistics every five minutes (and yesterday's in the first hour after midnight)
    schedule_every(300, "tongban.apps.sharing.tasks.daily_stats_refresh")


def _transparency() -> None:
    from tongban.platform.ui.navigation import PersonalLink, register_personal_link

    # the personal space links "who used my data", with the last 30 days' count
    register_personal_link(
        PersonalLink(
            "sharing.my_data", _("谁使用了我的数据"), "sharing:my_data", detail=_my_data_detail
        )
    )


def _my_data_detail(user: Any) -> str:
    from tongban.apps.sharing.transparency import personal_space_detail

    return personal_space_detail(user)


def _catalogue() -> None:
    from tongban.apps.sharing import workbench
    from tongban.platform.ui.navigation import NavLink, register_nav_link
    from tongban.platform.ui.workbench import WorkbenchProvider, register_provider

    register_nav_link(
        NavLink(
            "sharing",
            _("数据共享"),
            "sharing:catalogue",
            order=45,
            public=False,
            staff_only=True,
        )
    )
    # the staff workbench: one provider for the whole app; areas append to workbench.TODO
    register_provider(WorkbenchProvider(key="sharing", label=_("数据共享"), todo=workbench.todo))


def _gateway() -> None:
    from tongban.platform.events.registry import schedule_every

    # the call log is sealed (chained, SM2-signed) every minute
    schedule_every(60, "tongban.apps.sharing.tasks.gateway_log_seal")


def register_all() -> None:
    _navigation()
    _catalogue()
    _grants()
    _providers()
    _stats()
    _transparency()
    _gateway()
