from __future__ import annotations

import pytest
from django.db import connection

from tongban.platform.audit.chain import CHAINED_COLUMNS, canonical_detail, entry_hash
from tongban.platform.audit.models import AppendOnlyError, AuditEntry
from tongban.platform.audit.services import audit_record
from tongban.platform.audit.verify import ALTERED, DELETED, INSERTED, verify_chain

pytestmark = pytest.mark.django_db


def _write(count: int) -> None:
    for index in range(count):
        audit_record(
            action="test.thing.do",
            object_type="test.thing",
            object_id=str(index),
            detail={"n": index, "名称": "测试"},
        )


def test_an_untouched_chain_verifies():
    _write(10)
    report = verify_chain()
    assert report.ok, report.problem
    assert report.entries == 10
    assert report.head_seq == 10


def test_altering_an_entry_is_named():
    _write(10)
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET detail = %s WHERE seq = 4", ['{"n":999}'])
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (ALTERED, 4)


def test_deleting_an_entry_is_named():
    _write(10)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = 6")
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (DELETED, 6)


def test_deleting_an_entry_and_renumbering_is_still_caught():
    _write(10)
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE seq = 6")
        for seq in range(7, 11):
            cursor.execute(f"UPDATE {table} SET seq = %s WHERE seq = %s", [seq - 1, seq])
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (DELETED, 6)


def test_inserting_a_forged_entry_is_named():
    _write(10)
    table = AuditEntry._meta.db_table
    previous = AuditEntry.objects.get(seq=5)
    with connection.cursor() as cursor:
        for seq in range(10, 5, -1):  # make room at #6 by shifting #6..#10 up by one
            cursor.execute(f"UPDATE {table} SET seq = %s WHERE seq = %s", [seq + 1, seq])
    forged = dict.fromkeys(CHAINED_COLUMNS, "")
    forged.update(
        occurred_us=previous.occurred_us + 1,
        actor_id=None,
        action="forged.entry",
        outcome="success",
        detail=canonical_detail({}),
        prev_hash=previous.hash,
    )
    digest = entry_hash(tuple(forged[c] for c in CHAINED_COLUMNS))
    columns = ["seq", *CHAINED_COLUMNS, "hash"]
    values = [6, *(forged[c] for c in CHAINED_COLUMNS), digest]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            values,
        )
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (INSERTED, 6)


def test_truncating_the_tail_is_caught():
    _write(5)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = 5")
    report = verify_chain()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.seq) == (DELETED, 5)


def test_the_application_cannot_change_or_delete_entries():
    _write(1)
    entry = AuditEntry.objects.get()
    entry.action = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.update(action="x")
