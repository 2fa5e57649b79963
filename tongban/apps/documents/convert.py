"""A stored ``Document`` as the layout library's ``OfficialDocument`` (what is rendered,
sealed and verified).

The canonical content the SM2 signature covers is ``OfficialDocument.canonical_content()``
of this conversion, so it must stay stable: the same row gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from tongban.apps.documents.layout import DocumentKind, OfficialDocument
from tongban.apps.documents.models import Document, Kind


def _strings(values: Any) -> tuple[str, ...]:
    """A JSON list of strings as a tuple, blanks and non-strings dropped."""
    if not isinstance(values, Iterable) or isinstance(values, str | bytes):
        return ()
    return tuple(str(value).strip() for value in values if isinstance(value, str) and value.strip())


def body_paragraphs(body: str) -> tuple[str, ...]:
    """The body split into paragraphs on newlines (blank lines and edge spaces dropped)."""
    return tuple(line.strip() for line in (body or "").splitlines() if line.strip())


def document_to_layout(document: Document, *, seal_image: bytes | None = None) -> OfficialDocument:
    """Every GB/T 9704 element of ``document``; the seal is drawn only with ``seal_image``.

    Attachments are listed in 附件说明 (the JSON notes, or the attached files' titles); their
    files travel beside the document, not inside its PDF. An unnumbered, undated draft is
    dated today so it can be previewed.
    """
    notes = _strings(document.attachment_notes)
    if not notes and document.pk is not None:
        notes = tuple(
            title.strip()
            for title in document.attachments.order_by("position", "id").values_list(
                "title", flat=True
            )
            if title.strip()
        )
    return OfficialDocument(
        issuer=document.issuer.name,
        title=document.title,
        date=document.date or timezone.localdate(),
        body=body_paragraphs(document.body),
        kind=DocumentKind(document.kind or Kind.FILE),
        issuer_mark=document.issuer_mark,
        copy_number=document.copy_number,
        classification=document.classification,
        secrecy_period=document.secrecy_period if document.classification else "",
        urgency=document.urgency,
        issuer_code=document.issuer_code,
        year=document.year,
        serial=document.serial,
        signers=_strings(document.signers),
        signer_title=document.signer_title,
        addressees=document.addressees,
        attachment_notes=notes,
        signature=document.signature,
        sealed=seal_image is not None,
        seal_image=seal_image,
        notes=document.notes,
        cc=_strings(document.cc),
        printed_by=document.printed_by,
        printed_on=document.printed_on,
        attendees=_strings(document.attendees),
        absentees=_strings(document.absentees),
        observers=_strings(document.observers),
    )
