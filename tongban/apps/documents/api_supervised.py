"""JSON API of 督查督办 (``router`` is mounted under /api/documents/tasks/). Each
operation loads through ``selectors_supervised`` (404 out of reach) and calls one service
of ``supervised``; permissions are checked there and by the route's ``requires``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from tongban.apps.documents import permissions as p
from tongban.apps.documents import selectors_supervised as selectors
from tongban.apps.documents import supervised
from tongban.apps.documents.models import SupervisedTask
from tongban.platform.access.services import deny
from tongban.platform.api.auth import requires
from tongban.platform.orgs.models import Department

router = Router(tags=["documents"])
MAX_ROWS = 200


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


class OwnerOut(Schema):
    department_code: str
    lead: bool
    completed_at: dt.datetime | None
    percent: int | None


class ReportOut(Schema):
    department_code: str
    text: str
    percent: int
    completed: bool
    created_at: dt.datetime


class TaskOut(Schema):
    id: int
    number: str
    state: str
    supervisor_code: str
    title: str
    requirement: str
    deadline: dt.date
    source_document: str | None
    source_receipt_id: int | None
    meeting: str
    escalated_at: dt.datetime | None
    closed_at: dt.datetime | None
    owners: list[OwnerOut]
    reports: list[ReportOut]


class TaskIn(Schema):
    title: str
    requirement: str = ""
    deadline: dt.date
    owners: list[str]  # department codes
    lead_owner: str
    meeting: str = ""
    source_document: str | None = None  # the document's public id
    source_receipt_id: int | None = None


class ReportIn(Schema):
    text: str
    percent: int = 0
    completed: bool = False
    department_code: str | None = None


class ReasonIn(Schema):
    reason: str = ""


def _out(task: SupervisedTask) -> dict[str, Any]:
    reports = selectors.task_reports(task)
    percent = selectors.latest_percent(reports)
    return {
        "id": task.pk,
        "number": task.number,
        "state": task.state,
        "supervisor_code": task.supervisor.code,
        "title": task.title,
        "requirement": task.requirement,
        "deadline": task.deadline,
        "source_document": str(task.source_document.public_id) if task.source_document else None,
        "source_receipt_id": task.source_receipt_id,
        "meeting": task.meeting,
        "escalated_at": task.escalated_at,
        "closed_at": task.closed_at,
        "owners": [
            {
                "department_code": owner.department.code,
                "lead": owner.lead,
                "completed_at": owner.completed_at,
                "percent": percent.get(owner.department_id),
            }
            for owner in selectors.task_owners(task)
        ],
        "reports": [
            {
                "department_code": report.department.code,
                "text": report.text,
                "percent": report.percent,
                "completed": report.completed,
                "created_at": report.created_at,
            }
            for report in reports
        ],
    }


def _get(actor: Any, task_id: int) -> dict[str, Any]:
    return _out(selectors.access_task_by_id(actor, task_id))


def _act(
    request: HttpRequest, task_id: int, service: Callable[..., object], **values: Any
) -> dict[str, Any]:
    """Load the task for the actor, call ``service`` on it and answer the task."""
    actor = _actor(request)
    task = selectors.access_task_by_id(actor, task_id)
    service(actor=actor, task=task, **values)
    return _get(actor, task_id)


@router.get("/", response=list[TaskOut], operation_id="documents_task_list")
def task_list(request: HttpRequest, role: str = "", state: str = "live", q: str = "") -> Any:
    """``role``: supervised / owned / "" (both); ``state``: live, overdue, done, all."""
    actor = _actor(request)
    if not selectors.may_use_tasks(actor):
        deny(actor, p.TASK_REPORT)
    rows = selectors.task_list_for(actor, role=role, state=state, query=q[:100])[:MAX_ROWS]
    return [_out(task) for task in rows]


@router.post(
    "/",
    response={201: TaskOut},
    auth=requires(p.TASK_SUPERVISE),
    operation_id="documents_task_create",
)
def task_create(request: HttpRequest, payload: TaskIn) -> Any:
    actor = _actor(request)
    codes = list(dict.fromkeys([*payload.owners, payload.lead_owner]))
    ids = dict(Department.objects.filter(code__in=codes).values_list("code", "pk"))
    sources: dict[str, Any] = {"meeting": payload.meeting}
    if payload.source_document:
        sources["source_document"] = selectors.source_document_for(actor, payload.source_document)
    if payload.source_receipt_id:
        sources["source_receipt"] = selectors.source_receipt_for(actor, payload.source_receipt_id)
    task = supervised.task_create(
        actor=actor,
        title=payload.title,
        requirement=payload.requirement,
        deadline=payload.deadline,
        owners=[ids.get(code, 0) for code in payload.owners],
        lead_owner=ids.get(payload.lead_owner),
        **sources,
    )
    return Status(201, _get(actor, task.pk))


@router.get("/{task_id}", response=TaskOut, operation_id="documents_task_get")
def task_get(request: HttpRequest, task_id: int) -> Any:
    return _get(_actor(request), task_id)


@router.post(
    "/{task_id}/report",
    response=TaskOut,
    auth=requires(p.TASK_REPORT),
    operation_id="documents_task_report",
)
def task_report(request: HttpRequest, task_id: int, payload: ReportIn) -> Any:
    actor = _actor(request)
    task = selectors.access_task_by_id(actor, task_id)
    department = (
        Department.objects.filter(code=payload.department_code).first()
        if payload.department_code
        else None
    )
    supervised.task_report(
        actor=actor,
        task=task,
        text=payload.text,
        percent=payload.percent,
        completed=payload.completed,
        department=department,
    )
    return _get(actor, task_id)


@router.post(
    "/{task_id}/remind",
    response=TaskOut,
    auth=requires(p.TASK_SUPERVISE),
    operation_id="documents_task_remind",
)
def task_remind(request: HttpRequest, task_id: int) -> Any:
    return _act(request, task_id, supervised.task_remind)


@router.post(
    "/{task_id}/close",
    response=TaskOut,
    auth=requires(p.TASK_SUPERVISE),
    operation_id="documents_task_close",
)
def task_close(request: HttpRequest, task_id: int, payload: ReasonIn) -> Any:
    return _act(request, task_id, supervised.task_close, comment=payload.reason)


@router.post(
    "/{task_id}/cancel",
    response=TaskOut,
    auth=requires(p.TASK_SUPERVISE),
    operation_id="documents_task_cancel",
)
def task_cancel(request: HttpRequest, task_id: int, payload: ReasonIn) -> Any:
    return _act(request, task_id, supervised.task_cancel, reason=payload.reason)
