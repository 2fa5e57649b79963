"""The licences' JSON API: public verification, the caller's own licences, and issuing
and revoking for the departments' staff. Each endpoint parses, calls one selector or
service, and shapes the output."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from tongban.apps.licences import documents, permissions, selectors, services
from tongban.platform.api.auth import requires
from tongban.platform.orgs.models import Department

router = Router(tags=["licences"])


class LicencePublicOut(Schema):
    verdict: str = Field(..., description="valid | revoked | expired | tampered")
    verdict_label: str
    identifier: str
    number: str
    name: str
    type_code: str
    holder: str = Field(..., description="a person's name masked; an enterprise's in full")
    holder_id_type: str
    holder_id_masked: str
    issuer_name: str
    issuer_uscc: str
    issued_on: str
    valid_from: str
    valid_until: str | None
    validity: str
    revoked_at: str | None
    previous: str | None
    key_fingerprint: str
    verify_url: str


class IssueIn(Schema):
    type_code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=100)
    holder_name: str = Field(..., max_length=200)
    holder_id_type: str = Field(..., description="resident_id | uscc | passport | other")
    holder_id_number: str = Field(..., max_length=40)
    issuer_department_code: str
    valid_until: dt.date | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    source: str = Field("", max_length=200)


class RevokeIn(Schema):
    reason: str = Field(..., max_length=500)


def _public(request: HttpRequest, licence: Any) -> dict[str, Any]:
    view = documents.public_view(licence)
    return {
        **view.__dict__,
        "verify_url": request.build_absolute_uri(documents.verify_path(licence.identifier)),
    }


@router.get(
    "/verify/{query}",
    response=LicencePublicOut,
    auth=None,
    operation_id="licences_licence_verify",
)
def licence_verify(request: HttpRequest, query: str) -> Any:
    """Verify a licence by identifier or number: its public data and the verdict after
    checking the SM2 signature (404 when there is no such licence)."""
    licence = selectors.licence_find(query)
    if licence is None:
        raise Http404
    return _public(request, licence)


@router.get("/mine", response=list[LicencePublicOut], operation_id="licences_licence_mine")
def licence_mine(request: HttpRequest) -> Any:
    """The licences held by the caller or the enterprises they act for."""
    actor = request.auth  # type: ignore[attr-defined]
    return [_public(request, licence) for licence in selectors.licences_held_by(actor=actor)[:200]]


@router.post(
    "/licences",
    response={201: LicencePublicOut},
    auth=requires(permissions.LICENCE_ISSUE),
    operation_id="licences_licence_issue",
)
def licence_issue(request: HttpRequest, payload: IssueIn) -> Any:
    """Issue a licence by hand; needs ``licences.licence.issue`` over the department."""
    department = get_object_or_404(Department, code=payload.issuer_department_code)
    licence = services.licence_issue(
        actor=request.auth,  # type: ignore[attr-defined]
        type_code=payload.type_code,
        name=payload.name,
        holder_name=payload.holder_name,
        holder_id_type=payload.holder_id_type,
        holder_id_number=payload.holder_id_number,
        issuer_department_id=department.pk,
        valid_until=payload.valid_until,
        fields=payload.fields,
        source=payload.source,
    )
    return Status(201, _public(request, licence))


@router.post(
    "/licences/{identifier}/revoke",
    response=LicencePublicOut,
    auth=requires(permissions.LICENCE_REVOKE),
    operation_id="licences_licence_revoke",
)
def licence_revoke(request: HttpRequest, identifier: str, payload: RevokeIn) -> Any:
    """Revoke a licence with reasons; needs ``licences.licence.revoke`` over its issuer."""
    licence = selectors.licence_by_identifier(identifier)
    if licence is None:
        raise Http404
    revoked = services.licence_revoke(
        actor=request.auth,  # type: ignore[attr-defined]
        licence=licence,
        reason=payload.reason,
    )
    return _public(request, revoked)
