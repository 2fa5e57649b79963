"""The platform's own API endpoints: who am I, organisations, audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from tongban.platform.access.permissions import AUDIT_VIEW, ORGS_VIEW
from tongban.platform.access.services import ScopePaths, require, scope_queryset
from tongban.platform.audit.models import AuditEntry
from tongban.platform.orgs.models import Department

router = Router(tags=["platform"])


class MeOut(Schema):
    username: str
    display_name: str
    kind: str
    admin_role: str
    language: str
    masked_id_number: str | None
    masked_mobile: str


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    short_name: str
    uscc: str
    division_code: str = Field(..., alias="division.code")
    division_name: str = Field(..., alias="division.name")
    parent_code: str | None = Field(None, alias="parent.code")


class AuditEntryOut(Schema):
    seq: int
    occurred_at: dt.datetime
    actor: str = Field(..., alias="actor_label")
    acting_for: str = Field(..., alias="acting_for_label")
    action: str
    object_type: str
    object_id: str
    object_label: str
    outcome: str
    ip: str
    request_id: str


class Pagination(PageNumberPagination):
    """``?page=N&page_size=M`` (default 20, at most 100); output ``{"items", "count"}``.

    The page is bounded so the offset always fits a 64-bit integer: an absurd page is a
    422, never a database error."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=10_000_000)
        page_size: int | None = Field(None, ge=1, le=100)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(page_size=20, max_page_size=100, **kwargs)


@router.get("/me", response=MeOut, summary="The signed-in user (personal data masked)")
def me(request: HttpRequest) -> dict[str, Any]:
    user: Any = request.auth  # type: ignore[attr-defined]
    return {
        "username": user.username,
        "display_name": user.display_name,
        "kind": user.kind,
        "admin_role": user.admin_role,
        "language": user.preferred_language,
        "masked_id_number": user.person.id_number_masked if user.person_id else None,
        "masked_mobile": user.mobile_masked,
    }


@router.get(
    "/orgs/departments",
    response=list[DepartmentOut],
    summary="Departments visible to the caller (orgs.view, scoped)",
)
@paginate(Pagination)
def departments(request: HttpRequest) -> Any:
    actor: Any = request.auth  # type: ignore[attr-defined]
    require(actor, ORGS_VIEW)
    queryset = Department.objects.select_related("division", "parent").order_by("code")
    return scope_queryset(
        actor, queryset, ORGS_VIEW, ScopePaths(department="", division="division")
    )


@router.get(
    "/audit/entries",
    response=list[AuditEntryOut],
    summary="The audit log, newest first (auditor only)",
)
@paginate(Pagination)
def audit_entries(request: HttpRequest, action: str = "", actor_id: int | None = None) -> Any:
    actor: Any = request.auth  # type: ignore[attr-defined]
    require(actor, AUDIT_VIEW)
    queryset = AuditEntry.objects.order_by("-seq")
    if action:
        queryset = queryset.filter(action=action)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    return queryset
