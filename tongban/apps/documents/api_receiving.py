"""JSON API of the receiving side (``router`` is mounted under /api/documents/receipts/).
Each operation loads through ``selectors_receiving`` (404 out of
the department's reach) and calls one service of ``receiving``; permissions are checked
before the body is looked at where the route allows it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from tongban.apps.documents import permissions as p
from tongban.apps.documents import receiving
from tongban.apps.documents import selectors_receiving as selectors
from tongban.apps.documents.models import Receipt
from tongban.platform.access.services import deny
from tongban.platform.api.auth import requires
from tongban.platform.api.body import body_schema, read_body

router = Router(tags=["documents"])
MAX_ROWS = 200


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


class TaskOut(Schema):
    id: int
    kind: str
    assignee: str
    deadline: dt.date | None
    done_at: dt.datetime | None
    comment: str


class ReceiptOut(Schema):
    id: int
    number: str
    department_code: str
    state: str
    source: str
    source_number: str
    title: str
    urgency: str
    classification: str
    registered_at: dt.datetime
    delivery_id: int | None
    proposal: str
    instruction: str
    deadline: dt.date | None
    result: str
    closed_at: dt.datetime | None
    tasks: list[TaskOut]


class PaperIn(Schema):
    department_code: str
    source: str
    source_number: str = ""
    title: str
    urgency: str = ""
    classification: str = ""


class ProposeIn(Schema):
    proposal: str


class InstructIn(Schema):
    instruction: str
    deadline: dt.date | None = None
    handlers: list[int] = []
    readers: list[int] = []


class PeopleIn(Schema):
    people: list[int]
    deadline: dt.date | None = None


class CommentIn(Schema):
    comment: str = ""


class ResultIn(Schema):
    result: str


def _out(receipt: Receipt) -> dict[str, Any]:
    return {
        "id": receipt.pk,
        "number": receiving.receipt_number(receipt),
        "department_code": receipt.department.code,
        "state": receipt.state,
        "source": receipt.source,
        "source_number": receipt.source_number,
        "title": receipt.title,
        "urgency": receipt.urgency,
        "classification": receipt.classification,
        "registered_at": receipt.registered_at,
        "delivery_id": receipt.delivery_id,
        "proposal": receipt.proposal,
        "instruction": receipt.instruction,
        "deadline": receipt.deadline,
        "result": receipt.result,
        "closed_at": receipt.closed_at,
        "tasks": [
            {
                "id": task.pk,
                "kind": task.kind,
                "assignee": task.assignee.username,
                "deadline": task.deadline,
                "done_at": task.done_at,
                "comment": task.comment,
            }
            for task in selectors.receipt_tasks(receipt)
        ],
    }


def _get(actor: Any, receipt_id: int) -> dict[str, Any]:
    return _out(selectors.access_receipt_by_id(actor, receipt_id))


def _act(
    request: HttpRequest, receipt_id: int, service: Callable[..., object], **values: Any
) -> dict[str, Any]:
    """Load the receipt for the actor, call ``service`` on it and answer the receipt."""
    actor = _actor(request)
    receipt = selectors.access_receipt_by_id(actor, receipt_id)
    service(actor=actor, receipt=receipt, **values)
    return _get(actor, receipt_id)


@router.get("/", response=list[ReceiptOut], operation_id="documents_receipt_list")
def receipt_list(request: HttpRequest, tab: str = "open", q: str = "") -> Any:
    """``tab``: open (办理中), mine (my 传阅/承办), closed."""
    actor = _actor(request)
    if not selectors.may_use_receipts(actor):
        deny(actor, p.HANDLE)
    rows = selectors.receipt_list_for(actor, tab=tab, query=q[:100])[:MAX_ROWS]
    return [_out(receipt) for receipt in rows]


@router.post(
    "/register/{delivery_id}",
    response={201: ReceiptOut},
    auth=requires(p.RECEIVE),
    operation_id="documents_receipt_register",
)
def receipt_register(request: HttpRequest, delivery_id: int) -> Any:
    actor = _actor(request)
    delivery = selectors.access_delivery_to_register(actor, delivery_id)
    receipt = receiving.receipt_register(actor=actor, delivery=delivery)
    return Status(201, _get(actor, receipt.pk))


@router.post(
    "/paper",
    response={201: ReceiptOut},
    auth=requires(p.RECEIVE),
    operation_id="documents_receipt_register_paper",
)
def receipt_register_paper(request: HttpRequest, payload: PaperIn) -> Any:
    actor = _actor(request)
    department = selectors.departments_for_paper(actor).filter(code=payload.department_code).first()
    if department is None:
        deny(actor, p.RECEIVE)
    assert department is not None
    receipt = receiving.receipt_register_paper(
        actor=actor,
        department=department,
        source=payload.source,
        source_number=payload.source_number,
        title=payload.title,
        urgency=payload.urgency,
        classification=payload.classification,
    )
    return Status(201, _get(actor, receipt.pk))


@router.get("/{receipt_id}", response=ReceiptOut, operation_id="documents_receipt_get")
def receipt_get(request: HttpRequest, receipt_id: int) -> Any:
    return _get(_actor(request), receipt_id)


@router.post(
    "/{receipt_id}/propose",
    response=ReceiptOut,
    auth=requires(p.HANDLE),
    operation_id="documents_receipt_propose",
)
def receipt_propose(request: HttpRequest, receipt_id: int, payload: ProposeIn) -> Any:
    return _act(request, receipt_id, receiving.receipt_propose, proposal=payload.proposal)


@router.post(
    "/{receipt_id}/instruct",
    response=ReceiptOut,
    auth=requires(p.INSTRUCT),
    operation_id="documents_receipt_instruct",
)
def receipt_instruct(request: HttpRequest, receipt_id: int, payload: InstructIn) -> Any:
    return _act(
        request,
        receipt_id,
        receiving.receipt_instruct,
        instruction=payload.instruction,
        deadline=payload.deadline,
        handlers=payload.handlers,
        readers=payload.readers,
    )


@router.post(
    "/{receipt_id}/circulate",
    response=ReceiptOut,
    auth=requires(p.HANDLE),
    operation_id="documents_receipt_circulate",
)
def receipt_circulate(request: HttpRequest, receipt_id: int, payload: PeopleIn) -> Any:
    return _act(request, receipt_id, receiving.receipt_circulate, readers=payload.people)


@router.post(
    "/{receipt_id}/assign",
    response=ReceiptOut,
    auth=requires(p.HANDLE),
    operation_id="documents_receipt_assign",
)
def receipt_assign(request: HttpRequest, receipt_id: int, payload: PeopleIn) -> Any:
    return _act(
        request,
        receipt_id,
        receiving.receipt_assign,
        handlers=payload.people,
        deadline=payload.deadline,
    )


@router.post(
    "/{receipt_id}/tasks/{task_id}/done",
    response=ReceiptOut,
    operation_id="documents_receipt_task_done",
    openapi_extra=body_schema(CommentIn),
)
def receipt_task_done(request: HttpRequest, receipt_id: int, task_id: int) -> Any:
    """The assignee completes a 传阅/承办 task. Whoever is assigned may do it, whatever
    their role: no permission gate, the task is loaded (404 for anyone else) before the
    body is read."""
    actor = _actor(request)
    receipt = selectors.access_receipt_by_id(actor, receipt_id)
    task = selectors.access_task_by_id(actor, receipt, task_id)
    payload = read_body(request, CommentIn)
    receiving.receipt_task_done(actor=actor, task=task, comment=payload.comment)
    return _get(actor, receipt_id)


@router.post(
    "/{receipt_id}/close",
    response=ReceiptOut,
    auth=requires(p.HANDLE),
    operation_id="documents_receipt_close",
)
def receipt_close(request: HttpRequest, receipt_id: int, payload: ResultIn) -> Any:
    return _act(request, receipt_id, receiving.receipt_close, result=payload.result)
