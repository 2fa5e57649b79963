"""督查督办: supervised tasks from a document, a receipt or a meeting decision.

``task_create`` (TASK_SUPERVISE over the supervising department; number ``DB<year>-<serial>``),
``task_report`` (TASK_REPORT over an owner department: progress, percentage, 申请办结),
``task_remind`` / ``task_close`` / ``task_cancel`` (the supervisor), and the periodic
``tasks_sweep``: owners that have not finished are reminded once when the deadline is
``TONGBAN_DOCUMENTS_TASK_REMIND_DAYS`` (3) days away or nearer; a task past its deadline
turns OVERDUE, gets ``escalated_at`` and publishes ``documents.task.overdue`` once (the
supervision app opens an alert for each unfinished owner). Closing publishes
``documents.task.done``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import events
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Delivery,
    Document,
    ProgressReport,
    Receipt,
    SupervisedTask,
    SupervisedTaskState,
    TaskOwner,
)
from tongban.apps.documents.receiving import DEPARTMENT_SCOPE, RECEIPT_SCOPE, department_users
from tongban.platform.access.services import ScopePaths, can_access, deny, scope_queryset
from tongban.platform.audit.services import audit_record
from tongban.platform.events.services import event_publish
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department

logger = logging.getLogger(__name__)

NOTIFY_CATEGORY = "documents"
SUPERVISOR_SCOPE = ScopePaths(department="supervisor")
OWNER_SCOPE = ScopePaths(department="department")
LIVE_STATES = (SupervisedTaskState.OPEN, SupervisedTaskState.OVERDUE)
MAX_OWNERS = 200
TEXT_MAX = 4000


def remind_days() -> int:
    return int(getattr(settings, "TONGBAN_DOCUMENTS_TASK_REMIND_DAYS", 3))


def _link(task: SupervisedTask) -> str:
    return reverse("documents:task_detail", kwargs={"task_id": task.pk})


def _notify(
    department_ids: Sequence[int],
    permission: str,
    *,
    subject: str,
    body: str,
    link: str,
    actor: Any = None,
) -> int:
    users = department_users(department_ids, permission)
    if users:
        notify_send(
            recipients=users,
            template_code="documents.task",
            context={"subject": subject, "body": body},
            category=NOTIFY_CATEGORY,
            link=link,
            actor=actor,
        )
    return len(users)


def supervising_departments(actor: Any) -> list[Department]:
    """The departments the actor may supervise for, their own posting's first."""
    scoped = list(
        scope_queryset(
            actor,
            Department.objects.filter(is_active=True).order_by("code"),
            p.TASK_SUPERVISE,
            DEPARTMENT_SCOPE,
        )
    )
    own = set(
        actor.postings.values_list("unit__department_id", flat=True)
        if getattr(actor, "is_authenticated", False)
        else []
    )
    return sorted(scoped, key=lambda department: (department.pk not in own, department.code))


def _require_supervisor(actor: Any, task: SupervisedTask) -> None:
    if not can_access(actor, task, p.TASK_SUPERVISE, SUPERVISOR_SCOPE):
        deny(actor, p.TASK_SUPERVISE, target=task)


def _source_visible(actor: Any, *, document: Document | None, receipt: Receipt | None) -> bool:
    if receipt is not None:
        return any(
            can_access(actor, receipt, code, RECEIPT_SCOPE)
            for code in (p.RECEIVE, p.HANDLE, p.INSTRUCT)
        )
    if document is None:
        return True
    if can_access(actor, document, p.VIEW, ScopePaths(department="issuer")):
        return True
    return scope_queryset(
        actor,
        Delivery.objects.filter(document=document),
        p.RECEIVE,
        ScopePaths(department="recipient"),
    ).exists()


def _next_number(year: int) -> str:
    prefix = f"DB{year}-"
    numbers = SupervisedTask.objects.filter(number__startswith=prefix).values_list(
        "number", flat=True
    )
    last = max(
        (int(number[len(prefix) :]) for number in numbers if number[len(prefix) :].isdigit()),
        default=0,
    )
    return f"{prefix}{last + 1:04d}"


def task_create(
    *,
    actor: Any,
    title: str,
    requirement: str,
    deadline: dt.date | None,
    owners: Sequence[int],
    lead_owner: int | None,
    source_document: Document | None = None,
    source_receipt: Receipt | None = None,
    meeting: str = "",
    supervisor: Department | None = None,
) -> SupervisedTask:
    """立项 a supervised task: its owner units (one 牵头), deadline and source."""
    choices = supervising_departments(actor)
    if supervisor is None:
        supervisor = choices[0] if choices else None
    if supervisor is None or supervisor.pk not in {d.pk for d in choices}:
        deny(actor, p.TASK_SUPERVISE, target=supervisor)
    assert supervisor is not None
    errors: dict[str, str] = {}
    title = (title or "").strip()
    requirement = (requirement or "").strip()
    meeting = (meeting or "").strip()
    if not title:
        errors["title"] = _("请填写督办事项")
    elif len(title) > 200:
        errors["title"] = _("督办事项不能超过200字")
    if len(requirement) > TEXT_MAX:
        errors["requirement"] = _("办理要求不能超过%(n)s字") % {"n": TEXT_MAX}
    if deadline is None:
        errors["deadline"] = _("请填写办结时限")
    elif deadline < timezone.localdate():
        errors["deadline"] = _("办结时限不能早于今天")
    sources = [s for s in (source_document, source_receipt, meeting or None) if s is not None]
    if len(sources) != 1:
        errors["source"] = _("请选择一个来源：发文、收文或会议决定事项")
    elif len(meeting) > 200:
        errors["source"] = _("会议决定事项来源不能超过200字")
    elif not _source_visible(actor, document=source_document, receipt=source_receipt):
        errors["source"] = _("您无权以该公文立项督办")
    owner_ids = list(dict.fromkeys(int(owner) for owner in owners))
    departments = {d.pk: d for d in Department.objects.filter(pk__in=owner_ids, is_active=True)}
    if not owner_ids:
        errors["owners"] = _("请选择责任单位")
    elif len(departments) != len(owner_ids) or len(owner_ids) > MAX_OWNERS:
        errors["owners"] = _("责任单位不存在或超过%(n)s个") % {"n": MAX_OWNERS}
    elif lead_owner not in departments:
        errors["lead_owner"] = _("牵头单位须为责任单位之一")
    if errors:
        raise ValidationError(errors)
    assert deadline is not None
    year = timezone.localdate().year
    for attempt in range(5):
        try:
            with transaction.atomic():
                task = SupervisedTask.objects.create(
                    number=_next_number(year),
                    supervisor=supervisor,
                    title=title,
                    requirement=requirement,
                    source_document=source_document,
                    source_receipt=source_receipt,
                    meeting=meeting,
                    deadline=deadline,
                    created_by=actor,
                )
                TaskOwner.objects.bulk_create(
                    TaskOwner(task=task, department_id=pk, lead=pk == lead_owner)
                    for pk in owner_ids
                )
                audit_record(
                    action="documents.task.create",
                    actor=actor,
                    target=task,
                    detail={
                        "number": task.number,
                        "owners": owner_ids,
                        "lead": lead_owner,
                        "deadline": deadline.isoformat(),
                    },
                )
                fields = {"number": task.number, "title": title, "deadline": deadline.isoformat()}
                _notify(
                    owner_ids,
                    p.TASK_REPORT,
                    subject=_("督办事项：%(title)s") % fields,
                    body=_("督办事项%(number)s“%(title)s”请于%(deadline)s前办结，并按时报送进展。")
                    % fields,
                    link=_link(task),
                    actor=actor,
                )
        except IntegrityError:
            if attempt == 4:
                raise
            continue
        return task
    raise AssertionError("unreachable")


def owner_departments_for(actor: Any, task: SupervisedTask) -> list[TaskOwner]:
    """The task's owner rows the actor may report for (TASK_REPORT over the department)."""
    return list(
        scope_queryset(
            actor,
            TaskOwner.objects.filter(task=task).select_related("department"),
            p.TASK_REPORT,
            OWNER_SCOPE,
        ).order_by("-lead", "department__code")
    )


def task_report(
    *,
    actor: Any,
    task: SupervisedTask,
    text: str,
    percent: int,
    completed: bool,
    department: Department | None = None,
) -> ProgressReport:
    """An owner department reports progress; ``completed`` applies to finish (申请办结)."""
    mine = owner_departments_for(actor, task)
    owner = next((o for o in mine if department is None or o.department_id == department.pk), None)
    if owner is None:
        deny(actor, p.TASK_REPORT, target=task)
    assert owner is not None
    errors: dict[str, str] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("请填写进展情况")
    elif len(text) > TEXT_MAX:
        errors["text"] = _("进展情况不能超过%(n)s字") % {"n": TEXT_MAX}
    if completed:
        percent = 100
    if not isinstance(percent, int) or not 0 <= percent <= 100:
        errors["percent"] = _("完成进度应在0到100之间")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        fresh = SupervisedTask.objects.select_for_update().get(pk=task.pk)
        if fresh.state not in LIVE_STATES:
            raise ValidationError(_("督办事项已办结或撤销，不能再报送进展"))
        owner_row = TaskOwner.objects.select_for_update().get(pk=owner.pk)
        if owner_row.completed_at is not None:
            raise ValidationError(_("本单位已申请办结"))
        report = ProgressReport.objects.create(
            task=fresh,
            department_id=owner_row.department_id,
            author=actor,
            text=text,
            percent=percent,
            completed=completed,
        )
        if completed:
            owner_row.completed_at = now
            owner_row.save(update_fields=["completed_at"])
        audit_record(
            action="documents.task.report",
            actor=actor,
            target=fresh,
            detail={
                "number": fresh.number,
                "department": owner_row.department_id,
                "percent": percent,
                "completed": completed,
            },
        )
        fields = {
            "number": fresh.number,
            "title": fresh.title,
            "department": owner.department.name,
            "percent": percent,
        }
        _notify(
            [fresh.supervisor_id],
            p.TASK_SUPERVISE,
            subject=_("督办进展：%(title)s") % fields,
            body=(
                _("%(department)s已申请办结督办事项%(number)s“%(title)s”。")
                if completed
                else _("%(department)s报送督办事项%(number)s“%(title)s”进展，完成%(percent)s%%。")
            )
            % fields,
            link=_link(fresh),
            actor=actor,
        )
    return report


def task_remind(*, actor: Any, task: SupervisedTask, department: Department | None = None) -> int:
    """催办 the unfinished owners (or one of them); returns the number of owner units reminded."""
    _require_supervisor(actor, task)
    now = timezone.now()
    with transaction.atomic():
        fresh = SupervisedTask.objects.select_for_update().get(pk=task.pk)
        if fresh.state not in LIVE_STATES:
            raise ValidationError(_("督办事项已办结或撤销，无需催办"))
        owners = TaskOwner.objects.select_for_update().filter(task=fresh, completed_at__isnull=True)
        if department is not None:
            owners = owners.filter(department=department)
        rows = list(owners)
        if not rows:
            raise ValidationError(_("没有需要催办的责任单位"))
        TaskOwner.objects.filter(pk__in=[o.pk for o in rows]).update(last_reminded_at=now)
        _remind(fresh, [o.department_id for o in rows], actor=actor)
        audit_record(
            action="documents.task.remind",
            actor=actor,
            target=fresh,
            detail={"number": fresh.number, "departments": [o.department_id for o in rows]},
        )
    return len(rows)


def _remind(task: SupervisedTask, department_ids: list[int], *, actor: Any = None) -> None:
    fields = {"number": task.number, "title": task.title, "deadline": task.deadline.isoformat()}
    _notify(
        department_ids,
        p.TASK_REPORT,
        subject=_("督办催办：%(title)s") % fields,
        body=_("督办事项%(number)s“%(title)s”办结时限为%(deadline)s，请抓紧办理并报送进展。")
        % fields,
        link=_link(task),
        actor=actor,
    )


def _finish(
    *, actor: Any, task: SupervisedTask, state: str, reason: str, action: str
) -> SupervisedTask:
    now = timezone.now()
    with transaction.atomic():
        fresh = (
            SupervisedTask.objects.select_for_update().select_related("supervisor").get(pk=task.pk)
        )
        if fresh.state not in LIVE_STATES:
            raise ValidationError(_("督办事项已办结或撤销"))
        fresh.state = state
        fresh.closed_at = now
        fresh.save(update_fields=["state", "closed_at"])
        audit_record(
            action=action,
            actor=actor,
            target=fresh,
            detail={"number": fresh.number, "reason": reason},
        )
        if state == SupervisedTaskState.DONE:
            event_publish(
                events.TASK_DONE,
                {
                    "task": fresh.number,
                    "title": fresh.title,
                    "supervisor": fresh.supervisor.code,
                    "closed_at": now.isoformat(),
                },
                actor=actor,
            )
        fields = {"number": fresh.number, "title": fresh.title}
        _notify(
            list(fresh.owners.values_list("department_id", flat=True)),
            p.TASK_REPORT,
            subject=(
                _("督办事项已办结：%(title)s")
                if state == SupervisedTaskState.DONE
                else _("督办事项已撤销：%(title)s")
            )
            % fields,
            body=(
                _("督办事项%(number)s“%(title)s”已办结。")
                if state == SupervisedTaskState.DONE
                else _("督办事项%(number)s“%(title)s”已撤销。")
            )
            % fields,
            link=_link(fresh),
            actor=actor,
        )
    return fresh


def task_close(*, actor: Any, task: SupervisedTask, comment: str = "") -> SupervisedTask:
    """办结 (the supervisor), whether or not every owner has applied to finish."""
    _require_supervisor(actor, task)
    comment = (comment or "").strip()[:TEXT_MAX]
    return _finish(
        actor=actor,
        task=task,
        state=SupervisedTaskState.DONE,
        reason=comment,
        action="documents.task.close",
    )


def task_cancel(*, actor: Any, task: SupervisedTask, reason: str) -> SupervisedTask:
    """撤销 (the supervisor), with a reason."""
    _require_supervisor(actor, task)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写撤销理由")})
    return _finish(
        actor=actor,
        task=task,
        state=SupervisedTaskState.CANCELLED,
        reason=reason[:TEXT_MAX],
        action="documents.task.cancel",
    )


# --------------------------------------------------------------------------- the job


def tasks_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Reminders before the deadline and overdue escalation; safe to run concurrently
    (rows are locked and re-checked, each step happens once)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    window_start = dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())
    reminded = 0
    due_soon = (
        TaskOwner.objects.filter(
            task__state=SupervisedTaskState.OPEN,
            task__deadline__gte=today,
            task__deadline__lte=today + dt.timedelta(days=remind_days()),
            completed_at__isnull=True,
        )
        .exclude(last_reminded_at__gte=window_start - dt.timedelta(days=remind_days()))
        .values_list("task_id", flat=True)
        .distinct()
    )
    for task_id in list(due_soon):
        with transaction.atomic():
            task = (
                SupervisedTask.objects.select_for_update()
                .filter(pk=task_id, state=SupervisedTaskState.OPEN)
                .first()
            )
            if task is None:
                continue
            since = dt.datetime.combine(
                task.deadline - dt.timedelta(days=remind_days()),
                dt.time.min,
                tzinfo=timezone.get_current_timezone(),
            )
            owners = list(
                TaskOwner.objects.select_for_update()
                .filter(task=task, completed_at__isnull=True)
                .exclude(last_reminded_at__gte=since)
            )
            if not owners:
                continue
            TaskOwner.objects.filter(pk__in=[o.pk for o in owners]).update(last_reminded_at=now)
            _remind(task, [o.department_id for o in owners])
            audit_record(
                action="documents.task.remind_auto",
                target=task,
                detail={"number": task.number, "departments": [o.department_id for o in owners]},
            )
            reminded += len(owners)
    escalated = 0
    overdue = SupervisedTask.objects.filter(
        state=SupervisedTaskState.OPEN, deadline__lt=today, escalated_at__isnull=True
    ).values_list("pk", flat=True)
    for task_id in list(overdue):
        with transaction.atomic():
            task = (
                SupervisedTask.objects.select_for_update()
                .select_related("supervisor")
                .filter(pk=task_id, state=SupervisedTaskState.OPEN, escalated_at__isnull=True)
                .first()
            )
            if task is None:
                continue
            task.state = SupervisedTaskState.OVERDUE
            task.escalated_at = now
            task.save(update_fields=["state", "escalated_at"])
            unfinished = list(
                TaskOwner.objects.filter(task=task, completed_at__isnull=True)
                .select_related("department")
                .order_by("department__code")
            )
            audit_record(
                action="documents.task.overdue",
                target=task,
                detail={"number": task.number, "owners": [o.department_id for o in unfinished]},
            )
            event_publish(
                events.TASK_OVERDUE,
                {
                    "task": task.number,
                    "title": task.title,
                    "supervisor": task.supervisor.code,
                    "owners": [o.department.code for o in unfinished],
                    "deadline": task.deadline.isoformat(),
                },
            )
            fields = {"number": task.number, "title": task.title}
            _notify(
                [task.supervisor_id],
                p.TASK_SUPERVISE,
                subject=_("督办事项逾期：%(title)s") % fields,
                body=_("督办事项%(number)s“%(title)s”已超过办结时限，已报送电子监察。") % fields,
                link=_link(task),
            )
            _notify(
                [o.department_id for o in unfinished],
                p.TASK_REPORT,
                subject=_("督办事项逾期：%(title)s") % fields,
                body=_("督办事项%(number)s“%(title)s”已超过办结时限，请立即办理并报送进展。")
                % fields,
                link=_link(task),
            )
            escalated += 1
    return {"reminded": reminded, "escalated": escalated}


def tasks_sweep_job() -> None:
    """The periodic job (``schedule_every(3600, ...)``)."""
    result = tasks_sweep()
    if result["reminded"] or result["escalated"]:
        logger.info("documents tasks sweep: %s", result)
