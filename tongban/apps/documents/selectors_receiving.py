"""Reads of the receiving side, narrowed to the actor.

A receipt is seen by its own department only: a grant of RECEIVE, HANDLE or INSTRUCT over
the receipt's department, or a 传阅/承办 task of the actor on it (tasks go only to staff
posted in that department). ``access_receipt_by_id`` and ``access_delivery_to_register``
are the only ways a page or endpoint loads one: 404 when it is out of the actor's reach.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Delivery,
    DeliveryState,
    Receipt,
    ReceiptState,
    ReceiptTask,
    ReceiptTaskKind,
)
from tongban.apps.documents.receiving import (
    DELIVERY_SCOPE,
    DEPARTMENT_SCOPE,
    OPEN_STATES,
    RECEIPT_SCOPE,
)
from tongban.platform.access.services import can_access, has_permission, scope_queryset
from tongban.platform.orgs.models import Department

TAB_PENDING = "pending"
TAB_OPEN = "open"
TAB_MINE = "mine"
TAB_CLOSED = "closed"
TABS = (TAB_PENDING, TAB_OPEN, TAB_MINE, TAB_CLOSED)
RECEIPT_PERMISSIONS = (p.RECEIVE, p.HANDLE, p.INSTRUCT)


def may_use_receipts(actor: Any) -> bool:
    return any(has_permission(actor, code) for code in RECEIPT_PERMISSIONS) or (
        getattr(actor, "is_authenticated", False)
        and ReceiptTask.objects.filter(assignee=actor).exists()
    )


def receipts_visible(actor: Any) -> QuerySet[Receipt]:
    if not getattr(actor, "is_authenticated", False):
        return Receipt.objects.none()
    condition = Q(pk__in=ReceiptTask.objects.filter(assignee=actor).values("receipt_id"))
    for code in RECEIPT_PERMISSIONS:
        if has_permission(actor, code):
            scoped = scope_queryset(actor, Receipt.objects.all(), code, RECEIPT_SCOPE)
            condition |= Q(pk__in=scoped.values("pk"))
    return Receipt.objects.filter(condition).select_related("department", "delivery")


def deliveries_to_register(actor: Any) -> QuerySet[Delivery]:
    """待登记: signed deliveries of the actor's departments (RECEIVE) not registered yet."""
    return (
        scope_queryset(
            actor,
            Delivery.objects.filter(state=DeliveryState.SIGNED),
            p.RECEIVE,
            DELIVERY_SCOPE,
        )
        .select_related("document", "document__issuer", "recipient")
        .order_by("signed_at", "pk")
    )


def receipt_list_for(actor: Any, *, tab: str, query: str = "") -> QuerySet[Receipt]:
    rows = receipts_visible(actor)
    if tab == TAB_MINE:
        rows = rows.filter(
            pk__in=ReceiptTask.objects.filter(assignee=actor, done_at__isnull=True).values(
                "receipt_id"
            )
        )
    elif tab == TAB_CLOSED:
        rows = rows.filter(state__in=(ReceiptState.CLOSED, ReceiptState.ARCHIVED))
    else:
        rows = rows.filter(state__in=OPEN_STATES)
    query = query.strip()
    if query:
        rows = rows.filter(
            Q(title__icontains=query)
            | Q(source__icontains=query)
            | Q(source_number__icontains=query)
        )
    return rows.order_by("-registered_at", "-pk")


def access_receipt_by_id(actor: Any, receipt_id: int) -> Receipt:
    receipt = (
        receipts_visible(actor)
        .select_related(
            "registered_by", "proposed_by", "instructed_by", "closed_by", "delivery__document"
        )
        .filter(pk=receipt_id)
        .first()
    )
    if receipt is None:
        raise Http404
    return receipt


def access_delivery_to_register(actor: Any, delivery_id: int) -> Delivery:
    delivery = (
        scope_queryset(actor, Delivery.objects.all(), p.RECEIVE, DELIVERY_SCOPE)
        .select_related("document", "recipient")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise Http404
    return delivery


def access_task_by_id(actor: Any, receipt: Receipt, task_id: int) -> ReceiptTask:
    task = receipt.tasks.filter(pk=task_id, assignee=actor).select_related("receipt").first()
    if task is None:
        raise Http404
    return task


def departments_for_paper(actor: Any) -> QuerySet[Department]:
    """The departments the actor may register paper documents for."""
    return scope_queryset(
        actor,
        Department.objects.filter(is_active=True).order_by("code"),
        p.RECEIVE,
        DEPARTMENT_SCOPE,
    )


def receipt_tasks(receipt: Receipt) -> list[ReceiptTask]:
    return list(
        receipt.tasks.select_related("assignee", "assigned_by").order_by("assigned_at", "pk")
    )


def receipt_actions(actor: Any, receipt: Receipt) -> set[str]:
    """What the actor may do on the receipt now (the forms the detail page shows)."""
    actions: set[str] = set()
    state = receipt.state
    handle = can_access(actor, receipt, p.HANDLE, RECEIPT_SCOPE)
    if handle and state in (ReceiptState.REGISTERED, ReceiptState.PROPOSED):
        actions.add("propose")
    if state in (ReceiptState.REGISTERED, ReceiptState.PROPOSED) and can_access(
        actor, receipt, p.INSTRUCT, RECEIPT_SCOPE
    ):
        actions.add("instruct")
    if handle and state in (ReceiptState.INSTRUCTED, ReceiptState.HANDLING):
        actions.update(("circulate", "assign", "close"))
    if state in OPEN_STATES and receipt.tasks.filter(assignee=actor, done_at__isnull=True).exists():
        actions.add("done")
    if state == ReceiptState.CLOSED and can_access(actor, receipt, p.ARCHIVE, RECEIPT_SCOPE):
        actions.add("archive")
    return actions


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    label: str
    who: str
    text: str


def _name(user: Any) -> str:
    if user is None:
        return ""
    return str(user.display_name or user.username)


def receipt_timeline(receipt: Receipt, tasks: list[ReceiptTask]) -> list[Step]:
    """Every step of the receipt in time order."""
    steps = [Step(receipt.registered_at, _("登记"), _name(receipt.registered_by), "")]
    delivery = receipt.delivery
    if delivery is not None and delivery.signed_at is not None:
        steps.append(Step(delivery.signed_at, _("签收"), "", ""))
    if receipt.proposed_at:
        steps.append(
            Step(receipt.proposed_at, _("拟办"), _name(receipt.proposed_by), receipt.proposal)
        )
    if receipt.instructed_at:
        steps.append(
            Step(
                receipt.instructed_at, _("批办"), _name(receipt.instructed_by), receipt.instruction
            )
        )
    for task in tasks:
        label = _("传阅") if task.kind == ReceiptTaskKind.READ else _("承办")
        steps.append(
            Step(
                task.assigned_at,
                _("交%(kind)s") % {"kind": label},
                _name(task.assigned_by),
                _name(task.assignee),
            )
        )
        if task.done_at:
            done = _("已阅") if task.kind == ReceiptTaskKind.READ else _("承办完成")
            steps.append(Step(task.done_at, done, _name(task.assignee), task.comment))
    if receipt.closed_at:
        steps.append(Step(receipt.closed_at, _("办结"), _name(receipt.closed_by), receipt.result))
    if receipt.archived_at:
        steps.append(Step(receipt.archived_at, _("归档"), "", ""))
    return sorted(steps, key=lambda step: step.at)
