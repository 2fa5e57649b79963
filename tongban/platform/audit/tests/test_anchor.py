"""Anchors outside the database catch a chain rewritten whole (every hash recomputed),
which the chain walk alone cannot."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from tongban.platform.audit.anchor import anchor_job, anchor_write, anchors_check
from tongban.platform.audit.chain import CHAINED_COLUMNS, entry_hash
from tongban.platform.audit.models import AuditEntry, AuditHead
from tongban.platform.audit.services import audit_record
from tongban.platform.audit.verify import verify_chain

pytestmark = pytest.mark.django_db


def _write(count: int) -> None:
    for index in range(count):
        audit_record(action="test.thing.do", object_type="test.thing", object_id=str(index))


def _rewrite_from(seq: int) -> None:
    """What a database administrator could do: change entry ``seq`` and recompute every
    hash after it, and the head, so the chain walk finds nothing."""
    table = AuditEntry._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in CHAINED_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('hash')} FROM {table} WHERE seq = %s", [seq - 1])
        previous = cursor.fetchone()[0]
        cursor.execute(f"UPDATE {table} SET object_label = %s WHERE seq = %s", ["改过", seq])
        cursor.execute(f"SELECT seq FROM {table} WHERE seq >= %s ORDER BY seq", [seq])
        for (current,) in cursor.fetchall():
            cursor.execute(f"UPDATE {table} SET prev_hash = %s WHERE seq = %s", [previous, current])
            cursor.execute(f"SELECT {columns} FROM {table} WHERE seq = %s", [current])
            previous = entry_hash(tuple(cursor.fetchone()))
            cursor.execute(
                f"UPDATE {table} SET {quote('hash')} = %s WHERE seq = %s", [previous, current]
            )
    AuditHead.objects.filter(pk=1).update(hash=previous)


def test_a_chain_rewritten_whole_passes_the_walk_but_not_the_anchor(tmp_path):
    _write(6)
    anchors = tmp_path / "anchors.jsonl"
    taken = anchor_write(anchors)
    assert taken.seq == 6
    _write(2)
    anchor_write(anchors)
    assert anchors_check(anchors.read_text().splitlines()) == []
    call_command("audit_verify", "--anchors", str(anchors))

    _rewrite_from(3)
    assert verify_chain().ok  # the walk alone is fooled
    problems = anchors_check(anchors.read_text().splitlines())
    assert [problem.seq for problem in problems] == [6, 8]
    assert "rewritten" in problems[0].message
    with pytest.raises(CommandError, match="REWRITTEN"):
        call_command("audit_verify", "--anchors", str(anchors))


def test_a_forged_or_garbled_anchor_is_named(tmp_path):
    _write(3)
    line = json.loads(anchor_write(tmp_path / "a.jsonl").line())
    forged = json.dumps({**line, "hash": "0" * 64})
    problems = anchors_check([forged, "not json", ""])
    assert [problem.line for problem in problems] == [1, 2]
    assert "not genuine" in problems[0].message


def test_the_hourly_job_appends_to_the_configured_file_and_logs(tmp_path, settings, caplog):
    settings.TONGBAN_AUDIT_ANCHOR_FILE = str(tmp_path / "deep" / "anchors.jsonl")
    _write(2)
    with caplog.at_level("INFO", logger="tongban.audit.anchor"):
        anchor_job()
        anchor_job()
    lines = (tmp_path / "deep" / "anchors.jsonl").read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[0])["seq"] == 2
    assert "audit anchor" in caplog.text
