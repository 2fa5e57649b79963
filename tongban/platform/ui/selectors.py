"""Reads for the shell pages, always scoped to the signed-in user."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import import_string

from tongban.platform.access.models import RoleAssignment
from tongban.platform.orgs.models import Posting
from tongban.platform.ui import workbench as registry


def _optional(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError:
        return None


def staff_profile(user: Any) -> dict[str, Any]:
    postings = list(
        Posting.objects.filter(user=user)
        .select_related("unit__department__division", "position")
        .order_by("-is_primary")
    )
    assignments = list(
        RoleAssignment.objects.filter(user=user)
        .select_related("role", "unit", "department", "division")
        .order_by("role__code")
    )
    return {"postings": postings, "assignments": assignments}


def recent_messages(user: Any, limit: int = 10) -> list[Any]:
    function = _optional("tongban.platform.notify.selectors.messages_for")
    if function is None:
        return []
    return list(function(user)[:limit])


def workbench_summary(user: Any) -> dict[str, int]:
    unread_function = _optional("tongban.platform.notify.selectors.unread_count")
    return {
        "todo": len(registry.todo_items(user)),
        "done": len(registry.done_items(user)),
        "unread": unread_function(user) if unread_function else 0,
    }


def workbench_tab(user: Any, tab: str) -> dict[str, Any]:
    if tab == "todo":
        return {"items": registry.todo_items(user)}
    if tab == "done":
        return {"items": registry.done_items(user)}
    return {"inbox_messages": recent_messages(user, limit=20)}


def personal_space(user: Any) -> dict[str, Any]:
    from django.utils import timezone

    from tongban.platform.accounts.models import AgentAuthorisation

    today = timezone.localdate()
    authorisations = [
        authorisation
        for authorisation in AgentAuthorisation.objects.filter(
            agent=user, revoked_at__isnull=True
        ).select_related("legal_person")
        if authorisation.is_live(today)
    ]
    return {
        "person": user.person,
        "authorisations": authorisations,
        "applications": registry.public_items(user),
        "inbox_messages": recent_messages(user, limit=5),
    }
