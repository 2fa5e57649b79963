"""The sharing lines on the staff workbench. ``todo`` collects from the small functions
in ``TODO``; each area of the sharing app appends its own (``(user, limit) -> items``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from tongban.platform.ui.workbench import WorkItem

TodoFunction = Callable[[Any, int], list[WorkItem]]


def _source() -> str:
    return str(_("数据共享"))


def catalogue_to_review(user: Any, limit: int) -> list[WorkItem]:
    """Catalogue versions waiting for this reviewer."""
    from tongban.apps.sharing import catalogue_selectors

    return [
        WorkItem(
            title=_("待审核资源目录：%(name)s（%(code)s）")
            % {"name": version.name, "code": version.resource.code},
            url=reverse("sharing:catalogue_version", args=[version.resource.code, version.number]),
            source=_source(),
            status=str(version.get_status_display()),
            occurred_at=version.submitted_at,
        )
        for version in catalogue_selectors.review_queue(user)[:limit]
    ]


def catalogue_rejected(user: Any, limit: int) -> list[WorkItem]:
    """The editor's catalogue versions sent back for changes."""
    from tongban.apps.sharing import catalogue_selectors

    return [
        WorkItem(
            title=_("资源目录被退回修改：%(name)s（%(code)s）")
            % {"name": version.name, "code": version.resource.code},
            url=reverse("sharing:catalogue_version", args=[version.resource.code, version.number]),
            source=_source(),
            status=str(version.get_status_display()),
            occurred_at=version.reviewed_at,
        )
        for version in catalogue_selectors.rejected_for_editor(user)[:limit]
    ]


#: every area's to-do function; append yours (keep each cheap: one scoped query)
TODO: list[TodoFunction] = [catalogue_to_review, catalogue_rejected]


def todo(user: Any, limit: int) -> list[WorkItem]:
    items: list[WorkItem] = []
    for function in TODO:
        if len(items) >= limit:
            break
        items.extend(function(user, limit - len(items)))
    return items[:limit]


def sharing_requests_to_review(user: Any, limit: int) -> list[WorkItem]:
    """Sharing requests on the reviewer's resources waiting for a decision, soonest due
    first (overdue ones urgent)."""
    from django.utils import timezone

    from tongban.apps.sharing import grants_selectors

    now = timezone.now()
    return [
        WorkItem(
            title=_("待审核共享申请：%(name)s（%(department)s，%(number)s）")
            % {
                "name": item.resource_version.name,
                "department": item.consumer_department.name,
                "number": item.number,
            },
            url=reverse("sharing:request", args=[item.pk]),
            source=_source(),
            status=str(item.get_status_display()),
            due=timezone.localtime(item.due_at).date() if item.due_at else None,
            urgent=item.due_at is not None and item.due_at < now,
            occurred_at=item.requested_at,
        )
        for item in grants_selectors.requests_to_review(user)[:limit]
    ]


TODO.append(sharing_requests_to_review)
