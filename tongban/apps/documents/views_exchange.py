"""公文交换 pages: send a sealed document (org tree + saved groups), the sender's per-unit
status (counts, filters, CSV, reminders, recall), the receiving unit's inbox (read, sign,
return with a 退文告知单) and the saved groups. Each view parses the request, calls one
service or selector and renders."""

from __future__ import annotations

import csv
import io
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.documents import exchange
from tongban.apps.documents import permissions as p
from tongban.apps.documents import selectors_exchange as selectors
from tongban.apps.documents.models import Delivery, DeliveryState, RecipientGroup
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import deny, has_permission
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department
from tongban.platform.ui.forms import error_lines, int_or_none

NAV = "documents"
PAGE_SIZE = 50
PREVIEW_NAMES = 60


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _ids(request: HttpRequest, name: str) -> list[int]:
    return [n for n in (int_or_none(v) for v in request.POST.getlist(name)) if n]


# --------------------------------------------------------------------------- sending


def _picker_context(
    sender: Department, *, picked: set[int], picked_groups: set[int]
) -> dict[str, Any]:
    groups = list(exchange.groups_usable_by(sender).prefetch_related("members"))
    return {
        "tree": selectors.org_tree(exclude=sender.pk),
        "groups": [(group, ",".join(str(m.pk) for m in group.members.all())) for group in groups],
        "picked": picked,
        "picked_groups": picked_groups,
        "sender_id": sender.pk,
    }


@permission(p.NUMBER_SEAL)
def document_send(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.access_document_for_send(request.user, document_id)
    values: dict[str, Any] = {
        "message": "",
        "sign_within_hours": exchange.sign_within_default(),
    }
    picked: set[int] = set()
    picked_groups: set[int] = set()
    errors: list[str] = []
    preview: dict[str, Any] | None = None
    if request.method == "POST":
        picked = set(_ids(request, "recipients"))
        divisions = _ids(request, "divisions")
        if divisions:
            picked |= set(selectors.division_department_ids(divisions, exclude=document.issuer_id))
        picked_groups = set(_ids(request, "groups"))
        values = {
            "message": request.POST.get("message", "").strip(),
            "sign_within_hours": request.POST.get("sign_within_hours", "").strip(),
        }
        hours = int_or_none(values["sign_within_hours"])
        if request.POST.get("action") == "preview":
            resolved, problems = exchange.recipients_resolve(
                document=document, recipients=sorted(picked), groups=sorted(picked_groups)
            )
            errors = [str(message) for message in problems.values()]
            names = list(
                Department.objects.filter(pk__in=resolved[:PREVIEW_NAMES])
                .order_by("code")
                .values_list("name", flat=True)
            )
            preview = {"count": len(resolved), "names": names, "more": len(resolved) > len(names)}
        else:
            try:
                dispatch = exchange.document_send(
                    actor=_actor(request),
                    document=document,
                    recipients=sorted(picked),
                    groups=sorted(picked_groups),
                    message=values["message"],
                    sign_within_hours=hours if hours is not None else -1,
                )
            except ValidationError as error:
                errors = error_lines(error)
            else:
                messages.success(
                    request,
                    _("已分发至%(n)s个单位，通知将陆续送达") % {"n": dispatch.recipient_count},
                )
                return redirect("documents:dispatch_detail", dispatch.pk)
    context = {
        "nav_active": NAV,
        "document": document,
        "sendable": document.state in exchange.SENDABLE_STATES,
        "values": values,
        "errors": errors,
        "preview": preview,
        "dispatches": selectors.dispatches_for_document(document),
        **_picker_context(document.issuer, picked=picked, picked_groups=picked_groups),
    }
    return render(request, "documents/dispatch_new.html", context, status=400 if errors else 200)


STATE_FILTERS = (
    ("", ""),
    (DeliveryState.PENDING, DeliveryState.PENDING.label),
    (DeliveryState.SIGNED, DeliveryState.SIGNED.label),
    (DeliveryState.REGISTERED, DeliveryState.REGISTERED.label),
    (DeliveryState.RETURNED, DeliveryState.RETURNED.label),
    (DeliveryState.RECALLED, DeliveryState.RECALLED.label),
)


@signed_in
def dispatch_detail(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = selectors.access_dispatch(request.user, dispatch_id)
    state = request.GET.get("state", "")
    query = request.GET.get("q", "")[:60]
    unread = request.GET.get("unread") == "1"
    deliveries = selectors.dispatch_deliveries(dispatch, state=state, query=query, unread=unread)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav_active": NAV,
        "dispatch": dispatch,
        "document": dispatch.document,
        "counts": selectors.dispatch_counts(dispatch),
        "page": page,
        "state": state,
        "query": query,
        "unread": unread,
        "states": [(value, label or _("全部")) for value, label in STATE_FILTERS],
        "manage": selectors.can_manage_dispatch(request.user, dispatch),
    }
    return render(request, "documents/dispatch_detail.html", context)


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # a spreadsheet would run a cell starting with these as a formula
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _moment(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@signed_in
def dispatch_csv(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = selectors.access_dispatch(request.user, dispatch_id)
    deliveries = selectors.dispatch_deliveries(
        dispatch, state=request.GET.get("state", ""), query=request.GET.get("q", "")[:60]
    ).select_related("returned_by")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("单位编码"),
            _("单位名称"),
            _("状态"),
            _("送达时间"),
            _("阅读时间"),
            _("阅读人"),
            _("签收时间"),
            _("签收人"),
            _("退回时间"),
            _("退文理由"),
            _("撤回时间"),
            _("签收时限"),
            _("催办次数"),
        ]
    )
    for delivery in deliveries.iterator(chunk_size=2000):
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    delivery.recipient.code,
                    delivery.recipient.name,
                    delivery.get_state_display(),
                    _moment(delivery.delivered_at),
                    _moment(delivery.read_at),
                    delivery.read_by.display_name if delivery.read_by else "",
                    _moment(delivery.signed_at),
                    delivery.signed_by.display_name if delivery.signed_by else "",
                    _moment(delivery.returned_at),
                    delivery.return_reason,
                    _moment(delivery.recalled_at),
                    _moment(delivery.due_at),
                    delivery.reminder_count,
                )
            ]
        )
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="dispatch-{dispatch.pk}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@permission(p.NUMBER_SEAL)
def dispatch_remind(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = selectors.access_dispatch(request.user, dispatch_id)
    delivery: Delivery | None = None
    delivery_id = int_or_none(request.POST.get("delivery"))
    if delivery_id:
        delivery = selectors.access_delivery_for_sender(request.user, delivery_id)
    try:
        count = exchange.dispatch_remind(
            actor=_actor(request), dispatch=dispatch, delivery=delivery
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("已催办%(n)s个单位") % {"n": count})
    return redirect("documents:dispatch_detail", dispatch.pk)


@require_POST
@permission(p.NUMBER_SEAL)
def delivery_recall(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery_for_sender(request.user, delivery_id)
    try:
        exchange.delivery_recall(
            actor=_actor(request), delivery=delivery, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("已撤回"))
    return redirect("documents:dispatch_detail", delivery.dispatch_id)


# --------------------------------------------------------------------------- receiving unit

INBOX_TABS = (
    (DeliveryState.PENDING, DeliveryState.PENDING.label),
    (DeliveryState.SIGNED, DeliveryState.SIGNED.label),
    (DeliveryState.RETURNED, DeliveryState.RETURNED.label),
    ("", ""),
)


@permission(p.RECEIVE)
def inbox(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    deliveries = selectors.inbox_for(actor=request.user, state=state)
    if not state:
        deliveries = deliveries.exclude(state=DeliveryState.RECALLED)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "nav_active": NAV,
        "page": page,
        "state": state,
        "tabs": [(value, label or _("全部")) for value, label in INBOX_TABS],
        "counts": selectors.inbox_counts(actor=request.user),
    }
    return render(request, "documents/inbox.html", context)


@permission(p.RECEIVE)
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery_for_recipient(request.user, delivery_id)
    delivery = exchange.delivery_open(actor=_actor(request), delivery=delivery)
    context = {
        "nav_active": NAV,
        "delivery": delivery,
        "document": delivery.document,
        "pdf_url": reverse("documents:document_pdf", args=[delivery.document_id])
        if delivery.state != DeliveryState.RECALLED
        else "",
        "errors": [],
    }
    return render(request, "documents/delivery_detail.html", context)


@require_POST
@permission(p.RECEIVE)
def delivery_sign(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery_for_recipient(request.user, delivery_id)
    try:
        exchange.delivery_sign(actor=_actor(request), delivery=delivery)
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("已签收"))
    return redirect("documents:delivery_detail", delivery.pk)


@require_POST
@permission(p.RECEIVE)
def delivery_return(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_delivery_for_recipient(request.user, delivery_id)
    try:
        exchange.delivery_return(
            actor=_actor(request), delivery=delivery, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        context = {
            "nav_active": NAV,
            "delivery": delivery,
            "document": delivery.document,
            "pdf_url": reverse("documents:document_pdf", args=[delivery.document_id]),
            "errors": error_lines(error),
            "reason": request.POST.get("reason", "")[:2000],
        }
        return render(request, "documents/delivery_detail.html", context, status=400)
    messages.success(request, _("已退回，退文告知单已生成"))
    return redirect("documents:delivery_return_notice", delivery.pk)


@signed_in
def delivery_return_notice(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = selectors.access_return_notice(request.user, delivery_id)
    context = {"nav_active": NAV, "delivery": delivery, "document": delivery.document}
    return render(request, "documents/delivery_return_notice.html", context)


# --------------------------------------------------------------------------- groups


def _may_see_groups(user: Any) -> None:
    if not (has_permission(user, p.GROUP_MANAGE) or has_permission(user, p.NUMBER_SEAL)):
        deny(user, p.GROUP_MANAGE)


def _owner_from(request: HttpRequest) -> Department | None:
    owner_id = int_or_none(request.POST.get("owner"))
    if not owner_id:
        return None
    owner = selectors.group_owner_choices(request.user).filter(pk=owner_id).first()
    if owner is None:
        raise PermissionDenied(_("您没有执行此操作的权限"))
    return owner


def _group_form_context(request: HttpRequest, *, picked: set[int]) -> dict[str, Any]:
    return {
        "tree": selectors.org_tree(),
        "groups": [],
        "picked": picked,
        "picked_groups": set(),
        "sender_id": 0,
    }


@signed_in
def groups(request: HttpRequest) -> HttpResponse:
    _may_see_groups(request.user)
    owners = list(selectors.group_owner_choices(request.user))
    city_wide = has_permission(request.user, p.GROUP_MANAGE)
    values: dict[str, Any] = {
        "name": "",
        "owner": "" if city_wide else (owners[0].pk if owners else ""),
    }
    picked: set[int] = set()
    errors: list[str] = []
    if request.method == "POST":
        picked = set(_ids(request, "recipients"))
        divisions = _ids(request, "divisions")
        if divisions:
            picked |= set(selectors.division_department_ids(divisions))
        values = {
            "name": request.POST.get("name", "").strip(),
            "owner": request.POST.get("owner", ""),
        }
        try:
            group = exchange.group_create(
                actor=_actor(request),
                owner=_owner_from(request),
                name=values["name"],
                members=sorted(picked),
            )
        except ValidationError as error:
            errors = error_lines(error)
        else:
            messages.success(request, _("分组已保存"))
            return redirect("documents:group_detail", group.pk)
    context = {
        "nav_active": NAV,
        "group_list": selectors.groups_for(actor=request.user),
        "owners": owners,
        "city_wide": city_wide,
        "values": values,
        "errors": errors,
        **_group_form_context(request, picked=picked),
    }
    return render(request, "documents/groups.html", context, status=400 if errors else 200)


@signed_in
def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    _may_see_groups(request.user)
    group: RecipientGroup = selectors.access_group(request.user, group_id)
    manage = exchange.group_manageable(request.user, group.owner)
    picked = set(selectors.group_member_ids(group))
    name = group.name
    errors: list[str] = []
    if request.method == "POST":
        picked = set(_ids(request, "recipients"))
        divisions = _ids(request, "divisions")
        if divisions:
            picked |= set(selectors.division_department_ids(divisions))
        name = request.POST.get("name", "").strip()
        try:
            exchange.group_update(
                actor=_actor(request), group=group, name=name, members=sorted(picked)
            )
        except ValidationError as error:
            errors = error_lines(error)
        else:
            messages.success(request, _("分组已保存"))
            return redirect("documents:group_detail", group.pk)
    context = {
        "nav_active": NAV,
        "group": group,
        "name": name,
        "manage": manage,
        "members": group.members.order_by("code"),
        "errors": errors,
        **_group_form_context(request, picked=picked),
    }
    return render(request, "documents/group_detail.html", context, status=400 if errors else 200)


@require_POST
@signed_in
def group_delete(request: HttpRequest, group_id: int) -> HttpResponse:
    _may_see_groups(request.user)
    group = selectors.access_group(request.user, group_id)
    exchange.group_delete(actor=_actor(request), group=group)
    messages.success(request, _("分组已删除"))
    return redirect("documents:groups")
