"""Archiving documents and receipts (档号, retention, snapshot), full-text search limited to
the reader's departments, the archive pages and API."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.test import Client

from tests import factories
from tongban.apps.documents import archive
from tongban.apps.documents import selectors_archive as selectors
from tongban.apps.documents.models import (
    ArchiveRecord,
    DocumentState,
    Opinion,
    ReceiptState,
    Retention,
    Revision,
)
from tongban.apps.documents.tests import fixtures_archive
from tongban.apps.documents.tests.fixtures_archive import API
from tongban.platform.audit.models import AuditEntry

archive_city = fixtures_archive.archive_city


def _distributed(city, **overrides):
    """A distributed document indexed as if sealed (no rendering)."""
    return city.numbered_document(state=DocumentState.DISTRIBUTED, **overrides)


def test_document_archive_numbers_snapshots_and_keeps(archive_city):
    city = archive_city
    first = _distributed(city)
    Revision.objects.create(
        document=first,
        number=1,
        title=first.title,
        body=first.body,
        author=city.clerk,
        step=DocumentState.DRAFTING,
    )
    Opinion.objects.create(
        document=first, step=DocumentState.SIGNING, author=city.clerk, decision="agree", text="同意"
    )
    city.deliver(first, city.health)
    record = archive.document_archive(actor=city.clerk, document=first, retention=Retention.LONG)
    assert record.archive_number == "SZFB-2026-WS-0001"
    assert record.keep_until == dt.date(2056, 12, 31)
    assert record.kind == "sent"
    assert record.department == city.office
    assert record.metadata["number"] == first.number
    assert record.metadata["title"] == first.title
    assert record.metadata["recipients"] == ["WJW"]
    assert len(record.metadata["revisions"]) == 1
    assert record.metadata["opinions"][0]["text"] == "同意"
    first.refresh_from_db()
    assert first.state == DocumentState.ARCHIVED
    assert first.archived_at is not None
    assert first.retention == Retention.LONG
    assert AuditEntry.objects.filter(action="documents.document.archive").count() == 1

    second = archive.document_archive(
        actor=city.clerk, document=_distributed(city), retention=Retention.PERMANENT
    )
    assert second.archive_number == "SZFB-2026-WS-0002"
    assert second.keep_until is None
    with pytest.raises(ValidationError):  # archived already
        archive.document_archive(actor=city.clerk, document=first, retention=Retention.SHORT)


def test_document_archive_refusals_leave_nothing(archive_city):
    city = archive_city
    drafting = city.numbered_document()  # at 用印, not distributed
    with pytest.raises(ValidationError):
        archive.document_archive(actor=city.clerk, document=drafting, retention=Retention.LONG)
    document = _distributed(city)
    with pytest.raises(ValidationError) as raised:
        archive.document_archive(actor=city.clerk, document=document, retention="forever")
    assert "retention" in raised.value.message_dict
    for actor in (city.viewer, city.outsider, city.receiver):
        with pytest.raises(PermissionDenied):
            archive.document_archive(actor=actor, document=document, retention=Retention.LONG)
    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTED
    assert not ArchiveRecord.objects.exists()
    assert (
        AuditEntry.objects.filter(action="documents.archive.manage", outcome="denied").count() == 3
    )


def test_receipt_archive_and_search_limited_to_the_readers_departments(archive_city, client):
    city = archive_city
    sent = _distributed(city, title="关于加强城市供水安全管理的通知", body="各单位要保障供水水质。")
    archive.document_index(document=sent)  # not sealed: not indexed
    assert selectors.search_for(city.clerk, text="供水") == []
    sent.sealed_pdf = fixtures_archive_pdf(city)
    sent.save(update_fields=["sealed_pdf"])
    archive.document_index(document=sent)

    delivery = city.deliver(sent, city.health, state="registered")
    receipt = city.receipt(delivery=delivery, title="关于加强城市供水安全管理的通知")
    archive.receipt_index(receipt=receipt)
    open_receipt = city.receipt(state=ReceiptState.HANDLING, title="关于食品安全检查的通知")
    archive.receipt_index(receipt=open_receipt)
    civil_receipt = city.receipt(city.civil, title="关于城市供水应急演练的通知")
    archive.receipt_index(receipt=civil_receipt)

    issuer_hits = selectors.search_for(city.clerk, text="供水")
    assert [(hit.kind, hit.document) for hit in issuer_hits] == [("sent", sent)]
    body_hits = selectors.search_for(city.viewer, text="水质")  # the body, through VIEW
    assert [hit.document for hit in body_hits] == [sent]
    receiver_hits = selectors.search_for(city.receiver, text="供水")
    assert [hit.receipt for hit in receiver_hits] == [receipt]  # its own receipt only
    assert selectors.search_for(city.receiver, text="水质")[0].receipt == receipt
    outsider_hits = selectors.search_for(city.outsider, text="供水")
    assert [hit.receipt for hit in outsider_hits] == [civil_receipt]
    assert selectors.search_for(city.plain, text="供水") == []
    assert selectors.search_for(city.receiver, text="供水", department_id=city.office.pk) == []

    with pytest.raises(ValidationError):  # still being handled
        archive.receipt_archive(actor=city.receiver, receipt=open_receipt, retention="10y")
    with pytest.raises(PermissionDenied):
        archive.receipt_archive(actor=city.clerk, receipt=receipt, retention="10y")
    record = archive.receipt_archive(actor=city.receiver, receipt=receipt, retention="10y")
    assert record.archive_number == "WJW-2026-SW-0001"
    assert record.keep_until == dt.date(2036, 12, 31)
    assert record.metadata["source_number"] == receipt.source_number
    assert record.metadata["document"] == str(sent.public_id)
    receipt.refresh_from_db()
    assert receipt.state == ReceiptState.ARCHIVED
    assert selectors.search_for(city.receiver, text="供水")[0].archived

    factories.sign_in_verified(client, city.receiver)
    page = client.get("/documents/archive/", {"q": "供水"})
    assert page.status_code == 200
    assert [hit.receipt for hit, _link in page.context["hits"]] == [receipt]
    assert "WJW-2026-SW-0001" in page.content.decode()
    api = client.get(f"{API}/archive/search", {"q": "供水"})
    assert api.status_code == 200
    assert [hit["id"] for hit in api.json()] == [receipt.pk]


def fixtures_archive_pdf(city):
    from django.core.files.base import ContentFile

    from tongban.platform.files.services import file_store

    return file_store(
        actor=city.clerk, upload=ContentFile(b"%PDF-1.4\n%%EOF\n", name="document.pdf")
    )


def test_archive_pages_and_api(archive_city, client):
    city = archive_city
    document = _distributed(city)
    receipt = city.receipt()
    factories.sign_in_verified(client, city.clerk)
    listing = client.get("/documents/archive/")
    assert listing.status_code == 200
    assert [d.pk for d in listing.context["pending_documents"]] == [document.pk]
    assert listing.context["pending_receipts"] == []  # the health commission's
    response = client.post(f"/documents/archive/documents/{document.pk}/", {"retention": "30y"})
    record = ArchiveRecord.objects.get(document=document)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{record.pk}/")
    detail = client.get(f"/documents/archive/{record.pk}/")
    assert detail.status_code == 200
    assert record.archive_number in detail.content.decode()
    filtered = client.get("/documents/archive/", {"year": 2026, "kind": "sent", "retention": "30y"})
    assert [r.pk for r in filtered.context["page"].object_list] == [record.pk]
    assert (
        client.get("/documents/archive/", {"retention": "10y"}).context["page"].paginator.count == 0
    )
    ArchiveRecord.objects.filter(pk=record.pk).update(keep_until=dt.date(2020, 12, 31))
    expired = client.get("/documents/archive/", {"expired": "1"})
    assert [r.pk for r in expired.context["page"].object_list] == [record.pk]

    viewer = factories.sign_in_verified(Client(), city.viewer)
    assert viewer.get(f"/documents/archive/{record.pk}/").status_code == 200
    assert (
        viewer.post(f"/documents/archive/receipts/{receipt.pk}/", {"retention": "10y"}).status_code
        == 403
    )
    outsider = factories.sign_in_verified(Client(), city.outsider)
    assert outsider.get(f"/documents/archive/{record.pk}/").status_code == 404
    assert (
        outsider.post(
            f"/documents/archive/receipts/{receipt.pk}/", {"retention": "10y"}
        ).status_code
        == 404
    )
    plain = factories.sign_in_verified(Client(), city.plain)
    assert plain.get("/documents/archive/").status_code == 403

    receiver = factories.sign_in_verified(Client(), city.receiver)
    # API: a caller without ARCHIVE is refused before the body is read
    refused = viewer.post(
        f"{API}/archive/receipts/{receipt.pk}", data="not json", content_type="application/json"
    )
    assert refused.status_code == 403
    created = receiver.post(
        f"{API}/archive/receipts/{receipt.pk}",
        data={"retention": "permanent"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert created.json()["archive_number"] == "WJW-2026-SW-0001"
    listed = receiver.get(f"{API}/archive/records").json()
    assert [row["archive_number"] for row in listed] == ["WJW-2026-SW-0001"]
    assert receiver.get(f"{API}/archive/records/{record.pk}").status_code == 404
    assert client.get(f"{API}/archive/records/{record.pk}").json()["title"] == document.title


@pytest.mark.django_db(transaction=True)
def test_concurrent_archiving_gives_gapless_unique_numbers(archive_city):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    city = archive_city
    documents = [_distributed(city) for _ in range(12)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work(batch) -> None:
        try:
            barrier.wait()
            for document in batch:
                archive.document_archive(actor=city.clerk, document=document, retention="10y")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(documents[i::6],)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(ArchiveRecord.objects.values_list("archive_number", flat=True))
    assert numbers == [f"SZFB-2026-WS-{serial:04d}" for serial in range(1, 13)]
