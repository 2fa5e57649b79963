"""收文办理 pages: the list (待登记 / 办理中 / 我的传阅与承办 / 已办结), paper registration,
registering a signed delivery, and the receipt's detail with its timeline and the form of
the current step. Each view parses the request, calls one service of ``receiving`` (or
``archive.receipt_archive``) and renders; reads go through ``selectors_receiving``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.documents import archive, receiving
from tongban.apps.documents import permissions as p
from tongban.apps.documents import selectors_receiving as selectors
from tongban.apps.documents.models import Classification, Retention, Urgency
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import deny, has_permission
from tongban.platform.ui.forms import date_or_none as _day
from tongban.platform.ui.forms import error_lines as _error_lines
from tongban.platform.ui.forms import int_or_none as _number

NAV = "documents"
PAGE_SIZE = 20
TAB_LABELS = {
    selectors.TAB_PENDING: "待登记",
    selectors.TAB_OPEN: "办理中",
    selectors.TAB_MINE: "我的传阅与承办",
    selectors.TAB_CLOSED: "已办结",
}


def _ids(values: list[str]) -> list[int]:
    return [number for number in (_number(value) for value in values) if number is not None]


@signed_in
def receipt_list(request: HttpRequest) -> HttpResponse:
    actor = request.user
    if not selectors.may_use_receipts(actor):
        deny(actor, p.HANDLE)
    may_receive = has_permission(actor, p.RECEIVE)
    tab = request.GET.get("tab", "")
    if tab not in selectors.TABS or (tab == selectors.TAB_PENDING and not may_receive):
        tab = selectors.TAB_PENDING if may_receive else selectors.TAB_OPEN
    query = request.GET.get("q", "")[:100]
    if tab == selectors.TAB_PENDING:
        rows: Any = selectors.deliveries_to_register(actor)
    else:
        rows = selectors.receipt_list_for(actor, tab=tab, query=query)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = [
        (key, _(label))
        for key, label in TAB_LABELS.items()
        if key != selectors.TAB_PENDING or may_receive
    ]
    return render(
        request,
        "documents/receipts.html",
        {
            "nav_active": NAV,
            "tab": tab,
            "tabs": tabs,
            "page": page,
            "query": query,
            "may_register_paper": may_receive,
            "pending_count": selectors.deliveries_to_register(actor).count() if may_receive else 0,
        },
    )


@permission(p.RECEIVE)
def receipt_new(request: HttpRequest) -> HttpResponse:
    """Register a paper document (登记纸质来文)."""
    actor = request.user
    departments = list(selectors.departments_for_paper(actor))
    if not departments:
        deny(actor, p.RECEIVE)
    errors: list[str] = []
    posted: dict[str, Any] = {}
    if request.method == "POST":
        posted = request.POST.dict()
        department = next(
            (d for d in departments if d.pk == _number(request.POST.get("department"))),
            departments[0] if len(departments) == 1 else None,
        )
        if department is None:
            errors.append(_("请选择收文部门"))
        else:
            try:
                receipt = receiving.receipt_register_paper(
                    actor=actor,
                    department=department,
                    source=request.POST.get("source", ""),
                    source_number=request.POST.get("source_number", ""),
                    title=request.POST.get("title", ""),
                    urgency=request.POST.get("urgency", ""),
                    classification=request.POST.get("classification", ""),
                )
            except ValidationError as error:
                errors = list(dict.fromkeys(_error_lines(error)))
            else:
                messages.success(
                    request,
                    _("已登记，收文编号%(number)s") % {"number": receiving.receipt_number(receipt)},
                )
                return redirect("documents:receipt_detail", receipt_id=receipt.pk)
    return render(
        request,
        "documents/receipt_new.html",
        {
            "nav_active": NAV,
            "departments": departments,
            "errors": errors,
            "posted": posted,
            "urgencies": Urgency.choices,
            "classifications": Classification.choices,
        },
        status=422 if errors else 200,
    )


@require_POST
@permission(p.RECEIVE)
def receipt_register(request: HttpRequest, delivery_id: int) -> HttpResponse:
    actor = request.user
    delivery = selectors.access_delivery_to_register(actor, delivery_id)
    try:
        receipt = receiving.receipt_register(actor=actor, delivery=delivery)
    except ValidationError as error:
        for line in dict.fromkeys(_error_lines(error)):
            messages.error(request, line)
        return redirect("documents:receipts")
    messages.success(
        request, _("已登记，收文编号%(number)s") % {"number": receiving.receipt_number(receipt)}
    )
    return redirect("documents:receipt_detail", receipt_id=receipt.pk)


def _pdf_link(receipt: Any) -> str:
    """``documents:document_pdf`` for an exchanged document ("" for a paper receipt)."""
    if receipt.delivery_id is None:
        return ""
    return reverse("documents:document_pdf", args=[receipt.delivery.document_id])


def _detail(
    request: HttpRequest, receipt: Any, *, errors: list[str] | None = None, form: str = ""
) -> HttpResponse:
    actor = request.user
    tasks = selectors.receipt_tasks(receipt)
    actions = selectors.receipt_actions(actor, receipt)
    context = {
        "nav_active": NAV,
        "receipt": receipt,
        "number": receiving.receipt_number(receipt),
        "timeline": selectors.receipt_timeline(receipt, tasks),
        "tasks": tasks,
        "my_tasks": [t for t in tasks if t.assignee_id == actor.pk and t.done_at is None],
        "actions": actions,
        "colleagues": receiving.colleagues(receipt.department)
        if actions & {"instruct", "circulate", "assign"}
        else [],
        "retentions": Retention.choices,
        "errors": errors or [],
        "form": form,
        "posted": request.POST if errors else {},
        "pdf_link": _pdf_link(receipt),
    }
    return render(request, "documents/receipt_detail.html", context, status=422 if errors else 200)


@signed_in
def receipt_detail(request: HttpRequest, receipt_id: int) -> HttpResponse:
    return _detail(request, selectors.access_receipt_by_id(request.user, receipt_id))


ACTIONS = ("propose", "instruct", "circulate", "assign", "done", "close", "archive")


@require_POST
@signed_in
def receipt_act(request: HttpRequest, receipt_id: int, action: str) -> HttpResponse:
    actor = request.user
    if action not in ACTIONS:
        raise Http404
    receipt = selectors.access_receipt_by_id(actor, receipt_id)
    post = request.POST
    try:
        if action == "propose":
            receiving.receipt_propose(
                actor=actor, receipt=receipt, proposal=post.get("proposal", "")
            )
            done = _("已提出拟办意见")
        elif action == "instruct":
            receiving.receipt_instruct(
                actor=actor,
                receipt=receipt,
                instruction=post.get("instruction", ""),
                deadline=_day(post.get("deadline")),
                handlers=_ids(post.getlist("handlers")),
                readers=_ids(post.getlist("readers")),
            )
            done = _("已批办")
        elif action == "circulate":
            receiving.receipt_circulate(
                actor=actor, receipt=receipt, readers=_ids(post.getlist("readers"))
            )
            done = _("已送传阅")
        elif action == "assign":
            receiving.receipt_assign(
                actor=actor,
                receipt=receipt,
                handlers=_ids(post.getlist("handlers")),
                deadline=_day(post.get("deadline")),
            )
            done = _("已交承办")
        elif action == "done":
            task = selectors.access_task_by_id(actor, receipt, _number(post.get("task")) or 0)
            receiving.receipt_task_done(actor=actor, task=task, comment=post.get("comment", ""))
            done = _("已办理")
        elif action == "close":
            receiving.receipt_close(actor=actor, receipt=receipt, result=post.get("result", ""))
            done = _("已办结")
        else:
            done = _archive(actor, receipt, post.get("retention", ""))
    except ValidationError as error:
        return _detail(
            request, receipt, errors=list(dict.fromkeys(_error_lines(error))), form=action
        )
    messages.success(request, done)
    return redirect("documents:receipt_detail", receipt_id=receipt.pk)


def _archive(actor: Any, receipt: Any, retention: str) -> str:
    """``archive.receipt_archive`` with the chosen retention."""
    if retention not in Retention.values:
        raise ValidationError({"retention": _("请选择保管期限")})
    archive.receipt_archive(actor=actor, receipt=receipt, retention=retention)
    return _("已归档")
