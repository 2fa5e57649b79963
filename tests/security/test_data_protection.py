"""Data protection read from the raw database: no plaintext resident ID numbers or phone
numbers in any column of any table; the audit chain detects tampering; reads of personal
data are audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from tests import factories
from tongban.apps.approvals.tests.conftest import make_city, upload
from tongban.platform.access.models import Scope
from tongban.platform.access.permissions import PERSON_REVEAL_ID
from tongban.platform.accounts.idnumbers import make_resident_id
from tongban.platform.accounts.models import NaturalPerson, User
from tongban.platform.accounts.services import person_reveal_id_number
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import ALTERED, DELETED, verify_chain

pytestmark = pytest.mark.django_db

ID_NUMBER = make_resident_id("990102", dt.date(1987, 3, 9), 517)
MOBILE = "13911112222"
CASE_PHONE = "13733334444"


def _all_cells() -> list[tuple[str, str, Any]]:
    """(table, column, value) of every non-NULL cell of every table, read with raw SQL."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                cells += [(table, c, v) for c, v in zip(columns, row, strict=True) if v is not None]
    return cells


def _holding(cells: list[tuple[str, str, Any]], needle: str) -> list[str]:
    """Where ``needle`` appears, as text or as UTF-8 bytes inside a binary column."""
    found = []
    raw = needle.encode("utf-8")
    for table, column, value in cells:
        if isinstance(value, (bytes, memoryview, bytearray)):
            hit = raw in bytes(value)
        else:
            hit = needle in str(value)
        if hit:
            found.append(f"{table}.{column}")
    return found


def test_raw_database_holds_no_plaintext_id_number_or_phone_number(client):
    # given a citizen registered through the page and an application with a contact phone
    city = make_city()
    response = client.post(
        "/accounts/register/",
        {
            "username": "zhao_liu",
            "password": "Tongban@2026-secure",
            "password_confirm": "Tongban@2026-secure",
            "name": "赵六",
            "id_number": ID_NUMBER,
            "mobile": MOBILE,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    citizen = User.objects.get(username="zhao_liu")
    client.force_login(citizen)
    created = client.post(
        "/api/approvals/cases",
        {
            "item_id": city.item_id,
            "applicant": {"contact_phone": CASE_PHONE},
            "materials": [{"name": "食品经营许可申请书", "file_id": str(upload(citizen).pk)}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    # and a staff member who reads the full ID number (an audited read)
    officer = factories.staff(
        "revealer",
        role_obj=factories.role("revealer", [PERSON_REVEAL_ID]),
        scope=Scope.ALL,
    )
    assert citizen.person is not None
    assert person_reveal_id_number(actor=officer, person=citizen.person) == ID_NUMBER

    # when every cell of every table is read back with raw SQL
    cells = _all_cells()

    # then the plain values are nowhere, while their masked forms and the name are there
    assert _holding(cells, "赵六") != []  # the scan does see the rows
    assert "accounts_naturalperson.id_number_masked" in _holding(cells, ID_NUMBER[-4:])
    assert _holding(cells, "139****2222") == [
        "accounts_naturalperson.mobile_masked",
        "accounts_user.mobile_masked",
    ]
    assert _holding(cells, "137****4444") == ["approvals_case.contact_phone_masked"]
    assert _holding(cells, ID_NUMBER) == []
    assert _holding(cells, ID_NUMBER.lower()) == []
    assert _holding(cells, MOBILE) == []
    assert _holding(cells, CASE_PHONE) == []
    # the ORM still reads them (decrypted on load)
    assert NaturalPerson.objects.get(pk=citizen.person.pk).mobile == MOBILE


def test_reading_the_full_id_number_is_audited_with_who_and_whose():
    officer = factories.staff(
        "revealer", role_obj=factories.role("revealer", [PERSON_REVEAL_ID]), scope=Scope.ALL
    )
    person = factories.person("孙七")

    person_reveal_id_number(actor=officer, person=person)

    entry = AuditEntry.objects.get(action="accounts.person.reveal_id_number")
    assert (entry.actor_id, entry.object_type, entry.object_id, entry.outcome) == (
        officer.pk,
        "accounts.naturalperson",
        str(person.pk),
        "success",
    )
    assert entry.detail == '{"personal_data":"id_number"}'
    assert str(person.id_number) not in str(entry.detail) + entry.object_label


def _audited_reads(count: int) -> list[AuditEntry]:
    officer = factories.staff(
        "revealer", role_obj=factories.role("revealer", [PERSON_REVEAL_ID]), scope=Scope.ALL
    )
    person = factories.person("周八")
    for _ in range(count):
        person_reveal_id_number(actor=officer, person=person)
    return list(AuditEntry.objects.order_by("seq"))


def test_audit_chain_verification_names_an_entry_altered_with_raw_sql():
    entries = _audited_reads(3)
    assert verify_chain().ok
    victim = entries[-2]
    table = connection.ops.quote_name(AuditEntry._meta.db_table)

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET actor_label = %s WHERE seq = %s",  # noqa: S608
            ["someone else", victim.seq],
        )

    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (ALTERED, victim.seq)
    with pytest.raises(CommandError, match=f"entry #{victim.seq} was altered"):
        call_command("audit_verify")


def test_audit_chain_verification_names_an_entry_deleted_with_raw_sql():
    entries = _audited_reads(3)
    victim = entries[-2]
    table = connection.ops.quote_name(AuditEntry._meta.db_table)

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE seq = %s", [victim.seq])  # noqa: S608

    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (DELETED, victim.seq)
