from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tongban.platform.notify.selectors import unread_count


def unread(request: HttpRequest) -> dict[str, Any]:
    """Unread in-app message count for the header badge (one COUNT query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_count": 0}
    return {"unread_count": unread_count(user)}
