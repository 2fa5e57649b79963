"""JSON API for sharing requests and grants, under /api/sharing/grants/ (session or
personal token). Each operation loads through ``grants_selectors`` (404 out of scope) and
calls one service of ``grants``; permissions are checked there."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from tongban.apps.sharing import grants, permissions
from tongban.apps.sharing import grants_selectors as selectors
from tongban.apps.sharing.models import Grant, SharingRequest
from tongban.platform.access.services import deny, has_permission
from tongban.platform.api.auth import requires

router = Router(tags=["sharing"])

MAX_ROWS = 200


def _actor(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


class RequestOut(Schema):
    id: int
    number: str
    status: str
    resource_code: str
    resource_name: str
    provider_department_code: str
    consumer_department_code: str
    consumer_system_code: str
    items: list[str]
    purpose: str
    legal_basis: str
    period_start: dt.date
    period_end: dt.date
    requested_at: dt.datetime
    due_at: dt.datetime | None
    decided_at: dt.datetime | None
    decision_reasons: str
    grant_id: int | None


class GrantOut(Schema):
    id: int
    resource_code: str
    consumer_department_code: str
    consumer_system_code: str
    items: list[str]
    masked_items: list[str]
    rate_limit_per_minute: int
    valid_from: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    revoke_reason: str
    state: str
    request_number: str | None


class RequestIn(Schema):
    resource_code: str
    system_code: str
    items: list[str]
    purpose: str
    legal_basis: str
    period_start: dt.date
    period_end: dt.date


class ApproveIn(Schema):
    items: list[str] | None = None
    masked_items: list[str] | None = None
    rate_limit_per_minute: int | None = None
    expires_on: dt.date | None = None
    comment: str = ""


class ReasonsIn(Schema):
    reasons: str


class RevokeIn(Schema):
    reason: str


def _request_out(item: SharingRequest) -> dict[str, Any]:
    grant = Grant.objects.filter(request_id=item.pk).values_list("pk", flat=True).first()
    return {
        "id": item.pk,
        "number": item.number,
        "status": item.status,
        "resource_code": item.resource.code,
        "resource_name": item.resource_version.name,
        "provider_department_code": item.resource.provider.code,
        "consumer_department_code": item.consumer_department.code,
        "consumer_system_code": item.consumer_system.code,
        "items": list(item.items),
        "purpose": item.purpose,
        "legal_basis": item.legal_basis,
        "period_start": item.period_start,
        "period_end": item.period_end,
        "requested_at": item.requested_at,
        "due_at": item.due_at,
        "decided_at": item.decided_at,
        "decision_reasons": item.decision_reasons,
        "grant_id": grant,
    }


def _grant_out(grant: Grant) -> dict[str, Any]:
    return {
        "id": grant.pk,
        "resource_code": grant.resource.code,
        "consumer_department_code": grant.consumer_department.code,
        "consumer_system_code": grant.consumer_system.code,
        "items": list(grant.items),
        "masked_items": list(grant.masked_items),
        "rate_limit_per_minute": grant.rate_limit_per_minute,
        "valid_from": grant.valid_from,
        "expires_at": grant.expires_at,
        "revoked_at": grant.revoked_at,
        "revoke_reason": grant.revoke_reason,
        "state": selectors.grant_state(grant),
        "request_number": grant.request.number if grant.request else None,
    }


@router.get("/requests", response=list[RequestOut], operation_id="sharing_request_list")
def request_list(request: HttpRequest, side: str = "consumer", status: str = "") -> Any:
    """``side=consumer``: my department's requests; ``side=provider``: those on our
    resources."""
    actor = _actor(request)
    side = selectors.SIDE_PROVIDER if side == selectors.SIDE_PROVIDER else selectors.SIDE_CONSUMER
    needed = (
        permissions.REQUEST_REVIEW
        if side == selectors.SIDE_PROVIDER
        else (permissions.REQUEST_CREATE)
    )
    if not has_permission(actor, needed):
        deny(actor, needed)
    rows = selectors.request_list_for(actor, side=side, status=status)[:MAX_ROWS]
    return [_request_out(item) for item in rows]


@router.post(
    "/requests",
    response={201: RequestOut},
    auth=requires(permissions.REQUEST_CREATE),
    operation_id="sharing_request_create",
)
def request_create(request: HttpRequest, payload: RequestIn) -> Any:
    actor = _actor(request)
    resource = selectors.resource_by_code(payload.resource_code)
    system = selectors.systems_for_request(actor).filter(code=payload.system_code).first()
    if resource is None or system is None:
        raise Http404
    item = grants.request_create(
        actor=actor,
        resource=resource,
        system=system,
        items=payload.items,
        purpose=payload.purpose,
        legal_basis=payload.legal_basis,
        period_start=payload.period_start,
        period_end=payload.period_end,
    )
    return Status(201, _request_out(selectors.access_request_by_id(actor, item.pk)))


@router.get("/requests/{request_id}", response=RequestOut, operation_id="sharing_request_get")
def request_get(request: HttpRequest, request_id: int) -> Any:
    return _request_out(selectors.access_request_by_id(_actor(request), request_id))


@router.post(
    "/requests/{request_id}/approve",
    response=GrantOut,
    auth=requires(permissions.REQUEST_REVIEW),
    operation_id="sharing_request_approve",
)
def request_approve(request: HttpRequest, request_id: int, payload: ApproveIn) -> Any:
    actor = _actor(request)
    item = selectors.access_request_by_id(actor, request_id)
    grant = grants.request_approve(
        actor=actor,
        request=item,
        items=payload.items,
        masked_items=payload.masked_items,
        rate_limit=payload.rate_limit_per_minute,
        expires_on=payload.expires_on,
        comment=payload.comment,
    )
    return _grant_out(selectors.access_grant_by_id(actor, grant.pk))


@router.post(
    "/requests/{request_id}/refuse",
    response=RequestOut,
    auth=requires(permissions.REQUEST_REVIEW),
    operation_id="sharing_request_refuse",
)
def request_refuse(request: HttpRequest, request_id: int, payload: ReasonsIn) -> Any:
    actor = _actor(request)
    item = selectors.access_request_by_id(actor, request_id)
    grants.request_refuse(actor=actor, request=item, reasons=payload.reasons)
    return _request_out(selectors.access_request_by_id(actor, request_id))


@router.post(
    "/requests/{request_id}/withdraw",
    response=RequestOut,
    auth=requires(permissions.REQUEST_CREATE),
    operation_id="sharing_request_withdraw",
)
def request_withdraw(request: HttpRequest, request_id: int) -> Any:
    actor = _actor(request)
    item = selectors.access_request_by_id(actor, request_id)
    grants.request_withdraw(actor=actor, request=item)
    return _request_out(selectors.access_request_by_id(actor, request_id))


@router.get("/", response=list[GrantOut], operation_id="sharing_grant_list")
def grant_list(request: HttpRequest, side: str = "consumer") -> Any:
    """``side=consumer``: grants my department holds; ``side=provider``: grants on our
    resources."""
    actor = _actor(request)
    side = selectors.SIDE_PROVIDER if side == selectors.SIDE_PROVIDER else selectors.SIDE_CONSUMER
    if side == selectors.SIDE_CONSUMER:
        allowed = has_permission(actor, permissions.REQUEST_CREATE)
    else:
        allowed = has_permission(actor, permissions.REQUEST_REVIEW) or has_permission(
            actor, permissions.GRANT_MANAGE
        )
    if not allowed:
        deny(actor, permissions.GRANT_MANAGE)
    return [_grant_out(grant) for grant in selectors.grant_list_for(actor, side=side)[:MAX_ROWS]]


@router.get("/{int:grant_id}", response=GrantOut, operation_id="sharing_grant_get")
def grant_get(request: HttpRequest, grant_id: int) -> Any:
    return _grant_out(selectors.access_grant_by_id(_actor(request), grant_id))


@router.post(
    "/{int:grant_id}/revoke",
    response=GrantOut,
    auth=requires(permissions.GRANT_MANAGE),
    operation_id="sharing_grant_revoke",
)
def grant_revoke(request: HttpRequest, grant_id: int, payload: RevokeIn) -> Any:
    actor = _actor(request)
    grant = selectors.access_grant_by_id(actor, grant_id)
    grants.grant_revoke(actor=actor, grant=grant, reason=payload.reason)
    return _grant_out(selectors.access_grant_by_id(actor, grant_id))
