"""公文交换 (分发/签收): every write of the exchange between issuing and receiving units.

Sending side: saved recipient groups (``group_*``), ``document_send`` (one ``Dispatch``
and one ``Delivery`` per receiving unit, inserted in bulk), ``delivery_recall`` (only
while pending), ``dispatch_remind`` (the units that have not signed).

Receiving side: ``delivery_open`` (first reading: ``read_at``/``read_by``),
``delivery_sign`` (签收), ``delivery_return`` (退回 with a reason: the 退文告知单), and
``delivery_mark_registered`` for the receiving side's register step (``receiving`` calls
it inside its own transaction).

Notifications never go out inline: ``document_send`` publishes one
``documents.dispatch.sent``; the handler (``handlers.py``) cuts the deliveries into
batches and publishes one ``documents.delivery.notify`` per batch, whose handler writes
the messages. Reminders go the same way. ``deliveries_remind_overdue`` (the periodic job
in ``tasks.py``) reminds pending deliveries past ``due_at`` once and publishes
``documents.delivery.overdue`` once per delivery (``overdue_reported_at``).

Settings (read with ``getattr``): ``DOCUMENTS_SIGN_WITHIN_HOURS`` (default 72, the form's
default time to sign), ``DOCUMENTS_NOTIFY_BATCH`` (200 deliveries per notification
batch), ``DOCUMENTS_OVERDUE_BATCH`` (500 overdue deliveries per job run).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import drafting, events
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Delivery,
    DeliveryState,
    Dispatch,
    Document,
    DocumentState,
    RecipientGroup,
)
from tongban.platform.access.services import ScopePaths, can_access, deny, has_permission
from tongban.platform.audit.services import audit_record
from tongban.platform.events.services import event_publish
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

logger = logging.getLogger(__name__)

DELIVERY_NOTIFY = "documents.delivery.notify"  # internal: one batch of notifications
NOTIFY_SENT = "sent"
NOTIFY_REMIND = "remind"
NOTIFY_OVERDUE = "overdue"

ISSUER_SCOPE = ScopePaths(department="issuer")
SENDER_SCOPE = ScopePaths(department="sender")
DELIVERY_SENDER_SCOPE = ScopePaths(department="dispatch__sender")
RECIPIENT_SCOPE = ScopePaths(department="recipient")
GROUP_OWNER_SCOPE = ScopePaths(department="owner")

SENDABLE_STATES = (DocumentState.DISTRIBUTING, DocumentState.DISTRIBUTED)
LIVE_STATES = (DeliveryState.PENDING, DeliveryState.SIGNED, DeliveryState.REGISTERED)
MAX_SIGN_HOURS = 24 * 60
MAX_GROUP_MEMBERS = 20_000
INSERT_BATCH = 2_000
ID_CHUNK = 5_000  # ids per IN (...) list: below every database's parameter limit


def sign_within_default() -> int:
    return int(getattr(settings, "DOCUMENTS_SIGN_WITHIN_HOURS", 72))


def notify_batch_size() -> int:
    return max(1, int(getattr(settings, "DOCUMENTS_NOTIFY_BATCH", 200)))


def overdue_batch_size() -> int:
    return max(1, int(getattr(settings, "DOCUMENTS_OVERDUE_BATCH", 500)))


def _chunks(values: Sequence[int], size: int = ID_CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _clean_ids(values: Iterable[Any]) -> list[int]:
    ids: set[int] = set()
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number > 0:
            ids.add(number)
    return sorted(ids)


def _active_department_ids(ids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(
            Department.objects.filter(pk__in=chunk, is_active=True).values_list("pk", flat=True)
        )
    return found


# --------------------------------------------------------------------------- groups


def group_manageable(actor: Any, owner: Department | None) -> bool:
    """City-wide groups (no owner): GROUP_MANAGE; a department's own groups: NUMBER_SEAL
    over that department."""
    if owner is None:
        return has_permission(actor, p.GROUP_MANAGE)
    return can_access(actor, owner, p.NUMBER_SEAL, ScopePaths(department="", division="division"))


def _group_values(
    *, owner: Department | None, name: str, members: Sequence[int], group: RecipientGroup | None
) -> tuple[str, list[int]]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    member_ids = _clean_ids(members)
    if not name:
        errors["name"] = _("请填写分组名称")
    elif len(name) > 60:
        errors["name"] = _("分组名称不超过60个字")
    else:
        clash = RecipientGroup.objects.filter(owner=owner, name=name)
        if group is not None:
            clash = clash.exclude(pk=group.pk)
        if clash.exists():
            errors["name"] = _("已有同名分组")
    if not member_ids:
        errors["members"] = _("请至少选择一个单位")
    elif len(member_ids) > MAX_GROUP_MEMBERS:
        errors["members"] = _("分组单位过多")
    elif len(_active_department_ids(member_ids)) != len(member_ids):
        errors["members"] = _("所选单位不存在或已停用")
    if errors:
        raise ValidationError(errors)
    return name, member_ids


def _set_members(group: RecipientGroup, member_ids: list[int]) -> None:
    through = RecipientGroup.members.through
    through.objects.filter(recipientgroup_id=group.pk).delete()
    through.objects.bulk_create(
        [through(recipientgroup_id=group.pk, department_id=pk) for pk in member_ids],
        batch_size=INSERT_BATCH,
    )


def group_create(
    *, actor: User, owner: Department | None, name: str, members: Sequence[int]
) -> RecipientGroup:
    """A saved group: city-wide (``owner`` None, GROUP_MANAGE) or a department's own."""
    if not group_manageable(actor, owner):
        deny(actor, p.GROUP_MANAGE if owner is None else p.NUMBER_SEAL, target=owner)
    name, member_ids = _group_values(owner=owner, name=name, members=members, group=None)
    with transaction.atomic():
        group = RecipientGroup.objects.create(owner=owner, name=name, created_by=actor)
        _set_members(group, member_ids)
        audit_record(
            action="documents.group.create",
            actor=actor,
            target=group,
            detail={"owner": owner.code if owner else "", "members": member_ids},
        )
    return group


def group_update(
    *, actor: User, group: RecipientGroup, name: str, members: Sequence[int]
) -> RecipientGroup:
    if not group_manageable(actor, group.owner):
        deny(actor, p.GROUP_MANAGE if group.owner is None else p.NUMBER_SEAL, target=group)
    name, member_ids = _group_values(owner=group.owner, name=name, members=members, group=group)
    with transaction.atomic():
        locked = RecipientGroup.objects.select_for_update().get(pk=group.pk)
        locked.name = name
        locked.save(update_fields=["name"])
        _set_members(locked, member_ids)
        audit_record(
            action="documents.group.update",
            actor=actor,
            target=locked,
            detail={"name": name, "members": member_ids},
        )
    return locked


def group_delete(*, actor: User, group: RecipientGroup) -> None:
    if not group_manageable(actor, group.owner):
        deny(actor, p.GROUP_MANAGE if group.owner is None else p.NUMBER_SEAL, target=group)
    with transaction.atomic():
        audit_record(
            action="documents.group.delete",
            actor=actor,
            target=group,
            detail={"name": group.name, "owner": group.owner_id},
        )
        group.delete()


# --------------------------------------------------------------------------- sending


def groups_usable_by(sender: Department) -> Any:
    """The groups a sender may use: city-wide ones and the sender's own."""
    return RecipientGroup.objects.filter(Q(owner__isnull=True) | Q(owner=sender))


def recipients_resolve(
    *, document: Document, recipients: Sequence[Any], groups: Sequence[Any]
) -> tuple[list[int], dict[str, str]]:
    """The department ids a send would reach — the union of the picked units and the
    groups' members, active only, minus the sender and the units that already hold a live
    (not returned, not recalled) delivery of the document — and the errors found."""
    errors: dict[str, str] = {}
    unit_ids = _clean_ids(recipients)
    group_ids = _clean_ids(groups)
    chosen: set[int] = set()
    if unit_ids:
        active = _active_department_ids(unit_ids)
        if len(active) != len(unit_ids):
            errors["recipients"] = _("所选单位不存在或已停用")
        chosen |= active
    if group_ids:
        usable = set(
            groups_usable_by(document.issuer).filter(pk__in=group_ids).values_list("pk", flat=True)
        )
        if len(usable) != len(group_ids):
            errors["groups"] = _("所选分组不存在或不可使用")
        through = RecipientGroup.members.through
        chosen.update(
            through.objects.filter(
                recipientgroup_id__in=usable, department__is_active=True
            ).values_list("department_id", flat=True)
        )
    chosen.discard(document.issuer_id)
    held = set(
        Delivery.objects.filter(document=document, state__in=LIVE_STATES).values_list(
            "recipient_id", flat=True
        )
    )
    return sorted(chosen - held), errors


def _insert_deliveries(
    dispatch: Dispatch, recipient_ids: list[int], *, delivered_at: dt.datetime, due_at: dt.datetime
) -> None:
    """One pending Delivery per recipient. On PostgreSQL a single ``INSERT … SELECT
    unnest(array)`` (one statement, three parameters, whatever the count: 10,000 rows in a
    fraction of ``bulk_create``'s time); elsewhere ``bulk_create`` in batches."""
    if connection.vendor != "postgresql":
        Delivery.objects.bulk_create(
            [
                Delivery(
                    dispatch=dispatch,
                    document_id=dispatch.document_id,
                    recipient_id=pk,
                    delivered_at=delivered_at,
                    due_at=due_at,
                )
                for pk in recipient_ids
            ],
            batch_size=INSERT_BATCH,
        )
        return
    meta = Delivery._meta
    fields = [meta.get_field(name) for name in _INSERT_FIELDS]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(str(getattr(field, "column", ""))) for field in fields
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names from the model, values bound
            "SELECT %s, %s, r, %s, %s, %s, '', 0 FROM unnest(%s::bigint[]) AS r",
            [
                dispatch.pk,
                dispatch.document_id,
                DeliveryState.PENDING.value,
                delivered_at,
                due_at,
                list(recipient_ids),
            ],
        )


_INSERT_FIELDS = (
    "dispatch",
    "document",
    "recipient",
    "state",
    "delivered_at",
    "due_at",
    "return_reason",
    "reminder_count",
)


def document_send(
    *,
    actor: User,
    document: Document,
    recipients: Sequence[int],
    groups: Sequence[int],
    message: str = "",
    sign_within_hours: int | None = None,
) -> Dispatch:
    """Send a sealed document to units picked one by one and through saved groups.

    NUMBER_SEAL over the issuing department. One ``Dispatch``, one ``Delivery`` per unit
    (bulk insert), the 分发 step completed, one ``documents.dispatch.sent`` published: the
    handler queues the notifications. Units already holding a live copy are skipped; a
    send that would reach nobody is refused."""
    if not can_access(actor, document, p.NUMBER_SEAL, ISSUER_SCOPE):
        deny(actor, p.NUMBER_SEAL, target=document)
    hours = sign_within_default() if sign_within_hours is None else sign_within_hours
    message = (message or "").strip()
    errors: dict[str, str] = {}
    if document.state not in SENDABLE_STATES:
        errors["document"] = _("只有已用印的公文可以分发")
    elif document.sealed_pdf_id is None:
        errors["document"] = _("公文尚未用印，不能分发")
    if not isinstance(hours, int) or not 1 <= hours <= MAX_SIGN_HOURS:
        errors["sign_within_hours"] = _("签收时限应在1到%(max)s小时之间") % {"max": MAX_SIGN_HOURS}
    if len(message) > 500:
        errors["message"] = _("附言不超过500个字")
    resolved, pick_errors = recipients_resolve(
        document=document, recipients=recipients, groups=groups
    )
    errors.update(pick_errors)
    if not errors and not resolved:
        errors["recipients"] = (
            _("请选择接收单位")
            if not _clean_ids(recipients) and not _clean_ids(groups)
            else _("所选单位均已收到本公文，无需重复分发")
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # one send at a time per document: the "already holds a copy" set stays true
        locked = Document.objects.select_for_update().get(pk=document.pk)
        if locked.state not in SENDABLE_STATES:
            raise ValidationError({"document": _("只有已用印的公文可以分发")})
        held = set(
            Delivery.objects.filter(document=locked, state__in=LIVE_STATES).values_list(
                "recipient_id", flat=True
            )
        )
        targets = [pk for pk in resolved if pk not in held]
        if not targets:
            raise ValidationError({"recipients": _("所选单位均已收到本公文，无需重复分发")})
        now = timezone.now()
        due = now + dt.timedelta(hours=hours)
        dispatch = Dispatch.objects.create(
            document=locked,
            sender_id=locked.issuer_id,
            sent_by=actor,
            sent_at=now,
            message=message,
            sign_within_hours=hours,
            recipient_count=len(targets),
        )
        _insert_deliveries(dispatch, targets, delivered_at=now, due_at=due)
        drafting.distribution_complete(actor=actor, document=locked)
        audit_record(
            action="documents.dispatch.send",
            actor=actor,
            target=dispatch,
            detail={
                "document": str(locked.public_id),
                "number": locked.number,
                "recipients": targets,
                "groups": _clean_ids(groups),
                "sign_within_hours": hours,
            },
        )
        event_publish(
            events.DISPATCH_SENT,
            {
                "dispatch": dispatch.pk,
                "document": str(locked.public_id),
                "sender": document.issuer.code,
                "recipients": len(targets),
            },
            actor=actor,
        )
    document.state = locked.state
    return dispatch


def notify_publish(delivery_ids: Sequence[int], *, reason: str, actor: Any = None) -> int:
    """Publish one ``documents.delivery.notify`` per batch of deliveries (in the caller's
    transaction); the handler writes the messages. Returns the batches."""
    size = notify_batch_size()
    ids = list(delivery_ids)
    batches = 0
    for start in range(0, len(ids), size):
        event_publish(
            DELIVERY_NOTIFY,
            {"reason": reason, "deliveries": ids[start : start + size]},
            actor=actor,
        )
        batches += 1
    return batches


# --------------------------------------------------------------------------- sender actions


def _require_sender(actor: User, delivery: Delivery) -> None:
    if not can_access(actor, delivery, p.NUMBER_SEAL, DELIVERY_SENDER_SCOPE):
        deny(actor, p.NUMBER_SEAL, target=delivery)


def delivery_recall(*, actor: User, delivery: Delivery, reason: str = "") -> Delivery:
    """The sender takes a copy back before the unit signed for it."""
    _require_sender(actor, delivery)
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state != DeliveryState.PENDING:
            raise ValidationError({"delivery": _("只有待签收的公文可以撤回")})
        locked.state = DeliveryState.RECALLED
        locked.recalled_at = timezone.now()
        locked.save(update_fields=["state", "recalled_at"])
        audit_record(
            action="documents.delivery.recall",
            actor=actor,
            target=locked,
            detail={
                "dispatch": locked.dispatch_id,
                "recipient": locked.recipient_id,
                "reason": reason,
            },
        )
    return locked


def dispatch_remind(*, actor: User, dispatch: Dispatch, delivery: Delivery | None = None) -> int:
    """Remind the units that have not signed (all of the dispatch, or one): each
    delivery's ``reminder_count`` goes up; the messages are queued. Returns how many."""
    if not can_access(actor, dispatch, p.NUMBER_SEAL, SENDER_SCOPE):
        deny(actor, p.NUMBER_SEAL, target=dispatch)
    if delivery is not None and delivery.dispatch_id != dispatch.pk:
        raise ValidationError({"delivery": _("该单位不在本次分发中")})
    pending = Delivery.objects.filter(dispatch=dispatch, state=DeliveryState.PENDING)
    if delivery is not None:
        pending = pending.filter(pk=delivery.pk)
    with transaction.atomic():
        ids = list(pending.select_for_update().values_list("pk", flat=True))
        if not ids:
            raise ValidationError({"delivery": _("没有待签收的单位需要催办")})
        now = timezone.now()
        for chunk in _chunks(ids):
            Delivery.objects.filter(pk__in=chunk).update(
                reminder_count=F("reminder_count") + 1, last_reminded_at=now
            )
        audit_record(
            action="documents.dispatch.remind",
            actor=actor,
            target=dispatch,
            detail={"deliveries": ids},
        )
        notify_publish(ids, reason=NOTIFY_REMIND, actor=actor)
    return len(ids)


# --------------------------------------------------------------------------- receiving unit


def _require_recipient(actor: User, delivery: Delivery) -> None:
    if not can_access(actor, delivery, p.RECEIVE, RECIPIENT_SCOPE):
        deny(actor, p.RECEIVE, target=delivery)


def delivery_open(*, actor: User, delivery: Delivery) -> Delivery:
    """The receiving unit opens its copy: the first opening is recorded (and audited)."""
    _require_recipient(actor, delivery)
    if delivery.read_at is not None or delivery.state == DeliveryState.RECALLED:
        return delivery
    now = timezone.now()
    with transaction.atomic():
        marked = Delivery.objects.filter(pk=delivery.pk, read_at__isnull=True).update(
            read_at=now, read_by=actor
        )
        if marked:
            audit_record(action="documents.delivery.read", actor=actor, target=delivery)
    delivery.refresh_from_db()
    return delivery


def delivery_sign(*, actor: User, delivery: Delivery) -> Delivery:
    """签收: the time and the person are recorded; only a pending copy."""
    _require_recipient(actor, delivery)
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state != DeliveryState.PENDING:
            raise ValidationError({"delivery": _("该公文不是待签收状态，不能签收")})
        now = timezone.now()
        locked.state = DeliveryState.SIGNED
        locked.signed_at = now
        locked.signed_by = actor
        fields = ["state", "signed_at", "signed_by"]
        if locked.read_at is None:
            locked.read_at, locked.read_by = now, actor
            fields += ["read_at", "read_by"]
        locked.save(update_fields=fields)
        audit_record(
            action="documents.delivery.sign",
            actor=actor,
            target=locked,
            detail={"dispatch": locked.dispatch_id, "document": locked.document_id},
        )
    return locked


def delivery_return(*, actor: User, delivery: Delivery, reason: str) -> Delivery:
    """退回 with a reason (the 退文告知单); only a pending copy. The sender is told."""
    _require_recipient(actor, delivery)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写退文理由")})
    if len(reason) > 2000:
        raise ValidationError({"reason": _("退文理由不超过2000个字")})
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state != DeliveryState.PENDING:
            raise ValidationError({"delivery": _("该公文不是待签收状态，不能退回")})
        now = timezone.now()
        locked.state = DeliveryState.RETURNED
        locked.returned_at = now
        locked.returned_by = actor
        locked.return_reason = reason
        fields = ["state", "returned_at", "returned_by", "return_reason"]
        if locked.read_at is None:
            locked.read_at, locked.read_by = now, actor
            fields += ["read_at", "read_by"]
        locked.save(update_fields=fields)
        audit_record(
            action="documents.delivery.return",
            actor=actor,
            target=locked,
            detail={"dispatch": locked.dispatch_id, "reason": reason},
        )
        from tongban.apps.documents.handlers import notify_sender_returned

        notify_sender_returned(locked, actor=actor)
    return locked


def delivery_mark_registered(*, delivery: Delivery, actor: Any = None) -> Delivery:
    """For the receiving side's 登记 (inside its transaction): a signed copy becomes
    REGISTERED with ``registered_at``. Raises ``ValidationError`` otherwise."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.state != DeliveryState.SIGNED:
            raise ValidationError({"delivery": _("只有已签收的来文可以登记")})
        locked.state = DeliveryState.REGISTERED
        locked.registered_at = timezone.now()
        locked.save(update_fields=["state", "registered_at"])
        audit_record(action="documents.delivery.register", actor=actor, target=locked)
    delivery.state, delivery.registered_at = locked.state, locked.registered_at
    return locked


# --------------------------------------------------------------------------- the job


def deliveries_remind_overdue(*, now: dt.datetime | None = None, batch: int | None = None) -> int:
    """Pending deliveries past ``due_at`` and not yet reported: each is claimed with a
    conditional UPDATE (``overdue_reported_at`` still empty), reminded once and reported
    once (``documents.delivery.overdue``), so concurrent workers never do one twice."""
    now = now or timezone.now()
    limit = batch or overdue_batch_size()
    candidates = list(
        Delivery.objects.filter(
            state=DeliveryState.PENDING, due_at__lt=now, overdue_reported_at__isnull=True
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not candidates:
        return 0
    with transaction.atomic():
        claimed: list[int] = []
        for chunk in _chunks(candidates):
            rows = list(
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(
                    pk__in=chunk,
                    state=DeliveryState.PENDING,
                    overdue_reported_at__isnull=True,
                )
                .values_list("pk", flat=True)
            )
            claimed.extend(rows)
        if not claimed:
            return 0
        for chunk in _chunks(claimed):
            Delivery.objects.filter(pk__in=chunk).update(
                overdue_reported_at=now,
                reminder_count=F("reminder_count") + 1,
                last_reminded_at=now,
            )
        deliveries = Delivery.objects.filter(pk__in=claimed).select_related(
            "document", "recipient", "dispatch__sender"
        )
        for delivery in deliveries:
            document = delivery.document
            event_publish(
                events.DELIVERY_OVERDUE,
                {
                    "delivery": delivery.pk,
                    "dispatch": delivery.dispatch_id,
                    "document": str(document.public_id),
                    "number": document.number,
                    "title": document.title,
                    "sender": delivery.dispatch.sender.code,
                    "recipient": delivery.recipient.code,
                    "delivered_at": delivery.delivered_at.isoformat(),
                    "due_at": delivery.due_at.isoformat(),
                },
            )
        audit_record(
            action="documents.delivery.overdue",
            detail={"deliveries": claimed, "at": now.isoformat()},
        )
        notify_publish(claimed, reason=NOTIFY_OVERDUE)
    return len(claimed)
