"""收文办理: every write of the receiving side.

登记 (``receipt_register`` from a signed delivery, ``receipt_register_paper`` for a paper
document) → 拟办 (``receipt_propose``, HANDLE) → 批办 (``receipt_instruct``, INSTRUCT, with
the deadline and the people to act or read) → 传阅 (``receipt_circulate``) / 承办
(``receipt_assign``) → each person's ``receipt_task_done`` → 办结 (``receipt_close``).
Archiving a closed receipt is ``archive.receipt_archive``.

Everything here belongs to the receiving department: the permission is checked over the
receipt's department before any transaction opens, the people a receipt is circulated or
assigned to must hold a posting in that department, and every change is audited.
收文编号 is gapless per department and year: registering locks the department's row, so two
registrations wait for each other and a rolled-back one gives its number back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import archive, exchange
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Classification,
    Delivery,
    DeliveryState,
    Receipt,
    ReceiptState,
    ReceiptTask,
    ReceiptTaskKind,
    Urgency,
)
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.access.services import ScopePaths, can_access, deny
from tongban.platform.audit.services import audit_record
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

NOTIFY_CATEGORY = "documents"
RECEIPT_SCOPE = ScopePaths(department="department")
DELIVERY_SCOPE = ScopePaths(department="recipient")
DEPARTMENT_SCOPE = ScopePaths(department="", division="division")
OPEN_STATES = (
    ReceiptState.REGISTERED,
    ReceiptState.PROPOSED,
    ReceiptState.INSTRUCTED,
    ReceiptState.HANDLING,
)
TEXT_MAX = 4000


# --------------------------------------------------------------------------- helpers


def receipt_number(receipt: Receipt) -> str:
    """收文编号 as shown: 收〔2026〕12号."""
    return _("收〔%(year)s〕%(serial)s号") % {"year": receipt.year, "serial": receipt.serial}


def department_users(department_ids: Iterable[int], permission: str) -> list[User]:
    """Active users holding ``permission`` through a role anchored in one of the
    departments (department scope)."""
    from tongban.platform.accounts.models import User

    ids = list(department_ids)
    now = timezone.now()
    user_ids = (
        RoleAssignment.objects.filter(
            role__permissions__code=permission,
            user__is_active=True,
            department_id__in=ids,
            scope__in=(Scope.DEPARTMENT, Scope.DEPARTMENT_TREE),
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .values_list("user_id", flat=True)
    )
    return list(User.objects.filter(pk__in=set(user_ids)).order_by("pk"))


def colleagues(department: Department) -> list[User]:
    """Active staff holding a posting in a unit of ``department`` (whom a receipt may be
    circulated or assigned to)."""
    from tongban.platform.accounts.models import User

    return list(
        User.objects.filter(is_active=True, postings__unit__department=department)
        .distinct()
        .order_by("display_name", "pk")
    )


def _notify(users: Sequence[Any], *, subject: str, body: str, link: str, actor: Any) -> None:
    if users:
        notify_send(
            recipients=users,
            template_code="documents.receipt",
            context={"subject": subject, "body": body},
            category=NOTIFY_CATEGORY,
            link=link,
            actor=actor,
        )


def _link(receipt: Receipt) -> str:
    return reverse("documents:receipt_detail", kwargs={"receipt_id": receipt.pk})


def _require_over(actor: Any, permission: str, receipt: Receipt) -> None:
    if not can_access(actor, receipt, permission, RECEIPT_SCOPE):
        deny(actor, permission, target=receipt)


def _clean(text: str, *, field: str, label: str, required: bool = True) -> str:
    value = (text or "").strip()
    if required and not value:
        raise ValidationError({field: _("请填写%(label)s") % {"label": label}})
    if len(value) > TEXT_MAX:
        raise ValidationError(
            {field: _("%(label)s不能超过%(n)s字") % {"label": label, "n": TEXT_MAX}}
        )
    return value


def _deadline(value: dt.date | None, *, required: bool) -> dt.date | None:
    if value is None:
        if required:
            raise ValidationError({"deadline": _("请填写办理期限")})
        return None
    if value < timezone.localdate():
        raise ValidationError({"deadline": _("办理期限不能早于今天")})
    return value


def _people(department: Department, user_ids: Iterable[int], *, field: str) -> list[User]:
    ids = set(user_ids)
    if not ids:
        return []
    found = [user for user in colleagues(department) if user.pk in ids]
    if len(found) != len(ids):
        raise ValidationError({field: _("只能选择本部门的工作人员")})
    return found


def _next_serial(department: Department, year: int) -> int:
    """Inside the caller's transaction: lock the department's row, then the next 收文编号."""
    Department.objects.select_for_update().filter(pk=department.pk).first()
    last = Receipt.objects.filter(department=department, year=year).aggregate(Max("serial"))[
        "serial__max"
    ]
    return (last or 0) + 1


def _tasks_create(
    receipt: Receipt,
    *,
    actor: Any,
    kind: str,
    people: Sequence[Any],
    deadline: dt.date | None,
    now: dt.datetime,
) -> list[ReceiptTask]:
    """New 传阅/承办 tasks for the people who do not hold an open one of that kind yet
    (a finished one is reopened)."""
    existing = {
        task.assignee_id: task
        for task in ReceiptTask.objects.select_for_update().filter(receipt=receipt, kind=kind)
    }
    created: list[ReceiptTask] = []
    for person in people:
        task = existing.get(person.pk)
        if task is None:
            task = ReceiptTask(
                receipt=receipt,
                kind=kind,
                assignee=person,
                assigned_by=actor,
                assigned_at=now,
                deadline=deadline,
            )
        elif task.done_at is not None:
            task.done_at = None
            task.assigned_by = actor
            task.assigned_at = now
            task.deadline = deadline
        else:
            continue
        task.save()
        created.append(task)
    return created


def _notify_tasks(receipt: Receipt, tasks: Sequence[ReceiptTask], *, actor: Any) -> None:
    for kind, label in ((ReceiptTaskKind.READ, _("传阅")), (ReceiptTaskKind.ACT, _("承办"))):
        users = [task.assignee for task in tasks if task.kind == kind]
        fields = {"kind": label, "number": receipt_number(receipt), "title": receipt.title}
        _notify(
            users,
            subject=_("收文%(kind)s：%(title)s") % fields,
            body=_("请%(kind)s收文%(number)s《%(title)s》。") % fields,
            link=_link(receipt),
            actor=actor,
        )


def _locked(receipt: Receipt, states: Sequence[str]) -> Receipt:
    """The receipt's row, locked, if it is still in one of ``states``."""
    fresh = Receipt.objects.select_for_update().get(pk=receipt.pk)
    if fresh.state not in states:
        raise ValidationError(
            _("收文当前状态为“%(state)s”，不能办理此操作") % {"state": fresh.get_state_display()}
        )
    return fresh


# --------------------------------------------------------------------------- 登记


def receipt_register(*, actor: Any, delivery: Delivery) -> Receipt:
    """登记 a signed delivery into the receiving department's own flow."""
    if not can_access(actor, delivery, p.RECEIVE, DELIVERY_SCOPE):
        deny(actor, p.RECEIVE, target=delivery)
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update()
            .select_related("document", "document__issuer", "recipient")
            .get(pk=delivery.pk)
        )
        if locked.state != DeliveryState.SIGNED:
            raise ValidationError(_("只有已签收且未登记的来文才能登记"))
        document = locked.document
        year = timezone.localdate(now).year
        receipt = Receipt.objects.create(
            department=locked.recipient,
            delivery=locked,
            year=year,
            serial=_next_serial(locked.recipient, year),
            source=(document.signature or document.issuer.name)[:100],
            source_number=document.number,
            title=document.title,
            urgency=document.urgency,
            classification=document.classification,
            registered_by=actor,
            registered_at=now,
            file=document.sealed_pdf,
        )
        exchange.delivery_mark_registered(delivery=locked, actor=actor)
        archive.receipt_index(receipt=receipt)
        audit_record(
            action="documents.receipt.register",
            actor=actor,
            target=receipt,
            detail={
                "number": receipt_number(receipt),
                "delivery": locked.pk,
                "document": str(document.public_id),
            },
        )
    return receipt


def receipt_register_paper(
    *,
    actor: Any,
    department: Department,
    source: str,
    source_number: str,
    title: str,
    urgency: str = "",
    classification: str = "",
    file: Any = None,
) -> Receipt:
    """登记 a paper document (or one received outside the exchange) by hand."""
    if not can_access(actor, department, p.RECEIVE, DEPARTMENT_SCOPE):
        deny(actor, p.RECEIVE, target=department)
    errors: dict[str, str] = {}
    source = (source or "").strip()
    source_number = (source_number or "").strip()
    title = (title or "").strip()
    if not source:
        errors["source"] = _("请填写来文单位")
    elif len(source) > 100:
        errors["source"] = _("来文单位不能超过100字")
    if len(source_number) > 60:
        errors["source_number"] = _("来文字号不能超过60字")
    if not title:
        errors["title"] = _("请填写标题")
    elif len(title) > 200:
        errors["title"] = _("标题不能超过200字")
    if urgency not in Urgency.values:
        errors["urgency"] = _("请选择紧急程度")
    if classification not in Classification.values:
        errors["classification"] = _("请选择密级")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        year = timezone.localdate(now).year
        receipt = Receipt.objects.create(
            department=department,
            year=year,
            serial=_next_serial(department, year),
            source=source,
            source_number=source_number,
            title=title,
            urgency=urgency,
            classification=classification,
            registered_by=actor,
            registered_at=now,
            file=file,
        )
        archive.receipt_index(receipt=receipt)
        audit_record(
            action="documents.receipt.register",
            actor=actor,
            target=receipt,
            detail={"number": receipt_number(receipt), "paper": True},
        )
    return receipt


# --------------------------------------------------------------------------- 拟办、批办


def receipt_propose(*, actor: Any, receipt: Receipt, proposal: str) -> Receipt:
    """拟办: the office's proposed handling, for the leader's 批办."""
    _require_over(actor, p.HANDLE, receipt)
    proposal = _clean(proposal, field="proposal", label=_("拟办意见"))
    with transaction.atomic():
        fresh = _locked(receipt, (ReceiptState.REGISTERED, ReceiptState.PROPOSED))
        fresh.proposal = proposal
        fresh.proposed_by = actor
        fresh.proposed_at = timezone.now()
        fresh.state = ReceiptState.PROPOSED
        fresh.save(update_fields=["proposal", "proposed_by", "proposed_at", "state"])
        audit_record(
            action="documents.receipt.propose",
            actor=actor,
            target=fresh,
            detail={"number": receipt_number(fresh)},
        )
        leaders = department_users([fresh.department_id], p.INSTRUCT)
        fields = {"number": receipt_number(fresh), "title": fresh.title}
        _notify(
            [user for user in leaders if user.pk != actor.pk],
            subject=_("收文待批办：%(title)s") % fields,
            body=_("收文%(number)s《%(title)s》已拟办，请批示。") % fields,
            link=_link(fresh),
            actor=actor,
        )
    return fresh


def receipt_instruct(
    *,
    actor: Any,
    receipt: Receipt,
    instruction: str,
    deadline: dt.date | None = None,
    handlers: Sequence[int] = (),
    readers: Sequence[int] = (),
) -> Receipt:
    """批办: the leader's instruction, the deadline, and who acts (承办) or reads (传阅)."""
    _require_over(actor, p.INSTRUCT, receipt)
    instruction = _clean(instruction, field="instruction", label=_("批办意见"))
    deadline = _deadline(deadline, required=bool(handlers))
    acting = _people(receipt.department, handlers, field="handlers")
    reading = _people(receipt.department, readers, field="readers")
    now = timezone.now()
    with transaction.atomic():
        fresh = _locked(receipt, (ReceiptState.REGISTERED, ReceiptState.PROPOSED))
        fresh.instruction = instruction
        fresh.instructed_by = actor
        fresh.instructed_at = now
        fresh.deadline = deadline
        tasks = _tasks_create(
            fresh, actor=actor, kind=ReceiptTaskKind.ACT, people=acting, deadline=deadline, now=now
        ) + _tasks_create(
            fresh,
            actor=actor,
            kind=ReceiptTaskKind.READ,
            people=reading,
            deadline=deadline,
            now=now,
        )
        fresh.state = ReceiptState.HANDLING if tasks else ReceiptState.INSTRUCTED
        fresh.save(
            update_fields=["instruction", "instructed_by", "instructed_at", "deadline", "state"]
        )
        audit_record(
            action="documents.receipt.instruct",
            actor=actor,
            target=fresh,
            detail={
                "number": receipt_number(fresh),
                "deadline": deadline.isoformat() if deadline else None,
                "handlers": [user.pk for user in acting],
                "readers": [user.pk for user in reading],
            },
        )
        _notify_tasks(fresh, tasks, actor=actor)
    return fresh


# --------------------------------------------------------------------------- 传阅、承办


def receipt_circulate(*, actor: Any, receipt: Receipt, readers: Sequence[int]) -> Receipt:
    """传阅 to colleagues of the same department (each reads and may comment)."""
    _require_over(actor, p.HANDLE, receipt)
    if not readers:
        raise ValidationError({"readers": _("请选择传阅人员")})
    people = _people(receipt.department, readers, field="readers")
    return _assign(actor, receipt, kind=ReceiptTaskKind.READ, people=people, deadline=None)


def receipt_assign(
    *, actor: Any, receipt: Receipt, handlers: Sequence[int], deadline: dt.date | None
) -> Receipt:
    """承办: colleagues of the same department act on the receipt by the deadline."""
    _require_over(actor, p.HANDLE, receipt)
    if not handlers:
        raise ValidationError({"handlers": _("请选择承办人员")})
    checked = _deadline(deadline or receipt.deadline, required=True)
    people = _people(receipt.department, handlers, field="handlers")
    return _assign(actor, receipt, kind=ReceiptTaskKind.ACT, people=people, deadline=checked)


def _assign(
    actor: Any, receipt: Receipt, *, kind: str, people: list[Any], deadline: dt.date | None
) -> Receipt:
    now = timezone.now()
    with transaction.atomic():
        fresh = _locked(receipt, (ReceiptState.INSTRUCTED, ReceiptState.HANDLING))
        tasks = _tasks_create(
            fresh, actor=actor, kind=kind, people=people, deadline=deadline, now=now
        )
        if not tasks:
            raise ValidationError(_("所选人员已在办理中"))
        fresh.state = ReceiptState.HANDLING
        fresh.save(update_fields=["state"])
        audit_record(
            action="documents.receipt.circulate"
            if kind == ReceiptTaskKind.READ
            else "documents.receipt.assign",
            actor=actor,
            target=fresh,
            detail={
                "number": receipt_number(fresh),
                "people": [task.assignee_id for task in tasks],
                "deadline": deadline.isoformat() if deadline else None,
            },
        )
        _notify_tasks(fresh, tasks, actor=actor)
    return fresh


def receipt_task_done(*, actor: Any, task: ReceiptTask, comment: str) -> ReceiptTask:
    """The assignee finishes a 传阅 (read, optional comment) or 承办 (result required)."""
    if task.assignee_id != getattr(actor, "pk", None):
        deny(actor, p.HANDLE, target=task.receipt)
    comment = _clean(
        comment,
        field="comment",
        label=_("办理结果"),
        required=task.kind == ReceiptTaskKind.ACT,
    )
    with transaction.atomic():
        fresh = ReceiptTask.objects.select_for_update().select_related("receipt").get(pk=task.pk)
        if fresh.done_at is not None:
            raise ValidationError(_("该事项已办理完毕"))
        if fresh.receipt.state not in OPEN_STATES:
            raise ValidationError(_("收文已办结，不能再办理"))
        fresh.done_at = timezone.now()
        fresh.comment = comment
        fresh.save(update_fields=["done_at", "comment"])
        audit_record(
            action="documents.receipt.task_done",
            actor=actor,
            target=fresh.receipt,
            detail={"task": fresh.pk, "kind": fresh.kind},
        )
    return fresh


# --------------------------------------------------------------------------- 办结


def receipt_close(*, actor: Any, receipt: Receipt, result: str) -> Receipt:
    """办结 with the result; every 承办 must be finished (传阅 need not be)."""
    _require_over(actor, p.HANDLE, receipt)
    result = _clean(result, field="result", label=_("办理结果"))
    with transaction.atomic():
        fresh = _locked(receipt, OPEN_STATES)
        if fresh.state in (ReceiptState.REGISTERED, ReceiptState.PROPOSED):
            raise ValidationError(_("收文尚未批办，不能办结"))
        pending = ReceiptTask.objects.filter(
            receipt=fresh, kind=ReceiptTaskKind.ACT, done_at__isnull=True
        ).count()
        if pending:
            raise ValidationError(_("还有%(n)s项承办未完成，不能办结") % {"n": pending})
        fresh.result = result
        fresh.closed_by = actor
        fresh.closed_at = timezone.now()
        fresh.state = ReceiptState.CLOSED
        fresh.save(update_fields=["result", "closed_by", "closed_at", "state"])
        audit_record(
            action="documents.receipt.close",
            actor=actor,
            target=fresh,
            detail={"number": receipt_number(fresh)},
        )
    return fresh
