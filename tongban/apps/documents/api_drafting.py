"""JSON API of drafting and sign-off (``router``, under /api/documents/; see ``api.py``):
the caller's pending steps, one document, a new draft, 送核稿, an opinion (核稿/会签/签发)
and 编号. The same services as the pages; the caller must hold one of the drafting
permissions (403), and documents they may not see are 404."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from tongban.apps.documents import drafting, selectors_drafting
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import Document
from tongban.platform.accounts.models import User
from tongban.platform.api.auth import requires

router = Router(tags=["documents"])
ANY = (p.DRAFT, p.CHECK, p.COUNTERSIGN, p.SIGN_OFF, p.NUMBER_SEAL, p.VIEW)


class DocumentOut(Schema):
    id: int
    public_id: str
    issuer_code: str = Field(..., description="发文单位（部门编码）")
    kind: str = Field(..., description="文件 / 信函 / 命令 / 纪要")
    state: str = Field(..., description="drafting … distributed, cancelled")
    title: str
    number: str = Field(..., description="发文字号；编号前为空")
    urgency: str
    classification: str
    addressees: str
    body: str
    signed_off_at: dt.datetime | None
    date: dt.date | None = Field(None, description="成文日期（签发日期）")
    revisions: int
    updated_at: dt.datetime


class PendingOut(Schema):
    document: DocumentOut
    step: str = Field(..., description="待办环节：核稿、会签：某部门、签发、编号、用印、分发")
    arrived_at: dt.datetime


class DraftIn(Schema):
    issuer_id: int = Field(..., description="发文单位（部门 id）")
    title: str = Field(..., max_length=200)
    body: str = Field("", max_length=100_000)
    kind: str = Field("文件", max_length=8)
    direction: str = Field("down", max_length=10)
    issuer_code: str = Field("", max_length=20)
    addressees: str = Field("", max_length=500)
    urgency: str = Field("", max_length=4)
    classification: str = Field("", max_length=4)
    secrecy_period: str = Field("", max_length=20)
    signers: list[str] = Field(default_factory=list, max_length=50)
    signer_title: str = Field("", max_length=40)
    cc: list[str] = Field(default_factory=list, max_length=50)
    attachment_notes: list[str] = Field(default_factory=list, max_length=50)
    printed_by: str = Field("", max_length=100)
    countersign_ids: list[int] = Field(default_factory=list, max_length=30)


class DecisionIn(Schema):
    decision: str = Field(
        ..., max_length=10, description="agree 同意 / return 退回修改 / comment 意见"
    )
    text: str = Field("", max_length=2000)
    department_id: int | None = Field(None, description="会签：代表哪个部门（可省略）")


def _actor(request: HttpRequest) -> User:
    return cast(User, getattr(request, "auth", None))


def _out(document: Document) -> DocumentOut:
    return DocumentOut(
        id=document.pk,
        public_id=str(document.public_id),
        issuer_code=document.issuer.code,
        kind=document.kind,
        state=document.state,
        title=document.title,
        number=document.number,
        urgency=document.urgency,
        classification=document.classification,
        addressees=document.addressees,
        body=document.body,
        signed_off_at=document.signed_off_at,
        date=document.date,
        revisions=document.revisions.count(),
        updated_at=document.updated_at,
    )


@router.get(
    "/drafts/pending",
    response=list[PendingOut],
    auth=requires(*ANY),
    operation_id="documents_drafts_pending",
    summary="待我处理的发文",
)
def drafts_pending(request: HttpRequest) -> Any:
    return [
        PendingOut(
            document=_out(entry.document), step=entry.task.name, arrived_at=entry.task.created_at
        )
        for entry in selectors_drafting.pending_for(_actor(request), limit=100)
    ]


@router.get(
    "/drafts/{document_id}",
    response=DocumentOut,
    auth=requires(*ANY),
    operation_id="documents_draft_get",
    summary="发文详情",
)
def draft_get(request: HttpRequest, document_id: int) -> Any:
    return _out(selectors_drafting.access_document(_actor(request), document_id))


@router.post(
    "/drafts",
    response={201: DocumentOut},
    auth=requires(p.DRAFT),
    operation_id="documents_draft_create",
    summary="拟稿",
)
def draft_create(request: HttpRequest, payload: DraftIn) -> Any:
    values = payload.dict()
    document = drafting.document_create(
        actor=_actor(request),
        issuer_id=values.pop("issuer_id"),
        countersign_ids=values.pop("countersign_ids"),
        values=values,
    )
    return Status(201, _out(document))


@router.post(
    "/drafts/{document_id}/submit",
    response=DocumentOut,
    auth=requires(p.DRAFT),
    operation_id="documents_draft_submit",
    summary="送核稿",
)
def draft_submit(request: HttpRequest, document_id: int) -> Any:
    document = selectors_drafting.access_document(_actor(request), document_id)
    return _out(drafting.document_submit(actor=_actor(request), document=document))


@router.post(
    "/drafts/{document_id}/decide",
    response=DocumentOut,
    auth=requires(p.CHECK, p.COUNTERSIGN, p.SIGN_OFF),
    operation_id="documents_draft_decide",
    summary="核稿、会签或签发意见",
)
def draft_decide(request: HttpRequest, document_id: int, payload: DecisionIn) -> Any:
    document = selectors_drafting.access_document(_actor(request), document_id)
    return _out(
        drafting.document_decide(
            actor=_actor(request),
            document=document,
            decision=payload.decision,
            text=payload.text,
            department_id=payload.department_id,
        )
    )


@router.post(
    "/drafts/{document_id}/number",
    response=DocumentOut,
    auth=requires(p.NUMBER_SEAL),
    operation_id="documents_draft_number",
    summary="编号",
)
def draft_number(request: HttpRequest, document_id: int) -> Any:
    document = selectors_drafting.access_document(_actor(request), document_id)
    return _out(drafting.document_number(actor=_actor(request), document=document))
