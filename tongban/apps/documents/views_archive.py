"""归档检索 pages: the department's archive (filters by year, kind and retention), the
full-text search over the reader's own documents and receipts, the records waiting to be
archived, one archive record, and the archive actions."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from tongban.apps.documents import archive, permissions
from tongban.apps.documents import selectors_archive as selectors
from tongban.apps.documents.models import ArchiveKind, Retention
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import has_permission
from tongban.platform.accounts.models import User
from tongban.platform.ui.forms import error_lines, int_or_none

NAV = "documents"
PAGE_SIZE = 30
READERS = (
    permissions.ARCHIVE,
    permissions.VIEW,
    permissions.RECEIVE,
    permissions.HANDLE,
    permissions.INSTRUCT,
)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


@signed_in
@require_GET
def archive_home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if not any(has_permission(actor, code) for code in READERS):
        raise PermissionDenied(_("您没有执行此操作的权限"))
    departments = list(selectors.search_departments_for(actor))
    filters: dict[str, Any] = {
        "department": int_or_none(request.GET.get("department")),
        "year": int_or_none(request.GET.get("year")),
        "kind": request.GET.get("kind", ""),
        "retention": request.GET.get("retention", ""),
        "expired": request.GET.get("expired") == "1",
    }
    query = request.GET.get("q", "").strip()[:100]
    records = selectors.archive_records_for(
        actor,
        department_id=filters["department"],
        year=filters["year"],
        kind=filters["kind"],
        retention=filters["retention"] if filters["retention"] in Retention.values else "",
        expired=filters["expired"],
    )
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    hits = []
    if query:
        for hit in selectors.search_for(
            actor, text=query, department_id=filters["department"], kind=filters["kind"]
        ):
            if hit.document is not None:
                link = reverse("documents:document_detail", args=[hit.document.pk])
            else:
                assert hit.receipt is not None
                link = reverse("documents:receipt_detail", args=[hit.receipt.pk])
            hits.append((hit, link))
    may_archive = has_permission(actor, permissions.ARCHIVE)
    pending_documents = list(selectors.archivable_documents_for(actor)[:50]) if may_archive else []
    pending_receipts = list(selectors.archivable_receipts_for(actor)[:50]) if may_archive else []
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "nav_active": NAV,
        "page": page,
        "filter_query": params.urlencode(),
        "departments": departments,
        "filters": filters,
        "q": query,
        "hits": hits,
        "kinds": ArchiveKind.choices,
        "retentions": Retention.choices,
        "may_archive": may_archive,
        "pending_documents": pending_documents,
        "pending_receipts": pending_receipts,
    }
    return render(request, "documents/archive.html", context)


@signed_in
@require_GET
def archive_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = selectors.access_archive_record(request.user, record_id)
    link = ""
    if record.document_id is not None:
        link = reverse("documents:document_detail", args=[record.document_id])
    elif record.receipt_id is not None:
        link = reverse("documents:receipt_detail", args=[record.receipt_id])
    metadata = record.metadata or {}
    context = {
        "nav_active": NAV,
        "record": record,
        "metadata": metadata,
        "link": link,
        "pdf_link": (
            reverse("documents:document_pdf", args=[record.document_id])
            if record.document_id and record.document and record.document.sealed_pdf_id
            else ""
        ),
    }
    return render(request, "documents/archive_detail.html", context)


@require_POST
@permission(permissions.ARCHIVE)
def document_archive(request: HttpRequest, document_id: int) -> HttpResponse:
    document = selectors.access_archivable_document(request.user, document_id)
    try:
        record = archive.document_archive(
            actor=_actor(request), document=document, retention=request.POST.get("retention", "")
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
        return redirect("documents:archive")
    messages.success(request, _("已归档，档号 %(number)s") % {"number": record.archive_number})
    return redirect("documents:archive_detail", record.pk)


@require_POST
@permission(permissions.ARCHIVE)
def receipt_archive(request: HttpRequest, receipt_id: int) -> HttpResponse:
    receipt = selectors.access_archivable_receipt(request.user, receipt_id)
    try:
        record = archive.receipt_archive(
            actor=_actor(request), receipt=receipt, retention=request.POST.get("retention", "")
        )
    except ValidationError as error:
        for line in error_lines(error):
            messages.error(request, line)
        return redirect("documents:archive")
    messages.success(request, _("已归档，档号 %(number)s") % {"number": record.archive_number})
    return redirect("documents:archive_detail", record.pk)
