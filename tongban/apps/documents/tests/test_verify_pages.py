"""The public verify page and API, and who may download a sealed PDF."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests import factories
from tongban.apps.documents import verification
from tongban.apps.documents.models import DeliveryState
from tongban.apps.documents.tests import fixtures_archive
from tongban.apps.documents.tests.fixtures_archive import API
from tongban.platform.audit.models import AuditEntry

archive_city = fixtures_archive.archive_city


def _upload(client: Client, data: bytes, name: str = "document.pdf"):
    return client.post(
        "/documents/verify/",
        {"pdf": SimpleUploadedFile(name, data, content_type="application/pdf")},
    )


def _tamper(pdf: bytes) -> bytes:
    data = bytearray(pdf)
    data[len(data) // 3] ^= 0x01
    return bytes(data)


def test_verify_page_by_upload_and_by_public_id(archive_city, client):
    document = archive_city.sealed()
    pdf = verification.sealed_pdf_bytes(document)

    assert client.get("/documents/verify/").status_code == 200
    intact = _upload(client, pdf)
    assert intact.status_code == 200
    report = intact.context["report"]
    assert report.found
    assert report.intact, report.reasons
    assert report.pades_valid
    assert report.sm2_valid
    assert report.issuer == "示范市人民政府办公室"
    assert report.number == document.number
    assert report.title == document.title
    assert "示范市人民政府办公室" in report.certificate_subject
    page = intact.content.decode()
    assert 'data-intact="yes"' in page
    assert document.number in page
    assert archive_city.clerk.username not in page  # no personal data

    tampered = _upload(client, _tamper(pdf)).context["report"]
    assert tampered.found  # by the digest in its keywords
    assert not tampered.pades_valid
    assert not tampered.intact
    assert tampered.reasons

    by_id = client.get(f"/documents/verify/{document.public_id}/")
    assert by_id.status_code == 200
    assert by_id.context["report"].intact

    api = client.get(f"{API}/verify/{document.public_id}")
    assert api.status_code == 200
    body = api.json()
    assert body["intact"] is True
    assert body["number"] == document.number
    assert body["seal"]
    assert "sealed_by" not in body

    # regression: renaming the issuing department after sealing made every document it had
    # sealed "not intact" (the content was rebuilt with the new name); the content as
    # sealed is kept, so the document stays intact and the rename is mentioned
    assert document.sealed_content
    office = document.issuer
    office.name = "示范市人民政府办公厅"
    office.save(update_fields=["name"])
    renamed = verification.verify_by_public_id(document.public_id)
    assert renamed is not None
    assert renamed.intact, renamed.reasons
    assert any("名称" in reason for reason in renamed.reasons)

    # the document's elements changed after sealing: the content no longer matches
    document.refresh_from_db()
    document.title = "改过的标题"
    document.save(update_fields=["title"])
    changed = verification.verify_by_public_id(document.public_id)
    assert changed is not None
    assert not changed.intact
    assert changed.reasons


def test_verify_page_refusals(archive_city, client, settings):
    assert _upload(client, b"hello, not a pdf", "note.pdf").status_code == 400
    unknown = _upload(client, b"%PDF-1.4\n%%EOF\n")
    assert unknown.status_code == 200
    assert not unknown.context["report"].found
    assert client.post("/documents/verify/", {}).status_code == 400
    assert client.get("/documents/verify/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get(f"{API}/verify/00000000-0000-0000-0000-000000000000").status_code == 404
    settings.TONGBAN_DOCUMENTS_VERIFY_MAX_BYTES = 10
    assert _upload(client, b"%PDF-1.4 too long for the cap").status_code == 400
    settings.TONGBAN_DOCUMENTS_VERIFY_PER_MINUTE = 1
    assert client.get("/documents/verify/00000000-0000-0000-0000-000000000000/").status_code == 429
    assert client.get(f"{API}/verify/00000000-0000-0000-0000-000000000000").status_code == 429


def test_classified_titles_are_withheld(archive_city):
    document = archive_city.numbered_document(classification="秘密", secrecy_period="1年")
    report = verification._describe(document)
    assert report.title == ""
    assert report.title_withheld


def test_sealed_pdf_is_readable_by_the_issuer_and_the_recipients_only(archive_city, client):
    document = archive_city.numbered_document()
    from tongban.apps.documents import seals

    seals.ensure_seal(archive_city.office)
    # a stand-in PDF: what matters here is who may read it
    from django.core.files.base import ContentFile

    from tongban.platform.files.services import file_can_read, file_store

    stored = file_store(
        actor=archive_city.clerk,
        upload=ContentFile(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", name="x.pdf"),
    )
    document.sealed_pdf = stored
    document.save(update_fields=["sealed_pdf"])
    url = f"/documents/pdf/{document.pk}/"

    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user, expected in (
        (archive_city.viewer, 200),  # VIEW over the issuer
        (archive_city.clerk, 200),
        (archive_city.receiver, 404),  # nothing delivered yet
        (archive_city.outsider, 404),
        (archive_city.plain, 404),
    ):
        signed_in = factories.sign_in_verified(Client(), user)
        response = signed_in.get(url)
        assert response.status_code == expected, user.username
        if expected == 200:
            assert response["Content-Type"] == "application/pdf"
            assert response["Cache-Control"] == "private, no-store"
    seals.register()  # the platform's file download asks the same question
    assert file_can_read(archive_city.viewer, stored)
    assert not file_can_read(archive_city.outsider, stored)
    delivery = archive_city.deliver(document, archive_city.health)
    receiver = factories.sign_in_verified(Client(), archive_city.receiver)
    assert receiver.get(url).status_code == 200
    assert verification.document_readable_by(archive_city.receiver, document)
    delivery.state = DeliveryState.RECALLED
    delivery.save(update_fields=["state"])
    assert receiver.get(url).status_code == 404
    assert (
        AuditEntry.objects.filter(action="files.file.read", object_id=str(stored.pk)).count() == 3
    )
