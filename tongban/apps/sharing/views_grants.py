"""Sharing pages: consumer systems and their credentials, sharing requests (new, list,
detail with the provider's decision and the consumer's withdrawal) and grants (list,
detail, revocation). Each view parses the request, calls one service or read of
``grants``/``grants_selectors`` and renders."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.sharing import grants, permissions
from tongban.apps.sharing import grants_selectors as selectors
from tongban.apps.sharing.models import InfoItem, RequestStatus, SharingRequest
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import deny, has_permission
from tongban.platform.ui.forms import date_or_none as _day
from tongban.platform.ui.forms import error_lines as _error_lines
from tongban.platform.ui.forms import int_or_none as _number

PAGE_SIZE = 20
NAV = "sharing"


def _base(request: HttpRequest, active: str) -> dict[str, Any]:
    user = request.user
    return {
        "nav_active": NAV,
        "gr_active": active,
        "gr_nav": {
            "create": has_permission(user, permissions.REQUEST_CREATE),
            "review": has_permission(user, permissions.REQUEST_REVIEW),
            "grants": any(
                has_permission(user, code)
                for code in (
                    permissions.REQUEST_CREATE,
                    permissions.REQUEST_REVIEW,
                    permissions.GRANT_MANAGE,
                )
            ),
            "systems": has_permission(user, permissions.SYSTEM_MANAGE),
        },
    }


def _rest(request: HttpRequest) -> str:
    rest = request.GET.copy()
    rest.pop("page", None)
    return rest.urlencode()


def _item_names(version_id: int) -> dict[str, InfoItem]:
    return {item.code: item for item in InfoItem.objects.filter(version_id=version_id)}


# --------------------------------------------------------------------------- systems


@permission(permissions.SYSTEM_MANAGE)
def system_list(request: HttpRequest) -> HttpResponse:
    """The systems of the departments the admin manages; POST registers a new one and
    shows its client secret once."""
    actor = request.user
    departments = list(selectors.departments_for(actor, permissions.SYSTEM_MANAGE))
    errors: list[str] = []
    posted: dict[str, Any] = {}
    created = None
    secret = ""
    if request.method == "POST":
        posted = request.POST.dict()
        department = next(
            (d for d in departments if d.pk == _number(request.POST.get("department"))), None
        )
        if department is None:
            errors.append(_("请选择所属部门"))
        else:
            try:
                created, secret = grants.system_create(
                    actor=actor,
                    department=department,
                    code=request.POST.get("code", ""),
                    name=request.POST.get("name", ""),
                    contact=request.POST.get("contact", ""),
                    is_platform=request.POST.get("is_platform") == "on",
                    public_key_pem=request.POST.get("public_key_pem", ""),
                )
            except ValidationError as error:
                errors = list(dict.fromkeys(_error_lines(error)))
            else:
                posted = {}
    context = {
        **_base(request, "systems"),
        "systems": selectors.system_list_for(actor),
        "departments": departments,
        "errors": errors,
        "posted": posted,
        "secret": secret,
        "secret_for": created,
    }
    response = render(
        request, "sharing/grants/systems.html", context, status=422 if errors else 200
    )
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@permission(permissions.SYSTEM_MANAGE)
def system_detail(request: HttpRequest, system_id: int) -> HttpResponse:
    system = selectors.access_system_by_id(request.user, system_id)
    return _system_page(request, system)


def _system_page(
    request: HttpRequest,
    system: Any,
    *,
    secret: str = "",
    errors: list[str] | None = None,
    pem: str = "",
) -> HttpResponse:
    context = {
        **_base(request, "systems"),
        "system": system,
        "secret": secret,
        "errors": errors or [],
        "pem": pem,
        "grants": system.grants.select_related("resource", "resource__current").order_by(
            "-created_at"
        )[:50],
    }
    response = render(request, "sharing/grants/system.html", context, status=422 if errors else 200)
    if secret:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@permission(permissions.SYSTEM_MANAGE)
def system_act(request: HttpRequest, system_id: int, action: str) -> HttpResponse:
    actor = request.user
    system = selectors.access_system_by_id(actor, system_id)
    try:
        if action == "rotate":
            secret = grants.system_rotate_secret(actor=actor, system=system)
            return _system_page(request, system, secret=secret)
        if action == "key":
            grants.system_set_public_key(
                actor=actor, system=system, public_key_pem=request.POST.get("public_key_pem", "")
            )
            messages.success(request, _("SM2公钥已更新"))
        elif action == "deactivate":
            grants.system_set_active(actor=actor, system=system, active=False)
            messages.success(request, _("已停用该系统，其访问令牌已失效"))
        elif action == "activate":
            grants.system_set_active(actor=actor, system=system, active=True)
            messages.success(request, _("已重新启用该系统"))
        else:
            raise Http404
    except ValidationError as error:
        return _system_page(
            request,
            system,
            errors=list(dict.fromkeys(_error_lines(error))),
            pem=request.POST.get("public_key_pem", ""),
        )
    return redirect("sharing:system", system_id=system.pk)


# --------------------------------------------------------------------------- requests


@signed_in
def request_list(request: HttpRequest) -> HttpResponse:
    """My department's requests (``?side=consumer``) or those on our resources
    (``?side=provider``), filtered by status."""
    actor = request.user
    may_create = has_permission(actor, permissions.REQUEST_CREATE)
    may_review = has_permission(actor, permissions.REQUEST_REVIEW)
    if not (may_create or may_review):
        deny(actor, permissions.REQUEST_CREATE)
    side = request.GET.get("side", "")
    if side not in (selectors.SIDE_CONSUMER, selectors.SIDE_PROVIDER):
        side = selectors.SIDE_CONSUMER if may_create else selectors.SIDE_PROVIDER
    status = request.GET.get("status", "")
    rows = selectors.request_list_for(actor, side=side, status=status)
    if side == selectors.SIDE_PROVIDER and status == RequestStatus.SUBMITTED:
        rows = rows.order_by("due_at", "pk")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_base(request, "review" if side == selectors.SIDE_PROVIDER else "requests"),
        "page": page,
        "side": side,
        "status": status if status in RequestStatus.values else "",
        "statuses": RequestStatus.choices,
        "may_create": may_create,
        "may_review": may_review,
        "querystring": _rest(request),
    }
    return render(request, "sharing/grants/requests.html", context)


@permission(permissions.REQUEST_CREATE)
def request_new(request: HttpRequest) -> HttpResponse:
    """The request form for a published resource (``?resource=<code>``); without one, the
    list of requestable resources."""
    actor = request.user
    source = request.POST if request.method == "POST" else request.GET
    code = (source.get("resource") or "").strip()
    resource = selectors.resource_by_code(code) if code else None
    if code and resource is None:
        raise Http404
    systems = list(selectors.systems_for_request(actor))
    errors: list[str] = []
    if resource is None:
        context = {
            **_base(request, "requests"),
            "resources": selectors.requestable_resources()[:500],
        }
        return render(request, "sharing/grants/request_pick.html", context)
    assert resource.current is not None
    catalogue = list(InfoItem.objects.filter(version=resource.current).order_by("order", "id"))
    if request.method == "POST":
        system = next((s for s in systems if s.pk == _number(request.POST.get("system"))), None)
        if system is None:
            errors.append(_("请选择本部门的接入系统"))
        else:
            try:
                created = grants.request_create(
                    actor=actor,
                    resource=resource,
                    system=system,
                    items=request.POST.getlist("items"),
                    purpose=request.POST.get("purpose", ""),
                    legal_basis=request.POST.get("legal_basis", ""),
                    period_start=_day(request.POST.get("period_start")),  # type: ignore[arg-type]
                    period_end=_day(request.POST.get("period_end")),  # type: ignore[arg-type]
                )
            except ValidationError as error:
                errors = list(dict.fromkeys(_error_lines(error)))
            else:
                if created.status == RequestStatus.APPROVED:
                    messages.success(request, _("无条件共享资源，已自动授权"))
                else:
                    messages.success(request, _("申请已提交，等待提供方审核"))
                return redirect("sharing:request", request_id=created.pk)
    today = timezone.localdate()
    chosen = set(request.POST.getlist("items")) if request.method == "POST" else set()
    context = {
        **_base(request, "requests"),
        "resource": resource,
        "version": resource.current,
        "catalogue": catalogue,
        "chosen": chosen,
        "systems": systems,
        "selected_system": _number(source.get("system")),
        "purpose": source.get("purpose", ""),
        "legal_basis": source.get("legal_basis", ""),
        "period_start": source.get("period_start", today.isoformat()),
        "period_end": source.get("period_end", (today + dt.timedelta(days=365)).isoformat()),
        "errors": errors,
        "not_shared": resource.current.share_type == "none" or resource.is_withdrawn,
    }
    return render(
        request, "sharing/grants/request_new.html", context, status=422 if errors else 200
    )


def _request_page(
    request: HttpRequest,
    item: SharingRequest,
    *,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = request.user
    names = _item_names(item.resource_version_id)
    requested = [names[code] for code in item.items if code in names]
    masked = set(grants.default_masked_items(list(item.items), list(names.values())))
    grant = getattr(item, "grant", None) if item.status == RequestStatus.APPROVED else None
    context = {
        **_base(request, "requests"),
        "item": item,
        "requested": requested,
        "default_masked": masked,
        "actions": selectors.request_actions(actor, item),
        "grant": grant,
        "errors": errors or [],
        "default_rate_limit": grants.DEFAULT_RATE_LIMIT,
    }
    return render(request, "sharing/grants/request.html", context, status=status)


@signed_in
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    item = selectors.access_request_by_id(request.user, request_id)
    return _request_page(request, item)


@require_POST
@signed_in
def request_act(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    actor = request.user
    item = selectors.access_request_by_id(actor, request_id)
    try:
        if action == "approve":
            rate = request.POST.get("rate_limit", "").strip()
            grant = grants.request_approve(
                actor=actor,
                request=item,
                items=request.POST.getlist("items"),
                masked_items=request.POST.getlist("masked_items"),
                rate_limit=_number(rate) if rate else None,
                expires_on=_day(request.POST.get("expires_on")),
                comment=request.POST.get("comment", ""),
            )
            messages.success(request, _("已同意申请并生成共享授权"))
            return redirect("sharing:grant", grant_id=grant.pk)
        if action == "refuse":
            grants.request_refuse(
                actor=actor, request=item, reasons=request.POST.get("reasons", "")
            )
            messages.success(request, _("已拒绝该申请"))
        elif action == "withdraw":
            grants.request_withdraw(actor=actor, request=item)
            messages.success(request, _("已撤回该申请"))
        else:
            raise Http404
    except ValidationError as error:
        return _request_page(
            request, item, errors=list(dict.fromkeys(_error_lines(error))), status=422
        )
    return redirect("sharing:request", request_id=item.pk)


# --------------------------------------------------------------------------- grants


@signed_in
def grant_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    may_consume = has_permission(actor, permissions.REQUEST_CREATE)
    may_provide = has_permission(actor, permissions.REQUEST_REVIEW) or has_permission(
        actor, permissions.GRANT_MANAGE
    )
    if not (may_consume or may_provide):
        deny(actor, permissions.GRANT_MANAGE)
    side = request.GET.get("side", "")
    if side not in (selectors.SIDE_CONSUMER, selectors.SIDE_PROVIDER):
        side = selectors.SIDE_CONSUMER if may_consume else selectors.SIDE_PROVIDER
    rows = selectors.grant_list_for(actor, side=side)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **_base(request, "grants"),
        "page": page,
        "rows": [(grant, selectors.grant_state(grant)) for grant in page],
        "side": side,
        "may_consume": may_consume,
        "may_provide": may_provide,
        "querystring": _rest(request),
    }
    return render(request, "sharing/grants/grants.html", context)


def _grant_page(
    request: HttpRequest, grant: Any, *, errors: list[str] | None = None, status: int = 200
) -> HttpResponse:
    version_id = grant.request.resource_version_id if grant.request else grant.resource.current_id
    names = _item_names(version_id) if version_id else {}
    context = {
        **_base(request, "grants"),
        "grant": grant,
        "state": selectors.grant_state(grant),
        "items": [(code, names.get(code), code in grant.masked_items) for code in grant.items],
        "may_revoke": selectors.may_revoke(request.user, grant),
        "errors": errors or [],
    }
    return render(request, "sharing/grants/grant.html", context, status=status)


@signed_in
def grant_detail(request: HttpRequest, grant_id: int) -> HttpResponse:
    return _grant_page(request, selectors.access_grant_by_id(request.user, grant_id))


@require_POST
@permission(permissions.GRANT_MANAGE)
def grant_revoke(request: HttpRequest, grant_id: int) -> HttpResponse:
    actor = request.user
    grant = selectors.access_grant_by_id(actor, grant_id)
    try:
        grants.grant_revoke(actor=actor, grant=grant, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        return _grant_page(
            request, grant, errors=list(dict.fromkeys(_error_lines(error))), status=422
        )
    messages.success(request, _("已撤销该授权"))
    return redirect("sharing:grant", grant_id=grant.pk)
