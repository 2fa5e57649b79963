"""Reads of the archive and the full-text search, scoped to the reader.

A department's archive is visible to its ARCHIVE holders (sent and received records) and,
for sent documents, to its VIEW holders. Search hits are limited to the reader's own
departments: documents issued by them (VIEW or ARCHIVE) and receipts registered by them
(RECEIVE, HANDLE, INSTRUCT or ARCHIVE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.documents import permissions
from tongban.apps.documents.archive import SEARCH_NAMESPACE
from tongban.apps.documents.models import ArchiveKind, ArchiveRecord, Document, Receipt
from tongban.platform.access.models import Scope
from tongban.platform.access.services import ScopePaths, grants_for, scope_queryset
from tongban.platform.orgs.models import Department
from tongban.platform.search import selectors as search

RECORD_SCOPE = ScopePaths(department="department")
ISSUER_SCOPE = ScopePaths(department="issuer")
RECEIPT_SCOPE = ScopePaths(department="department")
DEPARTMENT_SCOPE = ScopePaths(department="")
SENT_READERS = (permissions.VIEW, permissions.ARCHIVE)
RECEIPT_READERS = (
    permissions.RECEIVE,
    permissions.HANDLE,
    permissions.INSTRUCT,
    permissions.ARCHIVE,
)
SEARCH_LIMIT = 50


def _union(querysets: list[QuerySet[Any]]) -> Q:
    condition = Q(pk__in=[])
    for queryset in querysets:
        condition |= Q(pk__in=queryset.values("pk"))
    return condition


def archive_records_for(
    actor: Any,
    *,
    department_id: int | None = None,
    year: int | None = None,
    kind: str = "",
    retention: str = "",
    expired: bool = False,
) -> QuerySet[ArchiveRecord]:
    """Records the actor may see; ``expired``: kept past their 保管期限 (due for 鉴定)."""
    base = ArchiveRecord.objects.all()
    visible = _union(
        [
            scope_queryset(actor, base, permissions.ARCHIVE, RECORD_SCOPE),
            scope_queryset(
                actor, base.filter(kind=ArchiveKind.SENT), permissions.VIEW, RECORD_SCOPE
            ),
        ]
    )
    records = ArchiveRecord.objects.filter(visible).select_related(
        "department", "document", "receipt", "archived_by"
    )
    if department_id:
        records = records.filter(department_id=department_id)
    if year:
        records = records.filter(archive_number__contains=f"-{year}-")
    if kind in ArchiveKind.values:
        records = records.filter(kind=kind)
    if retention:
        records = records.filter(retention=retention)
    if expired:
        records = records.filter(keep_until__lt=timezone.localdate())
    return records.order_by("-archived_at", "-id")


def access_archive_record(actor: Any, record_id: int) -> ArchiveRecord:
    record = archive_records_for(actor).filter(pk=record_id).first()
    if record is None:
        raise Http404(_("未找到该档案"))
    return record


def departments_for(actor: Any, codes: tuple[str, ...]) -> QuerySet[Department]:
    """Departments where ``actor`` holds any of ``codes``."""
    base = Department.objects.all()
    return Department.objects.filter(
        _union([scope_queryset(actor, base, code, DEPARTMENT_SCOPE) for code in codes])
    ).order_by("name")


def archive_departments_for(actor: Any) -> QuerySet[Department]:
    return departments_for(actor, (permissions.ARCHIVE, permissions.VIEW))


def search_departments_for(actor: Any) -> QuerySet[Department]:
    return departments_for(actor, tuple(dict.fromkeys(SENT_READERS + RECEIPT_READERS)))


def archivable_documents_for(actor: Any) -> QuerySet[Document]:
    """Distributed documents the actor may archive (ARCHIVE over the issuer)."""
    return scope_queryset(
        actor,
        Document.objects.filter(state="distributed").select_related("issuer"),
        permissions.ARCHIVE,
        ISSUER_SCOPE,
    ).order_by("-sealed_at", "-id")


def archivable_receipts_for(actor: Any) -> QuerySet[Receipt]:
    """Closed receipts the actor may archive (ARCHIVE over the receiving department)."""
    return scope_queryset(
        actor,
        Receipt.objects.filter(state="closed").select_related("department"),
        permissions.ARCHIVE,
        RECEIPT_SCOPE,
    ).order_by("-closed_at", "-id")


def access_archivable_document(actor: Any, document_id: int) -> Document:
    document = archivable_documents_for(actor).filter(pk=document_id).first()
    if document is None:
        raise Http404(_("未找到可归档的公文"))
    return document


def access_archivable_receipt(actor: Any, receipt_id: int) -> Receipt:
    receipt = archivable_receipts_for(actor).filter(pk=receipt_id).first()
    if receipt is None:
        raise Http404(_("未找到可归档的收文"))
    return receipt


# --- search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str  # ArchiveKind value
    title: str
    number: str
    department: str
    year: str
    archived: bool
    document: Document | None = None
    receipt: Receipt | None = None


def _visible_documents(actor: Any, ids: list[int]) -> dict[int, Document]:
    base = Document.objects.filter(pk__in=ids)
    visible = _union([scope_queryset(actor, base, code, ISSUER_SCOPE) for code in SENT_READERS])
    return {d.pk: d for d in Document.objects.filter(visible).select_related("issuer")}


def _visible_receipts(actor: Any, ids: list[int]) -> dict[int, Receipt]:
    base = Receipt.objects.filter(pk__in=ids)
    visible = _union([scope_queryset(actor, base, code, RECEIPT_SCOPE) for code in RECEIPT_READERS])
    return {r.pk: r for r in Receipt.objects.filter(visible).select_related("department")}


def _city_wide(actor: Any) -> bool:
    return any(
        grant.scope == Scope.ALL
        for code in dict.fromkeys(SENT_READERS + RECEIPT_READERS)
        for grant in grants_for(actor, code)
    )


def search_for(
    actor: Any, *, text: str, department_id: int | None = None, kind: str = ""
) -> list[Hit]:
    """Documents and receipts matching ``text`` that ``actor`` may see, best first.

    The index is asked for one department at a time (the one chosen, else each of the
    reader's departments, at most 20), so other departments' entries never crowd out the
    reader's; every hit is then checked against the reader's grants again.
    """
    text = (text or "").strip()
    if not text:
        return []
    departments = list(search_departments_for(actor).values_list("pk", flat=True)[:20])
    if department_id is not None:
        if department_id not in departments and not _city_wide(actor):
            return []
        departments = [department_id]
    keys: list[str] = []
    filters: dict[str, str] = {}
    if kind in ArchiveKind.values:
        filters["kind"] = kind
    for department in departments:
        result = search.search_query(
            namespace=SEARCH_NAMESPACE,
            text=text,
            limit=SEARCH_LIMIT,
            filters={**filters, "department": str(department)},
        )
        keys.extend(hit.key for hit in result.hits)
    document_ids = [int(key[1:]) for key in keys if key.startswith("d") and key[1:].isdigit()]
    receipt_ids = [int(key[1:]) for key in keys if key.startswith("r") and key[1:].isdigit()]
    documents = _visible_documents(actor, document_ids)
    receipts = _visible_receipts(actor, receipt_ids)
    hits: list[Hit] = []
    for key in keys:
        number = int(key[1:]) if key[1:].isdigit() else 0
        if key.startswith("d") and number in documents:
            document = documents[number]
            hits.append(
                Hit(
                    kind=ArchiveKind.SENT,
                    title=document.title,
                    number=document.number,
                    department=document.issuer.name,
                    year=str(document.year or ""),
                    archived=document.state == "archived",
                    document=document,
                )
            )
        elif key.startswith("r") and number in receipts:
            receipt = receipts[number]
            hits.append(
                Hit(
                    kind=ArchiveKind.RECEIVED,
                    title=receipt.title,
                    number=receipt.source_number,
                    department=receipt.department.name,
                    year=str(receipt.year),
                    archived=receipt.state == "archived",
                    receipt=receipt,
                )
            )
    return hits
