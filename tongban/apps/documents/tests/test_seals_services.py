"""Seals: the conversion to the layout, seal management with encrypted keys, 用印."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from PIL import Image

from tests import factories
from tongban.apps.documents import seals
from tongban.apps.documents.archive import SEARCH_NAMESPACE, document_key
from tongban.apps.documents.convert import document_to_layout
from tongban.apps.documents.layout import DocumentKind
from tongban.apps.documents.models import DocumentAttachment, IssuerSeal, Kind
from tongban.apps.documents.sealing import sm2_sign
from tongban.apps.documents.tests import fixtures_archive
from tongban.platform.audit.models import AuditEntry
from tongban.platform.crypto import sm2
from tongban.platform.crypto.rotation import encrypted_columns
from tongban.platform.events.models import Event
from tongban.platform.search.models import SearchDocument

archive_city = fixtures_archive.archive_city


def _png(size: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), (220, 0, 0, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_document_to_layout_maps_the_elements(archive_city):
    document = archive_city.numbered_document(
        kind=Kind.LETTER,
        body="第一段。\n\n  第二段。  \n",
        signers=["张三", "", 5],
        cc=["市委办公室", "市人大常委会办公室"],
        classification="秘密",
        secrecy_period="1年",
    )
    DocumentAttachment.objects.create(document=document, position=2, title="附表二")
    DocumentAttachment.objects.create(document=document, position=1, title="附表一")
    layout = document_to_layout(document)
    assert layout.kind == DocumentKind.LETTER
    assert layout.issuer == "示范市人民政府办公室"
    assert layout.body == ("第一段。", "第二段。")
    assert layout.signers == ("张三",)
    assert layout.cc == ("市委办公室", "市人大常委会办公室")
    assert layout.attachment_notes == ("附表一", "附表二")  # the files' titles, in order
    assert layout.number == document.number
    assert layout.secrecy == "秘密★1年"
    assert not layout.seal_applies
    assert layout.seal_image is None
    sealed = document_to_layout(document, seal_image=b"png")
    assert sealed.seal_applies
    assert sealed.canonical_content() != layout.canonical_content()
    # stable: the same row gives the same canonical bytes
    assert document_to_layout(document).canonical_content() == layout.canonical_content()


def test_seal_create_encrypts_keys_and_retires_the_previous_seal(archive_city):
    seals.register()
    labels = {column.label for column in encrypted_columns()}
    assert "documents.IssuerSeal.pades_key_encrypted" in labels
    assert "documents.IssuerSeal.sm2_private_encrypted" in labels

    first = seals.seal_create(
        actor=archive_city.keeper, department=archive_city.office, name="办公室印", image=None
    )
    second = seals.seal_create(
        actor=archive_city.keeper, department=archive_city.office, name="办公室公章", image=_png()
    )
    first.refresh_from_db()
    assert not first.active
    assert first.retired_at is not None
    assert second.active
    assert bytes(second.image) == _png()
    stored = IssuerSeal.objects.get(pk=second.pk)
    assert b"PRIVATE KEY" not in bytes(stored.pades_key_encrypted)
    assert b"PRIVATE KEY" not in bytes(stored.sm2_private_encrypted)
    identity = seals.seal_identity(stored)
    assert b"PRIVATE KEY" in identity.key_pem
    signature = sm2_sign(b"content", identity)
    sm2.verify(stored.sm2_public_pem.encode(), b"content", signature)
    assert "示范市人民政府办公室" in seals.certificate_subject(stored)
    assert AuditEntry.objects.filter(action="documents.seal.create").count() == 2

    rotated = seals.seal_rotate(actor=archive_city.keeper, seal=second)
    second.refresh_from_db()
    assert not second.active
    assert rotated.active
    assert bytes(rotated.image) == bytes(second.image)
    assert rotated.certificate_pem != second.certificate_pem
    seals.seal_retire(actor=archive_city.keeper, seal=rotated)
    assert seals.active_seal(archive_city.office) is None


def test_seal_create_refuses_other_departments_and_bad_images(archive_city):
    with pytest.raises(PermissionDenied):
        seals.seal_create(
            actor=archive_city.keeper, department=archive_city.civil, name="印", image=None
        )
    with pytest.raises(PermissionDenied):
        seals.seal_create(
            actor=archive_city.clerk, department=archive_city.office, name="印", image=None
        )
    for image, field in ((b"GIF89a....", "image"), (_png(20), "image"), (b"", "image")):
        with pytest.raises(ValidationError) as raised:
            seals.seal_create(
                actor=archive_city.keeper, department=archive_city.office, name="印", image=image
            )
        assert field in raised.value.message_dict
    with pytest.raises(ValidationError):
        seals.seal_create(
            actor=archive_city.keeper, department=archive_city.office, name=" ", image=None
        )
    assert not IssuerSeal.objects.exists()
    assert AuditEntry.objects.filter(action="documents.seal.manage", outcome="denied").count() == 2


def test_document_seal_signs_stores_indexes_and_publishes(archive_city):
    document = archive_city.numbered_document()
    with pytest.raises(ValidationError):  # no seal yet
        seals.document_seal(actor=archive_city.clerk, document=document)
    seal = seals.ensure_seal(archive_city.office)
    assert seals.ensure_seal(archive_city.office) == seal
    with pytest.raises(PermissionDenied):
        seals.document_seal(actor=archive_city.viewer, document=document)
    unnumbered = archive_city.numbered_document(serial=None, number="", year=None)
    with pytest.raises(ValidationError):
        seals.document_seal(actor=archive_city.clerk, document=unnumbered)

    sealed = seals.document_seal(actor=archive_city.clerk, document=document)
    assert sealed.sealed_pdf is not None
    assert sealed.sm2_signature is not None
    assert sealed.seal == seal
    assert sealed.sealed_by == archive_city.clerk
    assert sealed.sealed_at is not None
    assert len(sealed.content_sm3) == 64
    assert sealed.state == document.state  # the drafting process moves the state
    assert sealed.sealed_pdf.content_type == "application/pdf"
    assert sealed.sealed_pdf.original_name == f"{document.number}.pdf"
    layout = document_to_layout(sealed, seal_image=bytes(seal.image))
    sm2.verify(
        seal.sm2_public_pem.encode(), layout.canonical_content(), bytes(sealed.sm2_signature)
    )
    event = Event.objects.get(name="documents.document.sealed")
    assert event.payload == {
        "document": str(document.public_id),
        "issuer": "SZFB",
        "number": document.number,
        "title": document.title,
        "content_sm3": sealed.content_sm3,
    }
    assert AuditEntry.objects.filter(
        action="documents.document.seal", object_id=str(document.pk)
    ).exists()
    entry = SearchDocument.objects.get(namespace=SEARCH_NAMESPACE, key=document_key(document.pk))
    assert entry.filters["department"] == str(archive_city.office.pk)
    # a 纪要: no seal image, no serial needed, dated the day it is signed
    minutes = archive_city.numbered_document(
        kind=Kind.MINUTES, serial=None, number="", date=None, state="distributing"
    )
    signed = seals.document_seal(actor=archive_city.clerk, document=minutes)
    assert signed.sealed_pdf is not None
    assert signed.date is not None
    from tongban.apps.documents.verification import verify_by_public_id

    report = verify_by_public_id(minutes.public_id)
    assert report is not None
    assert report.intact, report.reasons
    # sealing again changes nothing
    again = seals.document_seal(actor=archive_city.clerk, document=document)
    assert again.sealed_pdf_id == sealed.sealed_pdf_id
    assert Event.objects.filter(name="documents.document.sealed").count() == 2


def test_seals_page_lists_creates_and_rotates(archive_city, client):
    factories.sign_in_verified(client, archive_city.keeper)
    assert client.get("/documents/seals/").status_code == 200
    response = client.post(
        "/documents/seals/", {"department": archive_city.office.pk, "name": "办公室印"}
    )
    assert response.status_code == 302
    seal = IssuerSeal.objects.get(active=True)
    page = client.get("/documents/seals/")
    assert "办公室印" in page.content.decode()
    image = client.get(f"/documents/seals/{seal.pk}/image/")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/png"
    bad = client.post(
        "/documents/seals/", {"department": archive_city.civil.pk, "name": "民政局印"}
    )
    assert bad.status_code == 400  # not a department the keeper manages
    assert client.post(f"/documents/seals/{seal.pk}/rotate/").status_code == 302
    assert IssuerSeal.objects.filter(department=archive_city.office).count() == 2

    other = client.__class__()
    factories.sign_in_verified(other, archive_city.outsider)
    assert other.get(f"/documents/seals/{seal.pk}/image/").status_code == 404
    assert other.post(f"/documents/seals/{seal.pk}/retire/").status_code == 404
    plain = client.__class__()
    factories.sign_in_verified(plain, archive_city.plain)
    assert plain.get("/documents/seals/").status_code == 403
