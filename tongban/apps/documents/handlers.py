"""What the exchange does with its own events: notifications, queued and in batches.

=================================  =======================================================
event                              effect
=================================  =======================================================
documents.dispatch.sent            cut the dispatch's pending deliveries into batches of
                                   ``DOCUMENTS_NOTIFY_BATCH`` and publish one
                                   ``documents.delivery.notify`` per batch
documents.delivery.notify          (internal) tell the staff holding RECEIVE in each
                                   batch's receiving units: a new document, a reminder
                                   from the sender, or an overdue reminder
=================================  =======================================================

Each handler marks its event processed (``event_mark_processed``), so a redelivery is a
no-op. Deliveries no longer pending (signed, returned, recalled meanwhile) are skipped.

``register()`` schedules the overdue job; it is called from ``setup.py`` (importing this
module registers the subscribers).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import events
from tongban.apps.documents import permissions as p
from tongban.apps.documents.exchange import DELIVERY_NOTIFY, NOTIFY_SENT, notify_publish
from tongban.apps.documents.models import Delivery, DeliveryState
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.events.registry import subscriber
from tongban.platform.events.services import event_mark_processed
from tongban.platform.notify.services import notify_send

logger = logging.getLogger(__name__)

NOTIFY_CATEGORY = "documents"
OVERDUE_JOB = "tongban.apps.documents.tasks.deliveries_remind_overdue"
OVERDUE_JOB_SECONDS = 600


def register() -> None:
    """Subscribers (by importing this module) and the overdue job (every 10 minutes)."""
    from tongban.platform.events.registry import schedule_every

    schedule_every(OVERDUE_JOB_SECONDS, OVERDUE_JOB)


def department_holders(department_ids: Iterable[int], permission: str) -> dict[int, list[Any]]:
    """Active users holding ``permission`` through a role anchored in each department
    (department or department-tree scope, the scopes the exchange pages honour)."""
    from tongban.platform.accounts.models import User

    ids = set(department_ids)
    if not ids:
        return {}
    now = timezone.now()
    rows = (
        RoleAssignment.objects.filter(
            role__permissions__code=permission,
            user__is_active=True,
            department_id__in=ids,
            scope__in=(Scope.DEPARTMENT, Scope.DEPARTMENT_TREE),
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .values_list("department_id", "user_id")
        .distinct()
    )
    by_department: dict[int, set[int]] = defaultdict(set)
    for department_id, user_id in rows:
        by_department[department_id].add(user_id)
    users = {
        user.pk: user
        for user in User.objects.filter(pk__in={u for s in by_department.values() for u in s})
    }
    return {
        department_id: [users[pk] for pk in sorted(user_ids) if pk in users]
        for department_id, user_ids in by_department.items()
    }


@subscriber(events.DISPATCH_SENT)
def on_dispatch_sent(event: Any) -> None:
    if not event_mark_processed(key="documents.dispatch_sent.notify", event=event):
        return
    dispatch_id = event.payload.get("dispatch")
    if not dispatch_id:
        logger.warning("documents.dispatch.sent without a dispatch: %s", event.id)
        return
    ids = list(
        Delivery.objects.filter(dispatch_id=dispatch_id, state=DeliveryState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    notify_publish(ids, reason=NOTIFY_SENT)


def _texts(reason: str, fields: dict[str, Any]) -> tuple[str, str]:
    if reason == "remind":
        return (
            _("催办签收：%(title)s") % fields,
            _("%(sender)s提醒您签收来文《%(title)s》（%(number)s），签收时限%(due)s。") % fields,
        )
    if reason == "overdue":
        return (
            _("来文超时未签收：%(title)s") % fields,
            _("%(sender)s发来的《%(title)s》（%(number)s）已超过签收时限%(due)s，请尽快签收。")
            % fields,
        )
    return (
        _("新来文待签收：%(title)s") % fields,
        _("%(sender)s发来《%(title)s》（%(number)s），请于%(due)s前签收。") % fields,
    )


@subscriber(DELIVERY_NOTIFY)
def on_delivery_notify(event: Any) -> None:
    if not event_mark_processed(key="documents.delivery_notify", event=event):
        return
    reason = str(event.payload.get("reason") or "sent")
    ids = [int(pk) for pk in event.payload.get("deliveries") or []]
    deliveries = list(
        Delivery.objects.filter(pk__in=ids, state=DeliveryState.PENDING).select_related(
            "document", "dispatch__sender"
        )
    )
    if not deliveries:
        return
    holders = department_holders({d.recipient_id for d in deliveries}, p.RECEIVE)
    by_dispatch: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        by_dispatch[delivery.dispatch_id].append(delivery)
    link = reverse("documents:inbox")
    for group in by_dispatch.values():
        first = group[0]
        users = [user for d in group for user in holders.get(d.recipient_id, [])]
        if not users:
            continue
        due = timezone.localtime(first.due_at)
        fields = {
            "title": first.document.title,
            "number": first.document.number or _("无文号"),
            "sender": first.dispatch.sender.name,
            "due": f"{due:%Y-%m-%d %H:%M}",
        }
        subject, body = _texts(reason, fields)
        notify_send(
            recipients=users,
            template_code=f"documents.delivery_{reason}",
            context={"subject": subject, "body": body},
            category=NOTIFY_CATEGORY,
            link=link,
        )


def notify_sender_returned(delivery: Delivery, *, actor: Any = None) -> None:
    """Tell the sender's NUMBER_SEAL holders that a unit returned the document (inline:
    one unit, a handful of people)."""
    dispatch = delivery.dispatch
    users = department_holders([dispatch.sender_id], p.NUMBER_SEAL).get(dispatch.sender_id, [])
    if not users:
        return
    fields = {
        "title": delivery.document.title,
        "recipient": delivery.recipient.name,
        "reason": delivery.return_reason[:200],
    }
    notify_send(
        recipients=users,
        template_code="documents.delivery_returned",
        context={
            "subject": _("来文被退回：%(title)s") % fields,
            "body": _("%(recipient)s退回了《%(title)s》，理由：%(reason)s") % fields,
        },
        category=NOTIFY_CATEGORY,
        link=reverse("documents:delivery_return_notice", args=[delivery.pk]),
        actor=actor,
    )
