"""Everything the sharing app registers with the platform at start-up (navigation,
notification category, periodic jobs, workbench, gateway providers). Each area adds its
own function here and to ``register_all``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def _navigation() -> None:
    from tongban.platform.notify.services import notify_register_category
    from tongban.platform.ui.navigation import NavLink, register_nav_link

    notify_register_category("sharing", _("数据共享"))
    # the catalogue area adds: register_nav_link(NavLink("sharing", _("数据共享"),
    # "sharing:catalogue", order=45, public=False)) once its page exists
    del NavLink, register_nav_link


def register_all() -> None:
    _navigation()
