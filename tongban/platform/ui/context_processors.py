from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def shell(request: HttpRequest) -> dict[str, Any]:
    from tongban.platform.ui.navigation import nav_links

    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return {
        "city_name": settings.TONGBAN_CITY_NAME,
        "app_nav_links": nav_links(
            signed_in=signed_in, staff=signed_in and getattr(user, "kind", "") == "staff"
        ),
    }
