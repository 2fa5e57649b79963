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


def register_all() -> None:
    _navigation()
