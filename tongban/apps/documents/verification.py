"""Who may read a sealed document, and verifying one (the public 公文验证 page).

``document_readable_by``: the issuing department's staff with VIEW (or ARCHIVE, who keep
its archive), and the staff with RECEIVE (or ARCHIVE) of any department holding a delivery
of the document that the sender has not recalled.

Verification finds the document by the content digest the renderer writes into the PDF's
keywords (``sm3:<hex>`` = ``Document.content_sm3``), rebuilds the canonical content from
the stored elements and checks both signatures (``sealing.verify``), trusting exactly the
certificate of the seal that sealed it. The report carries no personal data: issuer,
seal, certificate subject, times, number and title (withheld for classified documents).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.http import Http404
from django.utils.translation import gettext as _

from tongban.apps.documents import permissions
from tongban.apps.documents.convert import document_to_layout
from tongban.apps.documents.models import Delivery, DeliveryState, Document, Kind
from tongban.apps.documents.rendering import KEYWORD_PREFIX
from tongban.apps.documents.sealing import verify
from tongban.apps.documents.seals import certificate_subject
from tongban.platform.access.services import ScopePaths, scope_queryset

logger = logging.getLogger(__name__)
ISSUER_SCOPE = ScopePaths(department="issuer")
RECIPIENT_SCOPE = ScopePaths(department="recipient")
SM3_HEX = re.compile(r"^[0-9a-f]{64}$")


# --- who may read ------------------------------------------------------------------------


def document_readable_by(actor: Any, document: Document) -> bool:
    """May ``actor`` read the document's sealed PDF (see the module docstring)."""
    one = Document.objects.filter(pk=document.pk)
    for code in (permissions.VIEW, permissions.ARCHIVE):
        if scope_queryset(actor, one, code, ISSUER_SCOPE).exists():
            return True
    held = Delivery.objects.filter(document_id=document.pk).exclude(state=DeliveryState.RECALLED)
    return any(
        scope_queryset(actor, held, code, RECIPIENT_SCOPE).exists()
        for code in (permissions.RECEIVE, permissions.ARCHIVE)
    )


def sealed_pdf_readable(actor: Any, stored: Any) -> bool:
    """Platform files' read check: the sealed PDF of a document ``actor`` may read."""
    document = Document.objects.filter(sealed_pdf_id=stored.pk).first()
    return document is not None and document_readable_by(actor, document)


def access_sealed_document(actor: Any, document_id: int) -> Document:
    """The sealed document if ``actor`` may read it; 404 otherwise (not visible, or not
    sealed yet)."""
    document = (
        Document.objects.select_related("issuer", "sealed_pdf")
        .filter(pk=document_id, sealed_pdf__isnull=False)
        .first()
    )
    if document is None or not document_readable_by(actor, document):
        raise Http404(_("未找到该公文"))
    return document


def sealed_pdf_bytes(document: Document) -> bytes:
    assert document.sealed_pdf is not None
    with default_storage.open(document.sealed_pdf.storage_name, "rb") as handle:
        return bytes(handle.read())


# --- verification ------------------------------------------------------------------------


@dataclass
class VerifyReport:
    """What the verify page shows."""

    found: bool
    intact: bool = False
    reasons: list[str] = field(default_factory=list)
    public_id: str = ""
    number: str = ""
    title: str = ""
    title_withheld: bool = False
    kind: str = ""
    issuer: str = ""
    seal_name: str = ""
    seal_active: bool = False
    certificate_subject: str = ""
    signer: str = ""
    sealed_at: dt.datetime | None = None
    signed_at: dt.datetime | None = None
    document_date: dt.date | None = None
    pades_valid: bool = False
    sm2_valid: bool = False


def pdf_content_sm3(pdf: bytes) -> str:
    """The content digest a rendered document carries in its keywords; "" when absent."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        info = reader.trailer["/Info"]
        keywords = str(info.get("/Keywords", ""))
    except (PdfReadError, KeyError, TypeError, ValueError, AttributeError):
        return ""
    except Exception:  # noqa: BLE001 - an upload from anyone: a malformed file is "not ours"
        logger.info("verify: unreadable PDF upload", exc_info=True)
        return ""
    if not keywords.startswith(KEYWORD_PREFIX):
        return ""
    digest = keywords[len(KEYWORD_PREFIX) :].strip().lower()
    return digest if SM3_HEX.match(digest) else ""


def _describe(document: Document) -> VerifyReport:
    seal = document.seal
    withheld = bool(document.classification)
    return VerifyReport(
        found=True,
        public_id=str(document.public_id),
        number=document.number,
        title="" if withheld else document.title,
        title_withheld=withheld,
        kind=str(Kind(document.kind).label),
        issuer=document.issuer.name,
        seal_name=seal.name if seal else "",
        seal_active=bool(seal and seal.active),
        certificate_subject=certificate_subject(seal) if seal else "",
        sealed_at=document.sealed_at,
        document_date=document.date,
    )


def verify_document_pdf(document: Document, pdf: bytes) -> VerifyReport:
    """Check ``pdf`` against the sealed ``document`` (both signatures and the content)."""
    report = _describe(document)
    seal = document.seal
    if seal is None or document.sm2_signature is None:
        report.reasons.append(_("该公文没有用印记录"))
        return report
    image = None if document.kind == Kind.MINUTES else bytes(seal.image)
    current = document_to_layout(document, seal_image=image).canonical_content()
    # the signatures cover the content as sealed (kept since sealing; rebuilt for
    # documents sealed before it was kept)
    content = bytes(document.sealed_content) if document.sealed_content else current
    try:
        result = verify(
            pdf,
            bytes(document.sm2_signature),
            seal.sm2_public_pem.encode("ascii"),
            content,
            trust_roots=(seal.certificate_pem.encode("ascii"),),
        )
    except Exception:  # noqa: BLE001 - a crafted upload must not become a server error
        logger.info("verify: PDF could not be checked", exc_info=True)
        report.reasons.append(_("PDF无法解析或签名无法校验"))
        return report
    report.intact = result.intact
    report.pades_valid = result.pades_valid
    report.sm2_valid = result.sm2_valid
    report.signer = result.signer
    report.signed_at = result.signed_at
    report.reasons = list(result.reasons)
    from tongban.platform.crypto.sm import sm3_hex

    changed = _changed_elements(content, current)
    if sm3_hex(content) != document.content_sm3 or changed - ISSUER_ELEMENTS:
        report.intact = False
        report.reasons.append(_("公文登记的要素在用印后发生了变化"))
    elif changed:
        # the issuing department was renamed since: the document is as it was sealed
        report.reasons.append(_("发文机关名称在用印后已变更，公文按用印时的名称核验"))
    return report


#: elements that follow the issuing department's name when the document leaves them empty
ISSUER_ELEMENTS = frozenset({"issuer", "issuer_mark", "signature"})


def _changed_elements(sealed: bytes, current: bytes) -> set[str]:
    """The top-level elements whose values differ between two canonical contents."""
    import json

    if sealed == current:
        return set()
    try:
        before, after = json.loads(sealed), json.loads(current)
    except ValueError:
        return {"*"}
    return {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}


def verify_uploaded(pdf: bytes) -> VerifyReport:
    """Verify an uploaded PDF: find its document by the content digest, then check it."""
    digest = pdf_content_sm3(pdf)
    if not digest:
        return VerifyReport(
            found=False, reasons=[_("这不是本平台用印的公文PDF，或文件已损坏（未找到内容摘要）")]
        )
    document = (
        Document.objects.select_related("issuer", "seal")
        .filter(content_sm3=digest, sealed_pdf__isnull=False)
        .order_by("-sealed_at")
        .first()
    )
    if document is None:
        return VerifyReport(found=False, reasons=[_("平台上没有与该PDF内容摘要相符的已用印公文")])
    return verify_document_pdf(document, pdf)


def verify_by_public_id(public_id: Any) -> VerifyReport | None:
    """Verify the stored sealed PDF of the document with ``public_id``; None: no such
    sealed document."""
    document = (
        Document.objects.select_related("issuer", "seal", "sealed_pdf")
        .filter(public_id=public_id, sealed_pdf__isnull=False)
        .first()
    )
    if document is None:
        return None
    return verify_document_pdf(document, sealed_pdf_bytes(document))
