from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def unread(request: HttpRequest) -> dict[str, Any]:
    """Unread in-app message count for the header badge (filled in by notify)."""
    return {"unread_count": 0}
