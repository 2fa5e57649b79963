"""Pages of drafting and sign-off (发文办理): the list with its tabs, a new draft, the
detail page (every element, the current step's form, opinions, revisions), editing, the
differences between two revisions, the step actions and the draft PDF preview. Each view
parses the request, calls one service or selector and renders."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tongban.apps.documents import drafting, process, selectors_drafting
from tongban.apps.documents import permissions as p
from tongban.apps.documents.convert import document_to_layout
from tongban.apps.documents.models import (
    Classification,
    Direction,
    Document,
    DocumentAttachment,
    DocumentState,
    Kind,
    Retention,
    Urgency,
)
from tongban.platform.access.decorators import signed_in
from tongban.platform.access.services import ScopePaths, has_permission, scope_queryset
from tongban.platform.accounts.models import User
from tongban.platform.files.services import file_read_record
from tongban.platform.orgs.models import Department
from tongban.platform.ui.forms import error_lines, int_or_none

NAV = "documents"
PAGE_SIZE = 30
ANY_DRAFTING = (p.DRAFT, p.CHECK, p.COUNTERSIGN, p.SIGN_OFF, p.NUMBER_SEAL, p.VIEW)
LIST_FIELDS = drafting.LIST_FIELDS


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _require_any(request: HttpRequest) -> None:
    from tongban.platform.access.services import deny

    if not any(has_permission(request.user, code) for code in ANY_DRAFTING):
        deny(request.user, p.VIEW)


def _choices() -> dict[str, Any]:
    return {
        "kinds": Kind.choices,
        "directions": Direction.choices,
        "classifications": Classification.choices,
        "urgencies": Urgency.choices,
        "retentions": Retention.choices,
    }


def _form_values(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    values: dict[str, Any] = {name: post.get(name, "") for name in drafting.FIELDS}
    for name in LIST_FIELDS:
        values[name] = post.get(name, "")
    return values


def _document_values(document: Document) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(document, name) for name in drafting.FIELDS}
    for name in LIST_FIELDS:
        values[name] = "\n".join(getattr(document, name) or [])
    values["printed_on"] = document.printed_on.isoformat() if document.printed_on else ""
    return values


@signed_in
def draft_list(request: HttpRequest) -> HttpResponse:
    """发文办理: 待我处理 / 我起草的 / 本部门发文."""
    _require_any(request)
    actor = _actor(request)
    tab = request.GET.get("tab", "todo")
    pending: list[selectors_drafting.Pending] = []
    page = None
    if tab == "mine":
        page = Paginator(selectors_drafting.drafted_by(actor), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    elif tab == "department":
        documents = selectors_drafting.department_documents(actor)
        state = request.GET.get("state", "")
        if state in DocumentState.values:
            documents = documents.filter(state=state)
        page = Paginator(documents, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        tab = "todo"
        pending = selectors_drafting.pending_for(actor)
    context = {
        "nav_active": NAV,
        "tab": tab,
        "pending": pending,
        "page": page,
        "states": DocumentState.choices,
        "state": request.GET.get("state", ""),
        "can_draft": has_permission(actor, p.DRAFT),
    }
    return render(request, "documents/draft_list.html", context)


def _issuers(actor: User) -> list[Department]:
    return list(
        scope_queryset(
            actor, Department.objects.order_by("code"), p.DRAFT, ScopePaths(department="")
        )
    )


def _form_context(actor: User, values: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    return {
        "nav_active": NAV,
        "values": values,
        "errors": errors,
        "departments": Department.objects.order_by("code"),
        "issuers": _issuers(actor),
        **_choices(),
    }


@signed_in
def document_new(request: HttpRequest) -> HttpResponse:
    from tongban.platform.access.services import require

    actor = _actor(request)
    require(actor, p.DRAFT)
    issuers = _issuers(actor)
    values: dict[str, Any] = {
        "kind": Kind.FILE,
        "direction": Direction.DOWNWARD,
        "retention": Retention.LONG,
        "issuer": str(issuers[0].pk) if issuers else "",
        "countersign": [],
    }
    if issuers:
        values["signature"] = issuers[0].name
    errors: list[str] = []
    if request.method == "POST":
        values = _form_values(request)
        values["issuer"] = request.POST.get("issuer", "")
        values["countersign"] = [
            c for c in (int_or_none(v) for v in request.POST.getlist("countersign")) if c
        ]
        try:
            document = drafting.document_create(
                actor=actor,
                issuer_id=int_or_none(values["issuer"]),
                values=values,
                countersign_ids=values["countersign"],
            )
        except ValidationError as error:
            errors = error_lines(error)
        else:
            messages.success(request, _("公文草稿已保存"))
            return redirect("documents:document_detail", document.pk)
    context = _form_context(actor, values, errors)
    context["is_new"] = True
    return render(request, "documents/draft_form.html", context, status=400 if errors else 200)


@signed_in
def document_edit(request: HttpRequest, document_id: int) -> HttpResponse:
    actor = _actor(request)
    document = selectors_drafting.access_document(actor, document_id)
    try:
        drafting.require_editor(actor, document)  # readers who may not edit get 403
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
        return redirect("documents:document_detail", document.pk)
    values = _document_values(document)
    values["countersign"] = list(document.countersign_departments.values_list("pk", flat=True))
    errors: list[str] = []
    if request.method == "POST":
        values = _form_values(request)
        ids = [c for c in (int_or_none(v) for v in request.POST.getlist("countersign")) if c]
        values["countersign"] = ids
        try:
            drafting.document_update(
                actor=actor,
                document=document,
                values=values,
                countersign_ids=ids if document.state == DocumentState.DRAFTING else None,
                note=request.POST.get("note", ""),
            )
        except ValidationError as error:
            errors = error_lines(error)
        else:
            messages.success(request, _("公文已保存"))
            return redirect("documents:document_detail", document.pk)
    context = _form_context(actor, values, errors)
    context.update({"document": document, "is_new": False})
    return render(request, "documents/draft_form.html", context, status=400 if errors else 200)


@signed_in
def document_detail(request: HttpRequest, document_id: int) -> HttpResponse:
    actor = _actor(request)
    document = selectors_drafting.access_document(actor, document_id)
    tasks = drafting.actionable_tasks(actor, document)
    specs = {task.spec_id for task in tasks}
    decide_tasks = [
        task
        for task in tasks
        if task.spec_id in (process.CHECK, process.SIGN) or process.is_countersign(task.spec_id)
    ]
    revisions = list(selectors_drafting.revisions_of(document))
    editable = document.state in drafting.EDITABLE and (
        (
            document.state == DocumentState.DRAFTING
            and document.process_id is None
            and drafting.may_use(actor, document.issuer_id, p.DRAFT)
        )
        or bool(specs & {process.DRAFT, process.CHECK})
    )
    context = {
        "nav_active": NAV,
        "document": document,
        "decide_tasks": decide_tasks,
        "can_submit": document.state == DocumentState.DRAFTING
        and (process.DRAFT in specs or (document.process_id is None and editable)),
        "can_edit": editable,
        "can_number": process.NUMBER in specs,
        "can_seal": process.SEAL in specs
        or (
            document.kind == Kind.MINUTES
            and document.state == DocumentState.DISTRIBUTING
            and document.sealed_pdf_id is None
            and drafting.may_use(actor, document.issuer_id, p.NUMBER_SEAL)
        ),
        # 分发, and later sendings to more units (the exchange allows both states)
        "can_send": process.DISTRIBUTE in specs
        or (
            document.state == DocumentState.DISTRIBUTED
            and drafting.may_use(actor, document.issuer_id, p.NUMBER_SEAL)
        ),
        "dispatches": document.dispatches.select_related("sent_by").order_by("-sent_at"),
        "can_cancel": document.state in drafting.CANCELLABLE
        and drafting.may_use(actor, document.issuer_id, p.DRAFT),
        "opinions": selectors_drafting.opinions_of(document),
        "revisions": revisions,
        "history": selectors_drafting.process_history(document),
        "countersigners": document.countersign_departments.order_by("code"),
        "attachments": document.attachments.select_related("file"),
        "paragraphs": [line for line in document.body.split("\n") if line],
    }
    return render(request, "documents/document_detail.html", context)


@signed_in
def document_diff(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors_drafting.access_document(_actor(request), document_id)
    numbers = list(document.revisions.order_by("number").values_list("number", flat=True))
    if not numbers:
        raise Http404(_("未找到该版本"))
    new = int_or_none(request.GET.get("b")) or numbers[-1]
    old = int_or_none(request.GET.get("a")) or (numbers[-2] if len(numbers) > 1 else numbers[0])
    comparison = selectors_drafting.revision_diff(document, old, new)
    context = {
        "nav_active": NAV,
        "document": document,
        "comparison": comparison,
        "numbers": numbers,
    }
    return render(request, "documents/document_diff.html", context)


def _step(
    request: HttpRequest,
    document_id: int,
    service: Callable[..., object],
    done: str | Callable[[Document], str],
    **values: Any,
) -> HttpResponse:
    """Load the document for the actor, call ``service`` on it and go back to its page with
    ``done`` (a message, or one made from the document afterwards) or the errors."""
    actor = _actor(request)
    document = selectors_drafting.access_document(actor, document_id)
    try:
        service(actor=actor, document=document, **values)
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, done if isinstance(done, str) else done(document))
    return redirect("documents:document_detail", document.pk)


@signed_in
@require_POST
def document_submit(request: HttpRequest, document_id: int) -> HttpResponse:
    return _step(request, document_id, drafting.document_submit, _("已送核稿"))


@signed_in
@require_POST
def document_decide(request: HttpRequest, document_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    done = {"agree": _("已提交意见"), "return": _("已退回拟稿人修改")}.get(
        decision, _("意见已记录")
    )
    return _step(
        request,
        document_id,
        drafting.document_decide,
        done,
        decision=decision,
        text=request.POST.get("text", ""),
        department_id=int_or_none(request.POST.get("department")),
    )


@signed_in
@require_POST
def document_number(request: HttpRequest, document_id: int) -> HttpResponse:
    return _step(
        request,
        document_id,
        drafting.document_number,
        lambda document: _("已编号：%(number)s") % {"number": document.number},
    )


@signed_in
@require_POST
def document_seal(request: HttpRequest, document_id: int) -> HttpResponse:
    return _step(request, document_id, drafting.document_seal_step, _("已用印，待分发"))


@signed_in
@require_POST
def document_cancel(request: HttpRequest, document_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _step(request, document_id, drafting.document_cancel, _("公文已撤销"), reason=reason)


@signed_in
def document_preview(request: HttpRequest, document_id: int) -> HttpResponse:
    """The draft as a PDF in the GB/T 9704 layout (not sealed, not signed)."""
    document = selectors_drafting.access_document(_actor(request), document_id)
    from tongban.apps.documents.rendering import render_document

    layout = dataclasses.replace(document_to_layout(document), sealed=False)
    pdf = render_document(layout)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="draft-{document.pk}.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment_of(document: Document, attachment_id: int) -> DocumentAttachment:
    attachment = document.attachments.select_related("file").filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404(_("未找到该附件"))
    return attachment


@signed_in
@require_POST
def attachment_add(request: HttpRequest, document_id: int) -> HttpResponse:
    """Upload a 附件 (multipart: ``title`` and ``file``)."""
    title = request.POST.get("title", "")
    return _step(
        request,
        document_id,
        drafting.attachment_add,
        _("附件已上传"),
        title=title,
        upload=request.FILES.get("file"),
    )


@signed_in
@require_POST
def attachment_remove(request: HttpRequest, document_id: int, attachment_id: int) -> HttpResponse:
    actor = _actor(request)
    document = selectors_drafting.access_document(actor, document_id)
    attachment = _attachment_of(document, attachment_id)
    try:
        drafting.attachment_remove(actor=actor, document=document, attachment=attachment)
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
    else:
        messages.success(request, _("附件已删除"))
    return redirect("documents:document_detail", document.pk)


@signed_in
@require_GET
def attachment_download(request: HttpRequest, document_id: int, attachment_id: int) -> FileResponse:
    """The attached file, for whoever may read the document (the read is audited)."""
    actor = _actor(request)
    document = selectors_drafting.access_document(actor, document_id)
    stored = _attachment_of(document, attachment_id).file
    if stored is None:
        raise Http404(_("该附件没有文件"))
    file_read_record(actor=actor, stored=stored, allowed=True)
    response = FileResponse(
        default_storage.open(stored.storage_name, "rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type or "application/octet-stream",
    )
    response["Content-Length"] = str(stored.size)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Tongban-SM3"] = stored.sm3
    return response
