"""The official-documents part of the security suite's world (issue 7).

The market regulator (persona OFFICER's department) has a draft in progress and a sealed
document it sent to the other department (OTHER_OFFICER's), which has not signed for it
yet; the other department has a registered paper receipt with a circulation task; the
city's supervisor follows a supervised task owned by the other department; the market
regulator has archived one document.

Who holds what: each department's officer holds the clerical document permissions for
their own department (draft, check, number/seal/distribute, receive, handle, archive,
seals, progress reports); the leader signs off, instructs and countersigns for the market
regulator; the supervisor supervises tasks city-wide; the system administrator manages
the city-wide recipient groups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from tests import factories
from tongban.apps.documents import drafting, seals
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    ArchiveKind,
    ArchiveRecord,
    Delivery,
    DeliveryState,
    Dispatch,
    Document,
    DocumentAttachment,
    DocumentState,
    Kind,
    Receipt,
    ReceiptState,
    ReceiptTask,
    ReceiptTaskKind,
    RecipientGroup,
    Retention,
    Revision,
    SupervisedTask,
    TaskOwner,
)
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.access.services import forget_grants
from tongban.platform.files.services import file_store

ATTACHMENT_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

DEPARTMENT_PERMISSIONS = [
    p.DRAFT,
    p.CHECK,
    p.NUMBER_SEAL,
    p.VIEW,
    p.SEAL_MANAGE,
    p.RECEIVE,
    p.HANDLE,
    p.ARCHIVE,
    p.TASK_REPORT,
]
LEADER_PERMISSIONS = [p.SIGN_OFF, p.COUNTERSIGN, p.INSTRUCT, p.VIEW]


@dataclass
class DocumentsWorld:
    draft: Document  # the market regulator's draft, at 拟稿
    attachment: DocumentAttachment  # the draft's 附件 (a stored PDF)
    checking: Document  # submitted, at 核稿
    numbering: Document  # checked and signed off, at 编号
    returned: Delivery  # an earlier copy the other department returned
    closed_receipt: Receipt  # the other department's closed receipt, ready to archive
    sent: Document  # the market regulator's distributed document
    dispatch: Dispatch
    delivery: Delivery  # the other department's copy, not signed yet
    receipt: Receipt  # the other department's registered (paper) receipt
    circulation: ReceiptTask  # its 传阅 to the other department's officer
    task: SupervisedTask  # supervised by the market regulator, owned by the other department
    group: RecipientGroup  # city-wide
    archived: Document
    archive: ArchiveRecord


def _assign(user: Any, role: Any, scope: str, **anchors: Any) -> None:
    RoleAssignment.objects.create(user=user, role=role, scope=scope, **anchors)


def build_documents(
    *,
    market: Any,
    other: Any,
    officer: Any,
    other_officer: Any,
    leader: Any,
    supervisor: Any,
    system_admin: Any,
) -> DocumentsWorld:
    clerical = factories.role("security_documents_department", DEPARTMENT_PERMISSIONS)
    _assign(officer, clerical, Scope.DEPARTMENT, department=market)
    _assign(other_officer, clerical, Scope.DEPARTMENT, department=other)
    _assign(
        leader,
        factories.role("security_documents_leader", LEADER_PERMISSIONS),
        Scope.DEPARTMENT,
        department=market,
    )
    _assign(
        supervisor,
        factories.role("security_documents_supervise", [p.TASK_SUPERVISE]),
        Scope.DIVISION,
        division=market.division,
    )
    _assign(
        system_admin,
        factories.role("security_documents_groups", [p.GROUP_MANAGE]),
        Scope.ALL,
    )
    for user in (officer, other_officer, leader, supervisor, system_admin):
        forget_grants(user)  # the grants above, not the ones cached while building the rest
    now = timezone.now()
    today = timezone.localdate()

    def document(title: str, state: str, **extra: Any) -> Document:
        return Document.objects.create(
            issuer=market,
            drafter=officer,
            kind=Kind.FILE,
            state=state,
            issuer_code="示范市监",
            title=title,
            addressees="各区市场监督管理局",
            body="一、总体要求\n认真贯彻落实。",
            **extra,
        )

    draft = document("关于开展食品安全专项检查的通知（草稿）", DocumentState.DRAFTING)
    sent = document(
        "关于做好年度报告公示工作的通知",
        DocumentState.DISTRIBUTING,
        year=today.year,
        serial=1,
        number=f"示范市监〔{today.year}〕1号",
        date=today,
        signed_off_by=leader,
        signed_off_at=now,
    )
    # sealed for real (render, PAdES, SM2): the PDF download and the verify page need it
    seals.ensure_seal(market)
    seals.document_seal(actor=officer, document=sent)
    Document.objects.filter(pk=sent.pk).update(state=DocumentState.DISTRIBUTED)
    sent.refresh_from_db()
    Revision.objects.create(
        document=draft,
        number=1,
        title=draft.title,
        body=draft.body,
        author=officer,
        step="drafting",
    )
    Revision.objects.create(
        document=draft,
        number=2,
        title=draft.title,
        body=draft.body + "\n二、工作要求",
        author=officer,
        step="drafting",
    )

    attachment = DocumentAttachment.objects.create(
        document=draft,
        position=1,
        title="食品安全专项检查方案",
        file=file_store(actor=officer, upload=ContentFile(ATTACHMENT_PDF, name="方案.pdf")),
    )

    # two drafts in the process: one at 核稿 (the officer checks), one at 编号 (signed off)
    def submitted(title: str) -> Document:
        created = drafting.document_create(
            actor=officer,
            issuer_id=market.pk,
            values={"title": title, "issuer_code": "示范市监", "body": "一、总体要求"},
        )
        return drafting.document_submit(actor=officer, document=created)

    checking = submitted("关于加强特种设备安全监察的通知")
    numbering = submitted("关于开展计量器具检定的通知")
    drafting.document_decide(actor=officer, document=numbering, decision="agree")
    drafting.document_sign_off(actor=leader, document=numbering)
    dispatch = Dispatch.objects.create(
        document=sent,
        sender=market,
        sent_by=officer,
        sent_at=now,
        sign_within_hours=24,
        recipient_count=1,
    )
    delivery = Delivery.objects.create(
        dispatch=dispatch,
        document=sent,
        recipient=other,
        delivered_at=now,
        due_at=now + dt.timedelta(hours=24),
    )
    # an earlier sending the other department returned (退文告知单)
    returned = Delivery.objects.create(
        dispatch=Dispatch.objects.create(
            document=sent,
            sender=market,
            sent_by=officer,
            sent_at=now - dt.timedelta(days=3),
            sign_within_hours=24,
            recipient_count=1,
        ),
        document=sent,
        recipient=other,
        state=DeliveryState.RETURNED,
        delivered_at=now - dt.timedelta(days=3),
        due_at=now - dt.timedelta(days=2),
        returned_at=now - dt.timedelta(days=2),
        returned_by=other_officer,
        return_reason="不属于本单位职责范围",
    )
    receipt = Receipt.objects.create(
        department=other,
        year=today.year,
        serial=1,
        source="示范省人民政府办公厅",
        source_number=f"示范省办〔{today.year}〕3号",
        title="关于做好冬季安全生产工作的通知",
        registered_by=other_officer,
        registered_at=now,
    )
    closed_receipt = Receipt.objects.create(
        department=other,
        year=today.year,
        serial=2,
        source="示范市人民政府办公室",
        title="关于报送年度工作总结的通知",
        state=ReceiptState.CLOSED,
        registered_by=other_officer,
        registered_at=now,
        closed_by=other_officer,
        closed_at=now,
        result="已报送",
    )
    circulation = ReceiptTask.objects.create(
        receipt=receipt,
        kind=ReceiptTaskKind.READ,
        assignee=other_officer,
        assigned_by=other_officer,
        assigned_at=now,
    )
    task = SupervisedTask.objects.create(
        number=f"DB{today.year}-0001",
        supervisor=market,
        title="年度报告公示率达到95%以上",
        source_document=sent,
        deadline=today + dt.timedelta(days=30),
        created_by=supervisor,
    )
    TaskOwner.objects.create(task=task, department=other, lead=True)
    group = RecipientGroup.objects.create(name="市直各单位", created_by=system_admin)
    group.members.set([market, other])
    archived = document(
        "关于印发内部管理制度的通知",
        DocumentState.ARCHIVED,
        year=today.year,
        serial=2,
        number=f"示范市监〔{today.year}〕2号",
        date=today,
        archived_at=now,
        retention=Retention.LONG,
    )
    archive = ArchiveRecord.objects.create(
        department=market,
        kind=ArchiveKind.SENT,
        document=archived,
        archive_number=f"{market.code}-{today.year}-WS-0001",
        retention=Retention.LONG,
        keep_until=dt.date(today.year + 30, today.month, min(today.day, 28)),
        metadata={"title": archived.title, "number": archived.number},
        archived_by=officer,
        archived_at=now,
    )
    return DocumentsWorld(
        draft=draft,
        attachment=attachment,
        checking=checking,
        numbering=numbering,
        returned=returned,
        closed_receipt=closed_receipt,
        sent=sent,
        dispatch=dispatch,
        delivery=delivery,
        receipt=receipt,
        circulation=circulation,
        task=task,
        group=group,
        archived=archived,
        archive=archive,
    )
