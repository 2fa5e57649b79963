"""On PostgreSQL a transaction's audit entries are chained just before it commits: the
chain's head row is not held while the rest of the transaction runs, a rolled-back block
drops exactly its own entries, and the chain verifies."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.services import audit_record
from tongban.platform.audit.verify import verify_chain

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite writes each entry at once"
    ),
]


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


def test_entries_are_written_when_the_transaction_commits():
    with transaction.atomic():
        entry = audit_record(action="test.first")
        audit_record(action="test.second")
        assert entry.pk is None  # waiting for the commit
        assert not AuditEntry.objects.filter(action__startswith="test.").exists()
    assert actions()[-2:] == ["test.first", "test.second"]
    assert entry.pk is not None
    assert entry.seq == AuditEntry.objects.latest("seq").seq - 1
    assert verify_chain().ok


def test_a_rolled_back_block_drops_only_its_own_entries():
    with transaction.atomic():
        audit_record(action="test.kept")
        try:
            with transaction.atomic():
                audit_record(action="test.dropped")
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        with transaction.atomic():
            audit_record(action="test.inner.kept")

    def rolled_back() -> None:
        with transaction.atomic():
            audit_record(action="test.all.dropped")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert [a for a in actions() if a.startswith("test.")] == ["test.kept", "test.inner.kept"]
    assert verify_chain().ok


def test_a_long_transaction_does_not_hold_the_chain():
    """Another transaction audits and commits while the first one is still running (with
    the head row locked for the whole transaction, it would wait for the first)."""
    recorded, finished = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with transaction.atomic():
                audit_record(action="test.long")
                recorded.set()
                assert finished.wait(timeout=10), "the other transaction was blocked"
        except BaseException as error:  # reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    def short_transaction() -> None:
        try:
            assert recorded.wait(timeout=10)
            with transaction.atomic():
                audit_record(action="test.short")
            finished.set()
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=long_transaction),
        threading.Thread(target=short_transaction),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures, failures
    # chained in commit order: the short transaction committed first
    assert [a for a in actions() if a.startswith("test.")] == ["test.short", "test.long"]
    assert verify_chain().ok


def test_switched_off_it_writes_at_once(settings):
    settings.TONGBAN_AUDIT_CHAIN_AT_COMMIT = False
    with transaction.atomic():
        entry = audit_record(action="test.at_once")
        assert entry.pk is not None
        assert AuditEntry.objects.filter(action="test.at_once").exists()
    assert verify_chain().ok
