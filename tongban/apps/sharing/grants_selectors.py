"""Reads for consumer systems, sharing requests and grants, narrowed to the actor.

A request or grant is seen from two sides: the consumer department (``REQUEST_CREATE``
over ``consumer_department``) and the provider (``REQUEST_REVIEW`` or ``GRANT_MANAGE``
over the resource's provider). The ``access_*`` functions are the only way a page or
endpoint loads one of them: 404 when it is out of the actor's reach.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from tongban.apps.sharing import permissions
from tongban.apps.sharing.models import (
    REQUEST_SCOPE_CONSUMER,
    REQUEST_SCOPE_PROVIDER,
    SYSTEM_SCOPE,
    ConsumerSystem,
    Grant,
    RequestStatus,
    Resource,
    ShareType,
    SharingRequest,
)
from tongban.platform.access.services import ScopePaths, has_permission, scope_queryset
from tongban.platform.orgs.models import Department

DEPARTMENT_SCOPE = ScopePaths(department="", division="division")
GRANT_SCOPE_CONSUMER = ScopePaths(department="consumer_department")
GRANT_SCOPE_PROVIDER = ScopePaths(department="resource__provider")

SIDE_CONSUMER = "consumer"
SIDE_PROVIDER = "provider"


def department_in_scope(actor: Any, department: Department, permission: str) -> bool:
    rows = Department.objects.filter(pk=department.pk)
    return scope_queryset(actor, rows, permission, DEPARTMENT_SCOPE).exists()


def departments_for(actor: Any, permission: str) -> QuerySet[Department]:
    return scope_queryset(actor, Department.objects.order_by("code"), permission, DEPARTMENT_SCOPE)


# --------------------------------------------------------------------------- systems


def system_list_for(actor: Any) -> QuerySet[ConsumerSystem]:
    return scope_queryset(
        actor,
        ConsumerSystem.objects.select_related("department").order_by("department__code", "code"),
        permissions.SYSTEM_MANAGE,
        SYSTEM_SCOPE,
    )


def access_system_by_id(actor: Any, system_id: int) -> ConsumerSystem:
    system = system_list_for(actor).filter(pk=system_id).first()
    if system is None:
        raise Http404
    return system


def systems_for_request(actor: Any) -> QuerySet[ConsumerSystem]:
    """The active systems the actor may request data for (their department's)."""
    return scope_queryset(
        actor,
        ConsumerSystem.objects.filter(is_active=True)
        .select_related("department")
        .order_by("department__code", "code"),
        permissions.REQUEST_CREATE,
        SYSTEM_SCOPE,
    )


# --------------------------------------------------------------------------- resources


def requestable_resources() -> QuerySet[Resource]:
    """Published, not withdrawn resources that may be shared."""
    return (
        Resource.objects.filter(is_withdrawn=False, current__isnull=False)
        .exclude(current__share_type=ShareType.NONE)
        .select_related("current", "provider")
        .order_by("code")
    )


def resource_by_code(code: str) -> Resource | None:
    """A published resource (the catalogue is readable by every officer)."""
    return (
        Resource.objects.filter(code=code, current__isnull=False)
        .select_related("current", "provider")
        .first()
    )


# --------------------------------------------------------------------------- requests


def _requests() -> QuerySet[SharingRequest]:
    return SharingRequest.objects.select_related(
        "resource",
        "resource__provider",
        "resource_version",
        "consumer_department",
        "consumer_system",
        "requested_by",
        "decided_by",
    )


def request_list_for(
    actor: Any, *, side: str = SIDE_CONSUMER, status: str = ""
) -> QuerySet[SharingRequest]:
    if side == SIDE_PROVIDER:
        rows = scope_queryset(
            actor, _requests(), permissions.REQUEST_REVIEW, REQUEST_SCOPE_PROVIDER
        )
    else:
        rows = scope_queryset(
            actor, _requests(), permissions.REQUEST_CREATE, REQUEST_SCOPE_CONSUMER
        )
    if status in RequestStatus.values:
        rows = rows.filter(status=status)
    return rows.order_by("-requested_at", "-pk")


def requests_to_review(actor: Any) -> QuerySet[SharingRequest]:
    return request_list_for(actor, side=SIDE_PROVIDER, status=RequestStatus.SUBMITTED).order_by(
        "due_at", "pk"
    )


def access_request_by_id(actor: Any, request_id: int) -> SharingRequest:
    consumer = request_list_for(actor, side=SIDE_CONSUMER).filter(pk=request_id)
    provider = request_list_for(actor, side=SIDE_PROVIDER).filter(pk=request_id)
    found = consumer.first() or provider.first()
    if found is None:
        raise Http404
    return found


def request_actions(actor: Any, request: SharingRequest) -> set[str]:
    """What the actor may do with the request now (for showing buttons only: the services
    check again)."""
    if request.status != RequestStatus.SUBMITTED:
        return set()
    actions: set[str] = set()
    if request_list_for(actor, side=SIDE_PROVIDER).filter(pk=request.pk).exists():
        actions |= {"approve", "refuse"}
    if request_list_for(actor, side=SIDE_CONSUMER).filter(pk=request.pk).exists():
        actions.add("withdraw")
    return actions


# --------------------------------------------------------------------------- grants


def _grants() -> QuerySet[Grant]:
    return Grant.objects.select_related(
        "resource",
        "resource__provider",
        "resource__current",
        "consumer_system",
        "consumer_department",
        "request",
        "revoked_by",
    )


def grant_list_for(actor: Any, *, side: str = SIDE_CONSUMER) -> QuerySet[Grant]:
    if side == SIDE_PROVIDER:
        review = scope_queryset(actor, _grants(), permissions.REQUEST_REVIEW, GRANT_SCOPE_PROVIDER)
        manage = scope_queryset(actor, _grants(), permissions.GRANT_MANAGE, GRANT_SCOPE_PROVIDER)
        rows = _grants().filter(Q(pk__in=review.values("pk")) | Q(pk__in=manage.values("pk")))
    else:
        rows = scope_queryset(actor, _grants(), permissions.REQUEST_CREATE, GRANT_SCOPE_CONSUMER)
    return rows.order_by("-created_at", "-pk")


def access_grant_by_id(actor: Any, grant_id: int) -> Grant:
    found = (
        grant_list_for(actor, side=SIDE_CONSUMER).filter(pk=grant_id).first()
        or grant_list_for(actor, side=SIDE_PROVIDER).filter(pk=grant_id).first()
    )
    if found is None:
        raise Http404
    return found


def grant_state(grant: Grant, now: dt.datetime | None = None) -> str:
    """ "revoked", "expired", "pending" (not yet in force) or "live"."""
    now = now or timezone.now()
    if grant.revoked_at is not None:
        return "revoked"
    if grant.expires_at <= now:
        return "expired"
    if grant.valid_from > now:
        return "pending"
    return "live"


def may_revoke(actor: Any, grant: Grant) -> bool:
    if grant.revoked_at is not None or not has_permission(actor, permissions.GRANT_MANAGE):
        return False
    rows = Grant.objects.filter(pk=grant.pk)
    return scope_queryset(actor, rows, permissions.GRANT_MANAGE, GRANT_SCOPE_PROVIDER).exists()
