"""Reads of 督查督办, narrowed to the actor: a task is seen by its supervising department
(TASK_SUPERVISE) and by its owner departments (TASK_REPORT); ``access_task_by_id`` returns
404 to anyone else."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Document,
    ProgressReport,
    Receipt,
    SupervisedTask,
    SupervisedTaskState,
    TaskOwner,
)
from tongban.apps.documents.supervised import (
    LIVE_STATES,
    OWNER_SCOPE,
    SUPERVISOR_SCOPE,
    owner_departments_for,
)
from tongban.platform.access.services import ScopePaths, can_access, has_permission, scope_queryset

ROLE_SUPERVISOR = "supervised"
ROLE_OWNER = "owned"
FILTERS = ("live", "overdue", "done", "all")


def may_use_tasks(actor: Any) -> bool:
    return has_permission(actor, p.TASK_SUPERVISE) or has_permission(actor, p.TASK_REPORT)


def tasks_visible(actor: Any, *, role: str = "") -> QuerySet[SupervisedTask]:
    condition = Q(pk__in=[])
    if role != ROLE_OWNER and has_permission(actor, p.TASK_SUPERVISE):
        supervised = scope_queryset(
            actor, SupervisedTask.objects.all(), p.TASK_SUPERVISE, SUPERVISOR_SCOPE
        )
        condition |= Q(pk__in=supervised.values("pk"))
    if role != ROLE_SUPERVISOR and has_permission(actor, p.TASK_REPORT):
        owned = scope_queryset(actor, TaskOwner.objects.all(), p.TASK_REPORT, OWNER_SCOPE)
        condition |= Q(pk__in=owned.values("task_id"))
    return SupervisedTask.objects.filter(condition).select_related("supervisor")


def task_list_for(
    actor: Any, *, role: str = "", state: str = "live", query: str = ""
) -> QuerySet[SupervisedTask]:
    rows = tasks_visible(actor, role=role)
    if state == "live":
        rows = rows.filter(state__in=LIVE_STATES)
    elif state == "overdue":
        rows = rows.filter(state=SupervisedTaskState.OVERDUE)
    elif state == "done":
        rows = rows.filter(state__in=(SupervisedTaskState.DONE, SupervisedTaskState.CANCELLED))
    query = query.strip()
    if query:
        rows = rows.filter(Q(title__icontains=query) | Q(number__icontains=query))
    return rows.prefetch_related("owners__department").order_by("deadline", "pk")


def access_task_by_id(actor: Any, task_id: int) -> SupervisedTask:
    task = (
        tasks_visible(actor)
        .select_related("created_by", "source_document", "source_receipt")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise Http404
    return task


def task_owners(task: SupervisedTask) -> list[TaskOwner]:
    return list(task.owners.select_related("department").order_by("-lead", "department__code"))


def task_reports(task: SupervisedTask) -> list[ProgressReport]:
    return list(task.reports.select_related("department", "author").order_by("-created_at", "-pk"))


def latest_percent(reports: list[ProgressReport]) -> dict[int, int]:
    """Each owner department's latest reported percentage (reports newest first)."""
    found: dict[int, int] = {}
    for report in reports:
        found.setdefault(report.department_id, report.percent)
    return found


def task_actions(actor: Any, task: SupervisedTask) -> set[str]:
    actions: set[str] = set()
    if task.state not in LIVE_STATES:
        return actions
    if can_access(actor, task, p.TASK_SUPERVISE, SUPERVISOR_SCOPE):
        actions.update(("remind", "close", "cancel"))
    if any(owner.completed_at is None for owner in owner_departments_for(actor, task)):
        actions.add("report")
    return actions


def is_overdue_soon(task: SupervisedTask, days: int = 3) -> bool:
    return task.state == SupervisedTaskState.OPEN and (
        (task.deadline - timezone.localdate()).days <= days
    )


def source_document_for(actor: Any, public_id: str) -> Document | None:
    """A document the actor may start a task from: issued by (VIEW) or delivered to
    (RECEIVE) their department; None for an unknown or malformed id."""
    try:
        public_id = str(uuid.UUID(str(public_id).strip()))
    except ValueError:
        return None
    issued = scope_queryset(
        actor, Document.objects.filter(public_id=public_id), p.VIEW, ScopePaths(department="issuer")
    ).first()
    if issued is not None:
        return issued
    return scope_queryset(
        actor,
        Document.objects.filter(public_id=public_id),
        p.RECEIVE,
        ScopePaths(department="deliveries__recipient"),
    ).first()


def source_receipt_for(actor: Any, receipt_id: int) -> Receipt | None:
    from tongban.apps.documents.selectors_receiving import receipts_visible

    return receipts_visible(actor).filter(pk=receipt_id).first()
