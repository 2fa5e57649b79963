"""JSON API of archive, search, seals and verification (under /api/documents/, see
``api.py``): archive records, archiving, full-text search limited to the caller's
departments, the seals' public parts, and the public verification of a sealed document by
its public id."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from tongban.apps.documents import archive, permissions, seals, verification
from tongban.apps.documents import selectors_archive as selectors
from tongban.apps.documents.models import ArchiveRecord
from tongban.platform.access.services import require
from tongban.platform.accounts.models import User
from tongban.platform.api.auth import requires
from tongban.platform.api.errors import ServiceError
from tongban.platform.ui.middleware import client_ip

router = Router(tags=["documents"])
SEARCH_READERS = tuple(dict.fromkeys((permissions.VIEW, *selectors.RECEIPT_READERS)))


class RecordOut(Schema):
    id: int
    archive_number: str = Field(..., description="档号")
    kind: str = Field(..., description="sent 发文 / received 收文")
    department: str = Field(..., description="部门编码")
    title: str
    number: str = Field(..., description="发文字号或来文字号")
    retention: str = Field(..., description="permanent / 30y / 10y")
    keep_until: dt.date | None = Field(None, description="保管至（永久为空）")
    archived_at: dt.datetime


class ArchiveIn(Schema):
    retention: str = Field(..., max_length=10, description="permanent / 30y / 10y")


class HitOut(Schema):
    kind: str
    id: int
    title: str
    number: str
    department: str
    year: str
    archived: bool


class SealOut(Schema):
    id: int
    department: str
    name: str
    active: bool
    certificate_pem: str
    sm2_public_pem: str
    created_at: dt.datetime
    retired_at: dt.datetime | None


class VerifyOut(Schema):
    intact: bool
    number: str
    title: str = Field(..., description="涉密公文为空")
    kind: str
    issuer: str
    seal: str
    certificate_subject: str
    sealed_at: dt.datetime | None
    pades_valid: bool
    sm2_valid: bool
    reasons: list[str]


def _actor(request: HttpRequest) -> User:
    return cast(User, getattr(request, "auth", None))


def _record_out(record: ArchiveRecord) -> RecordOut:
    metadata = record.metadata or {}
    number = metadata.get("number") or metadata.get("source_number") or ""
    return RecordOut(
        id=record.pk,
        archive_number=record.archive_number,
        kind=record.kind,
        department=record.department.code,
        title=str(metadata.get("title", "")),
        number=str(number),
        retention=record.retention,
        keep_until=record.keep_until,
        archived_at=record.archived_at,
    )


@router.get(
    "/archive/records",
    response=list[RecordOut],
    auth=requires(permissions.ARCHIVE, permissions.VIEW),
    operation_id="documents_archive_list",
    summary="本部门档案",
)
def record_list(
    request: HttpRequest, year: int | None = None, kind: str = "", retention: str = ""
) -> Any:
    """Archive records of the caller's departments, newest first (at most 200)."""
    actor = _actor(request)
    records = selectors.archive_records_for(actor, year=year, kind=kind, retention=retention)
    return [_record_out(record) for record in records[:200]]


@router.get(
    "/archive/records/{record_id}",
    response=RecordOut,
    auth=requires(permissions.ARCHIVE, permissions.VIEW),
    operation_id="documents_archive_get",
    summary="一条档案",
)
def record_get(request: HttpRequest, record_id: int) -> Any:
    actor = _actor(request)
    return _record_out(selectors.access_archive_record(actor, record_id))


@router.post(
    "/archive/documents/{document_id}",
    response={201: RecordOut},
    auth=requires(permissions.ARCHIVE),
    operation_id="documents_document_archive",
    summary="发文归档",
)
def document_archive(request: HttpRequest, document_id: int, payload: ArchiveIn) -> Any:
    actor = _actor(request)
    require(actor, permissions.ARCHIVE)
    document = selectors.access_archivable_document(actor, document_id)
    record = archive.document_archive(actor=actor, document=document, retention=payload.retention)
    return Status(201, _record_out(record))


@router.post(
    "/archive/receipts/{receipt_id}",
    response={201: RecordOut},
    auth=requires(permissions.ARCHIVE),
    operation_id="documents_receipt_archive",
    summary="收文归档",
)
def receipt_archive(request: HttpRequest, receipt_id: int, payload: ArchiveIn) -> Any:
    actor = _actor(request)
    require(actor, permissions.ARCHIVE)
    receipt = selectors.access_archivable_receipt(actor, receipt_id)
    record = archive.receipt_archive(actor=actor, receipt=receipt, retention=payload.retention)
    return Status(201, _record_out(record))


@router.get(
    "/archive/search",
    response=list[HitOut],
    auth=requires(*SEARCH_READERS),
    operation_id="documents_search",
    summary="公文全文检索（仅本部门）",
)
def search(request: HttpRequest, q: str, department: int | None = None, kind: str = "") -> Any:
    """Titles and bodies of the documents the caller's departments issued or received."""
    actor = _actor(request)
    hits = selectors.search_for(actor, text=q[:100], department_id=department, kind=kind)
    return [
        HitOut(
            kind=hit.kind,
            id=(hit.document.pk if hit.document else hit.receipt.pk if hit.receipt else 0),
            title=hit.title,
            number=hit.number,
            department=hit.department,
            year=hit.year,
            archived=hit.archived,
        )
        for hit in hits
    ]


@router.get(
    "/seals",
    response=list[SealOut],
    auth=requires(permissions.SEAL_MANAGE),
    operation_id="documents_seal_list",
    summary="本部门电子印章",
)
def seal_list(request: HttpRequest) -> Any:
    """The seals the caller manages: certificate and SM2 public key (never private keys)."""
    actor = _actor(request)
    require(actor, permissions.SEAL_MANAGE)
    return [
        SealOut(
            id=seal.pk,
            department=seal.department.code,
            name=seal.name,
            active=seal.active,
            certificate_pem=seal.certificate_pem,
            sm2_public_pem=seal.sm2_public_pem,
            created_at=seal.created_at,
            retired_at=seal.retired_at,
        )
        for seal in seals.seal_list_for(actor=actor)[:200]
    ]


@router.get(
    "/verify/{public_id}",
    response=VerifyOut,
    auth=None,
    operation_id="documents_verify",
    summary="公文验证（公开）",
)
def verify(request: HttpRequest, public_id: UUID) -> Any:
    """Is the sealed document intact, who sealed it and when (no personal data)."""
    from tongban.apps.documents.views_verify import verify_rate_exceeded

    if verify_rate_exceeded(client_ip(request)):
        error = ServiceError("rate_limited", _("验证过于频繁，请一分钟后再试"))
        error.status = 429
        raise error
    report = verification.verify_by_public_id(public_id)
    if report is None:
        from django.http import Http404

        raise Http404
    return VerifyOut(
        intact=report.intact,
        number=report.number,
        title=report.title,
        kind=str(report.kind),
        issuer=report.issuer,
        seal=report.seal_name,
        certificate_subject=report.certificate_subject,
        sealed_at=report.sealed_at,
        pades_valid=report.pades_valid,
        sm2_valid=report.sm2_valid,
        reasons=[str(reason) for reason in report.reasons],
    )
