"""发文字号: gapless serials per issuer, issuer code, kind and year; concurrent sign-offs on
PostgreSQL with real threads."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from tests import factories
from tongban.apps.documents.models import Document, NumberSequence
from tongban.apps.documents.numbering import assign_number, number_text
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department


def _setup() -> tuple[Department, User]:
    division = factories.division()
    office = factories.department(division, "SZFB", "示范市人民政府办公室")
    return office, factories.staff("drafter")


def _document(issuer: Department, drafter: User, **fields: Any) -> Document:
    values: dict[str, Any] = {
        "issuer": issuer,
        "drafter": drafter,
        "title": "关于开展专项检查的通知",
        "issuer_code": "示范府",
        "signed_off_at": timezone.now(),
        **fields,
    }
    return Document.objects.create(**values)


@pytest.mark.django_db
def test_serials_per_kind_and_year_and_the_number_text() -> None:
    office, drafter = _setup()
    first = assign_number(document=_document(office, drafter))
    second = assign_number(document=_document(office, drafter))
    order = assign_number(document=_document(office, drafter, kind="命令"))
    last_year = timezone.now() - dt.timedelta(days=400)
    old = assign_number(document=_document(office, drafter, signed_off_at=last_year))
    year = timezone.localdate().year
    assert (first.serial, second.serial, order.serial, old.serial) == (1, 2, 1, 1)
    assert second.number == f"示范府〔{year}〕2号"
    assert order.number == "第1号"
    assert old.year == timezone.localtime(last_year).year
    assert second.date == timezone.localtime(second.signed_off_at).date()
    again = assign_number(document=second)  # idempotent: keeps its number
    assert again.serial == 2
    assert NumberSequence.objects.get(kind="文件", year=year).last == 2
    assert (
        number_text(kind="信函", issuer_code="示范府函", year=2026, serial=7)
        == "示范府函〔2026〕7号"
    )


@pytest.mark.django_db
def test_a_rolled_back_sign_off_gives_its_serial_back() -> None:
    office, drafter = _setup()
    document = _document(office, drafter)

    def sign_off_fails() -> None:
        with transaction.atomic():
            assign_number(document=document)
            raise RuntimeError("the sign-off failed after numbering")

    with pytest.raises(RuntimeError):
        sign_off_fails()
    fresh = Document.objects.get(pk=document.pk)
    assert fresh.serial is None
    assert assign_number(document=fresh).serial == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_numbering_is_gapless() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    office, drafter = _setup()
    documents = [_document(office, drafter) for _ in range(40)]
    batches = [documents[index::8] for index in range(8)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker(batch: list[Document]) -> None:
        try:
            barrier.wait(timeout=30)
            for document in batch:
                with transaction.atomic():
                    assign_number(document=document)
        except BaseException as error:  # noqa: BLE001  (reported below)
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    serials = list(Document.objects.order_by("serial").values_list("serial", flat=True))
    assert serials == list(range(1, 41))
    assert NumberSequence.objects.get().last == 40


@pytest.mark.django_db
def test_numbering_continues_after_documents_the_sequence_never_saw() -> None:
    """Regression: a document numbered outside the sequence (imported from an earlier
    system, loaded by hand) made the next 编号 fail with an IntegrityError (a 500)."""
    office, drafter = _setup()
    first = assign_number(document=_document(office, drafter))
    year = first.year
    assert year is not None
    _document(office, drafter, title="从原系统导入的公文", year=year, serial=7)
    second = assign_number(document=_document(office, drafter))
    assert second.serial == 8
    third = assign_number(document=_document(office, drafter))
    assert third.serial == 9
