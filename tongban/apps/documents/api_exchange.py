"""JSON API of the exchange (under /api/documents/exchange/, see ``api.py``): the
receiving unit's inbox (list, open, sign, return) and the sender's send, status, remind
and recall. Each operation checks the permission and loads the object (404 out of scope)
before it reads the request body, so a caller who may not act gets 403/404, never 422."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from tongban.apps.documents import exchange
from tongban.apps.documents import permissions as p
from tongban.apps.documents import selectors_exchange as selectors
from tongban.apps.documents.models import Delivery, Dispatch
from tongban.platform.api.auth import requires
from tongban.platform.api.body import body_schema, read_body

router = Router(tags=["documents"])

MAX_ROWS = 500


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


class DeliveryOut(Schema):
    id: int
    dispatch_id: int
    document: str = Field(..., description="公文的 public_id")
    number: str
    title: str
    urgency: str
    sender_code: str
    recipient_code: str
    state: str = Field(..., description="pending / signed / registered / returned / recalled")
    delivered_at: dt.datetime
    due_at: dt.datetime
    read_at: dt.datetime | None
    signed_at: dt.datetime | None
    returned_at: dt.datetime | None
    return_reason: str
    recalled_at: dt.datetime | None
    reminder_count: int


class DispatchOut(Schema):
    id: int
    document: str
    number: str
    title: str
    sender_code: str
    sent_at: dt.datetime
    sign_within_hours: int
    message: str
    recipient_count: int
    counts: dict[str, int]


class SendIn(Schema):
    recipients: list[int] = Field(default_factory=list, description="接收单位（部门 id）")
    groups: list[int] = Field(default_factory=list, description="常用分组 id")
    message: str = Field("", max_length=500)
    sign_within_hours: int | None = Field(None, description="签收时限（小时），默认按系统设置")


class ReturnIn(Schema):
    reason: str = Field(..., max_length=2000)


class RemindIn(Schema):
    delivery: int | None = Field(None, description="只催办这一个送达记录；空则催办全部未签收")


class RecallIn(Schema):
    reason: str = Field("", max_length=200)


def _delivery_out(delivery: Delivery) -> dict[str, Any]:
    document = delivery.document
    return {
        "id": delivery.pk,
        "dispatch_id": delivery.dispatch_id,
        "document": str(document.public_id),
        "number": document.number,
        "title": document.title,
        "urgency": document.urgency,
        "sender_code": delivery.dispatch.sender.code,
        "recipient_code": delivery.recipient.code,
        "state": delivery.state,
        "delivered_at": delivery.delivered_at,
        "due_at": delivery.due_at,
        "read_at": delivery.read_at,
        "signed_at": delivery.signed_at,
        "returned_at": delivery.returned_at,
        "return_reason": delivery.return_reason,
        "recalled_at": delivery.recalled_at,
        "reminder_count": delivery.reminder_count,
    }


def _dispatch_out(dispatch: Dispatch) -> dict[str, Any]:
    return {
        "id": dispatch.pk,
        "document": str(dispatch.document.public_id),
        "number": dispatch.document.number,
        "title": dispatch.document.title,
        "sender_code": dispatch.sender.code,
        "sent_at": dispatch.sent_at,
        "sign_within_hours": dispatch.sign_within_hours,
        "message": dispatch.message,
        "recipient_count": dispatch.recipient_count,
        "counts": selectors.dispatch_counts(dispatch),
    }


# --------------------------------------------------------------------------- receiving unit


@router.get(
    "/inbox",
    response=list[DeliveryOut],
    auth=requires(p.RECEIVE),
    operation_id="documents_inbox_list",
)
def inbox_list(request: HttpRequest, state: str = "") -> Any:
    """The copies sent to the caller's departments, pending first (at most 500)."""
    actor = _actor(request)
    return [_delivery_out(d) for d in selectors.inbox_for(actor=actor, state=state)[:MAX_ROWS]]


@router.get(
    "/inbox/{delivery_id}",
    response=DeliveryOut,
    auth=requires(p.RECEIVE),
    operation_id="documents_inbox_get",
)
def inbox_get(request: HttpRequest, delivery_id: int) -> Any:
    """One copy; the first reading is recorded (``read_at``)."""
    actor = _actor(request)
    delivery = selectors.access_delivery_for_recipient(actor, delivery_id)
    return _delivery_out(exchange.delivery_open(actor=actor, delivery=delivery))


@router.post(
    "/inbox/{delivery_id}/sign",
    response=DeliveryOut,
    operation_id="documents_delivery_sign",
    auth=requires(p.RECEIVE),
)
def delivery_sign(request: HttpRequest, delivery_id: int) -> Any:
    """签收 (only a pending copy)."""
    actor = _actor(request)
    delivery = selectors.access_delivery_for_recipient(actor, delivery_id)
    exchange.delivery_sign(actor=actor, delivery=delivery)
    return _delivery_out(selectors.access_delivery_for_recipient(actor, delivery_id))


@router.post(
    "/inbox/{delivery_id}/return",
    response=DeliveryOut,
    operation_id="documents_delivery_return",
    openapi_extra=body_schema(ReturnIn),
    auth=requires(p.RECEIVE),
)
def delivery_return(request: HttpRequest, delivery_id: int) -> Any:
    """退回 with a reason (only a pending copy); the sender sees the 退文告知单."""
    actor = _actor(request)
    delivery = selectors.access_delivery_for_recipient(actor, delivery_id)
    body = read_body(request, ReturnIn)
    exchange.delivery_return(actor=actor, delivery=delivery, reason=body.reason)
    return _delivery_out(selectors.access_delivery_for_recipient(actor, delivery_id))


# --------------------------------------------------------------------------- sending side


@router.post(
    "/send/{document_id}",
    response={201: DispatchOut},
    operation_id="documents_document_send",
    openapi_extra=body_schema(SendIn),
    auth=requires(p.NUMBER_SEAL),
)
def document_send(request: HttpRequest, document_id: int) -> Any:
    """Send a sealed document to units and saved groups (NUMBER_SEAL of the issuer)."""
    actor = _actor(request)
    document = selectors.access_document_for_send(actor, document_id)
    body = read_body(request, SendIn)
    dispatch = exchange.document_send(
        actor=actor,
        document=document,
        recipients=body.recipients,
        groups=body.groups,
        message=body.message,
        sign_within_hours=body.sign_within_hours,
    )
    return Status(201, _dispatch_out(selectors.access_dispatch(actor, dispatch.pk)))


@router.get(
    "/dispatches/{dispatch_id}",
    response=DispatchOut,
    operation_id="documents_dispatch_get",
)
def dispatch_get(request: HttpRequest, dispatch_id: int) -> Any:
    return _dispatch_out(selectors.access_dispatch(_actor(request), dispatch_id))


@router.get(
    "/dispatches/{dispatch_id}/deliveries",
    response=list[DeliveryOut],
    operation_id="documents_dispatch_deliveries",
)
def dispatch_deliveries(request: HttpRequest, dispatch_id: int, state: str = "") -> Any:
    """Per unit: delivered, read, signed, returned, recalled with times (at most 500)."""
    dispatch = selectors.access_dispatch(_actor(request), dispatch_id)
    rows = selectors.dispatch_deliveries(dispatch, state=state).select_related(
        "document", "dispatch__sender"
    )
    return [_delivery_out(d) for d in rows[:MAX_ROWS]]


@router.post(
    "/dispatches/{dispatch_id}/remind",
    response=dict[str, int],
    operation_id="documents_dispatch_remind",
    openapi_extra=body_schema(RemindIn),
    auth=requires(p.NUMBER_SEAL),
)
def dispatch_remind(request: HttpRequest, dispatch_id: int) -> Any:
    actor = _actor(request)
    dispatch = selectors.access_dispatch(actor, dispatch_id)
    body = read_body(request, RemindIn)
    delivery = selectors.access_delivery_for_sender(actor, body.delivery) if body.delivery else None
    return {"reminded": exchange.dispatch_remind(actor=actor, dispatch=dispatch, delivery=delivery)}


@router.post(
    "/deliveries/{delivery_id}/recall",
    response=DeliveryOut,
    operation_id="documents_delivery_recall",
    openapi_extra=body_schema(RecallIn),
    auth=requires(p.NUMBER_SEAL),
)
def delivery_recall(request: HttpRequest, delivery_id: int) -> Any:
    actor = _actor(request)
    delivery = selectors.access_delivery_for_sender(actor, delivery_id)
    body = read_body(request, RecallIn)
    recalled = exchange.delivery_recall(actor=actor, delivery=delivery, reason=body.reason)
    recalled = Delivery.objects.select_related("document", "dispatch__sender", "recipient").get(
        pk=recalled.pk
    )
    return _delivery_out(recalled)
