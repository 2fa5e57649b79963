"""归档: closed documents and receipts into the department's archive, and the full-text
index of documents and receipts (platform search).

档号 (archive number): ``<department code>-<year>-<WS|SW>-<serial, 4 digits>`` — WS 文书
(发文), SW 收文 — serials per department, year and kind without gaps: the department row
is locked while the next serial is taken, and ``archive_number`` is unique.
保管期限 (DA/T 22): permanent, or kept until 31 December of the document's year plus 30
or 10 years (``keep_until``).

Search: one index entry per document (``d<id>``, the issuer's department) and per receipt
(``r<id>``, the receiving department), filter ``department`` = the department id; readers
search their own department's entries only (``selectors_archive.search_for``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongban.apps.documents import permissions
from tongban.apps.documents.models import (
    ArchiveKind,
    ArchiveRecord,
    Document,
    DocumentState,
    Receipt,
    ReceiptState,
    Retention,
)
from tongban.platform.access.services import ScopePaths, require
from tongban.platform.audit.services import audit_record
from tongban.platform.orgs.models import Department
from tongban.platform.search import services as search

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

SEARCH_NAMESPACE = "documents"
OFFICIAL_LANGUAGE = "zh-hans"
ISSUER_SCOPE = ScopePaths(department="issuer")
RECEIPT_SCOPE = ScopePaths(department="department")
KIND_CODES = {ArchiveKind.SENT: "WS", ArchiveKind.RECEIVED: "SW"}
RETENTION_YEARS = {Retention.LONG: 30, Retention.SHORT: 10}
MAX_BODY_INDEXED = 50_000  # characters of a body that enter the index


# --- retention and numbers ---------------------------------------------------------------


def retention_clean(retention: str) -> str:
    if retention not in Retention.values:
        raise ValidationError({"retention": _("请选择保管期限")})
    return retention


def keep_until(retention: str, year: int) -> dt.date | None:
    """The last day of keeping: 31 December of ``year`` + 30 or 10; None: permanent."""
    years = RETENTION_YEARS.get(Retention(retention))
    return None if years is None else dt.date(year + years, 12, 31)


def _next_number(department: Department, year: int, kind: str) -> str:
    """The next 档号; call inside a transaction holding the department row locked."""
    prefix = f"{department.code}-{year}-{KIND_CODES[ArchiveKind(kind)]}-"
    used = ArchiveRecord.objects.filter(archive_number__startswith=prefix).values_list(
        "archive_number", flat=True
    )
    top = max(
        (int(number[len(prefix) :]) for number in used if number[len(prefix) :].isdigit()),
        default=0,
    )
    return f"{prefix}{top + 1:04d}"


def _when(value: dt.date | dt.datetime | None) -> str:
    return value.isoformat() if value is not None else ""


# --- metadata snapshots ------------------------------------------------------------------


def document_metadata(document: Document) -> dict[str, Any]:
    """Every element at archiving time, with the versions, opinions and sealed PDF."""
    return {
        "public_id": str(document.public_id),
        "kind": document.kind,
        "direction": document.direction,
        "issuer": {"code": document.issuer.code, "name": document.issuer.name},
        "copy_number": document.copy_number,
        "classification": document.classification,
        "secrecy_period": document.secrecy_period,
        "urgency": document.urgency,
        "issuer_mark": document.issuer_mark,
        "number": document.number,
        "year": document.year,
        "serial": document.serial,
        "signers": list(document.signers or []),
        "signer_title": document.signer_title,
        "title": document.title,
        "addressees": document.addressees,
        "attachment_notes": list(document.attachment_notes or []),
        "attachments": [
            {"position": a.position, "title": a.title, "file": str(a.file_id or "")}
            for a in document.attachments.all()
        ],
        "signature": document.signature,
        "date": _when(document.date),
        "notes": document.notes,
        "cc": list(document.cc or []),
        "printed_by": document.printed_by,
        "printed_on": _when(document.printed_on),
        "signed_off_at": _when(document.signed_off_at),
        "sealed_at": _when(document.sealed_at),
        "seal": document.seal_id,
        "sealed_pdf": str(document.sealed_pdf_id or ""),
        "content_sm3": document.content_sm3,
        "revisions": [
            {
                "number": r.number,
                "step": r.step,
                "author": r.author_id,
                "note": r.note,
                "created_at": _when(r.created_at),
            }
            for r in document.revisions.all()
        ],
        "opinions": [
            {
                "step": o.step,
                "decision": o.decision,
                "author": o.author_id,
                "department": o.department_id,
                "text": o.text,
                "created_at": _when(o.created_at),
            }
            for o in document.opinions.all()
        ],
        "recipients": sorted(
            set(
                document.deliveries.exclude(state="recalled").values_list(
                    "recipient__code", flat=True
                )
            )
        ),
    }


def receipt_metadata(receipt: Receipt) -> dict[str, Any]:
    return {
        "department": {"code": receipt.department.code, "name": receipt.department.name},
        "year": receipt.year,
        "serial": receipt.serial,
        "source": receipt.source,
        "source_number": receipt.source_number,
        "title": receipt.title,
        "urgency": receipt.urgency,
        "classification": receipt.classification,
        "delivery": receipt.delivery_id,
        "document": str(receipt.delivery.document.public_id) if receipt.delivery_id else "",  # type: ignore[union-attr]
        "registered_at": _when(receipt.registered_at),
        "proposal": receipt.proposal,
        "proposed_at": _when(receipt.proposed_at),
        "instruction": receipt.instruction,
        "instructed_at": _when(receipt.instructed_at),
        "deadline": _when(receipt.deadline),
        "result": receipt.result,
        "closed_at": _when(receipt.closed_at),
        "file": str(receipt.file_id or ""),
        "tasks": [
            {
                "kind": t.kind,
                "assignee": t.assignee_id,
                "assigned_at": _when(t.assigned_at),
                "deadline": _when(t.deadline),
                "done_at": _when(t.done_at),
                "comment": t.comment,
            }
            for t in receipt.tasks.all()
        ],
    }


# --- archiving -----------------------------------------------------------------------------


def document_archive(*, actor: User, document: Document, retention: str) -> ArchiveRecord:
    """Archive a distributed document of the actor's department (ARCHIVE over the issuer)."""
    require(actor, permissions.ARCHIVE, target=document, paths=ISSUER_SCOPE)
    retention = retention_clean(retention)
    if document.state != DocumentState.DISTRIBUTED:
        raise ValidationError(_("只有已分发的公文才能归档"))
    with transaction.atomic():
        Department.objects.select_for_update().filter(pk=document.issuer_id).first()
        locked = Document.objects.select_for_update().select_related("issuer").get(pk=document.pk)
        if locked.state != DocumentState.DISTRIBUTED:
            raise ValidationError(_("只有已分发的公文才能归档"))
        year = locked.year or (locked.date.year if locked.date else timezone.localdate().year)
        now = timezone.now()
        record = ArchiveRecord.objects.create(
            department=locked.issuer,
            kind=ArchiveKind.SENT,
            document=locked,
            archive_number=_next_number(locked.issuer, year, ArchiveKind.SENT),
            retention=retention,
            keep_until=keep_until(retention, year),
            metadata=document_metadata(locked),
            archived_by=actor,
            archived_at=now,
        )
        locked.state = DocumentState.ARCHIVED
        locked.retention = retention
        locked.archived_at = now
        locked.save(update_fields=["state", "retention", "archived_at", "updated_at"])
        audit_record(
            action="documents.document.archive",
            actor=actor,
            target=locked,
            detail={
                "archive_number": record.archive_number,
                "retention": retention,
                "keep_until": _when(record.keep_until),
            },
        )
        document_index(document=locked)
    return record


def receipt_archive(*, actor: User, receipt: Receipt, retention: str) -> ArchiveRecord:
    """Archive a closed receipt of the actor's department (ARCHIVE over the department)."""
    require(actor, permissions.ARCHIVE, target=receipt, paths=RECEIPT_SCOPE)
    retention = retention_clean(retention)
    if receipt.state != ReceiptState.CLOSED:
        raise ValidationError(_("只有已办结的收文才能归档"))
    with transaction.atomic():
        Department.objects.select_for_update().filter(pk=receipt.department_id).first()
        locked = Receipt.objects.select_for_update().select_related("department").get(pk=receipt.pk)
        if locked.state != ReceiptState.CLOSED:
            raise ValidationError(_("只有已办结的收文才能归档"))
        now = timezone.now()
        record = ArchiveRecord.objects.create(
            department=locked.department,
            kind=ArchiveKind.RECEIVED,
            receipt=locked,
            archive_number=_next_number(locked.department, locked.year, ArchiveKind.RECEIVED),
            retention=retention,
            keep_until=keep_until(retention, locked.year),
            metadata=receipt_metadata(locked),
            archived_by=actor,
            archived_at=now,
        )
        locked.state = ReceiptState.ARCHIVED
        locked.retention = retention
        locked.archived_at = now
        locked.save(update_fields=["state", "retention", "archived_at"])
        audit_record(
            action="documents.receipt.archive",
            actor=actor,
            target=locked,
            detail={
                "archive_number": record.archive_number,
                "retention": retention,
                "keep_until": _when(record.keep_until),
            },
        )
        receipt_index(receipt=locked)
    return record


# --- the search index ----------------------------------------------------------------------


def document_key(document_id: int) -> str:
    return f"d{document_id}"


def receipt_key(receipt_id: int) -> str:
    return f"r{receipt_id}"


def _document_entry(document: Document) -> search.DocumentInput:
    keywords = " ".join(
        part
        for part in (
            document.number,
            document.issuer.name,
            document.addressees,
            " ".join(str(note) for note in document.attachment_notes or []),
        )
        if part
    )
    year = document.year or (document.date.year if document.date else "")
    return search.DocumentInput(
        key=document_key(document.pk),
        title=document.title,
        title_text=document.title,
        keywords_text=keywords,
        body_text=document.body[:MAX_BODY_INDEXED],
        filters={
            "department": str(document.issuer_id),
            "kind": ArchiveKind.SENT.value,
            "year": str(year),
            "archived": "1" if document.state == DocumentState.ARCHIVED else "0",
        },
    )


def _receipt_entry(receipt: Receipt) -> search.DocumentInput:
    body = ""
    if receipt.delivery_id is not None:
        body = receipt.delivery.document.body  # type: ignore[union-attr]
    keywords = " ".join(part for part in (receipt.source_number, receipt.source) if part)
    return search.DocumentInput(
        key=receipt_key(receipt.pk),
        title=receipt.title,
        title_text=receipt.title,
        keywords_text=keywords,
        body_text=body[:MAX_BODY_INDEXED],
        filters={
            "department": str(receipt.department_id),
            "kind": ArchiveKind.RECEIVED.value,
            "year": str(receipt.year),
            "archived": "1" if receipt.state == ReceiptState.ARCHIVED else "0",
        },
    )


def document_index(*, document: Document) -> None:
    """Index a sealed (or archived) document for its issuing department."""
    if document.sealed_pdf_id is None and document.state != DocumentState.ARCHIVED:
        return
    if document.state == DocumentState.CANCELLED:
        search.search_document_delete(namespace=SEARCH_NAMESPACE, key=document_key(document.pk))
        return
    with translation.override(OFFICIAL_LANGUAGE):
        entry = _document_entry(document)
    search.search_documents_bulk_upsert(namespace=SEARCH_NAMESPACE, documents=[entry])


def receipt_index(*, receipt: Receipt) -> None:
    """Index a registered receipt for the receiving department (``receiving`` calls this
    from its register transaction; archiving refreshes it)."""
    receipt = Receipt.objects.select_related("delivery__document").get(pk=receipt.pk)
    with translation.override(OFFICIAL_LANGUAGE):
        entry = _receipt_entry(receipt)
    search.search_documents_bulk_upsert(namespace=SEARCH_NAMESPACE, documents=[entry])


def documents_reindex() -> int:
    """Rebuild the documents' part of the search index (sealed documents and receipts)."""

    def entries() -> Any:
        documents = (
            Document.objects.exclude(state=DocumentState.CANCELLED)
            .filter(sealed_pdf__isnull=False)
            .select_related("issuer")
            .order_by("pk")
        )
        for document in documents.iterator(chunk_size=500):
            yield _document_entry(document)
        receipts = Receipt.objects.select_related("delivery__document").order_by("pk")
        for receipt in receipts.iterator(chunk_size=500):
            yield _receipt_entry(receipt)

    with translation.override(OFFICIAL_LANGUAGE):
        return search.search_documents_bulk_replace(namespace=SEARCH_NAMESPACE, documents=entries())
