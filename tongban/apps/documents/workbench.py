"""The receiving side on the staff workbench: copies waiting to be signed for (签收) by the
user's departments, and the user's own 传阅 and 承办 tasks on received documents. The
sending side's lines (核稿, 会签, 签发 …) come from ``selectors_drafting.workbench_todo``."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import DeliveryState, ReceiptTask, ReceiptTaskKind
from tongban.apps.documents.selectors_exchange import inbox_for
from tongban.platform.access.services import has_permission
from tongban.platform.ui.workbench import WorkItem


def receiving_todo(user: Any, limit: int) -> list[WorkItem]:
    items: list[WorkItem] = []
    if has_permission(user, p.RECEIVE):
        source = str(_("来文签收"))
        for delivery in inbox_for(actor=user, state=DeliveryState.PENDING)[:limit]:
            items.append(
                WorkItem(
                    title=_("待签收：%(title)s") % {"title": delivery.document.title},
                    url=reverse("documents:delivery_detail", args=[delivery.pk]),
                    source=source,
                    status=str(DeliveryState.PENDING.label),
                    due=delivery.due_at.date(),
                    urgent=bool(delivery.document.urgency),
                    occurred_at=delivery.delivered_at,
                )
            )
    tasks = (
        ReceiptTask.objects.filter(assignee=user, done_at__isnull=True)
        .select_related("receipt")
        .order_by("deadline", "assigned_at")[:limit]
    )
    source = str(_("收文办理"))
    for task in tasks:
        read = task.kind == ReceiptTaskKind.READ
        items.append(
            WorkItem(
                title=(_("待阅：%(title)s") if read else _("待承办：%(title)s"))
                % {"title": task.receipt.title},
                url=reverse("documents:receipt_detail", args=[task.receipt_id]),
                source=source,
                status=str(task.get_kind_display()),
                due=task.deadline,
                urgent=bool(task.receipt.urgency),
                occurred_at=task.assigned_at,
            )
        )
    return items[:limit]
