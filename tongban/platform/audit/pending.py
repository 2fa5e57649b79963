"""Audit entries waiting for their transaction to commit (PostgreSQL).

``audit_record`` inside an application's transaction does not lock the chain's head row
at once: it keeps the entry on the connection, tagged with how many application
``atomic`` blocks were open. When the transaction commits — or, inside a test case's
wrapping transaction, when the outermost application block is released — the entries
are chained in the order they were recorded and inserted in one step under the head
lock. A block rolled back drops the entries recorded inside it; a transaction rolled back
drops them all, exactly as the rows would have vanished. The chain, the verifier and the
guarantees are unchanged; only the lock is held for milliseconds instead of the whole
transaction.

``TONGBAN_AUDIT_CHAIN_AT_COMMIT`` (on by default) switches it off; SQLite writes at once
(its writers are serialised by the database anyway).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

ATTRIBUTE = "_tongban_audit_pending"


def _entries(connection: Any) -> list[tuple[int, Any]]:
    found: list[tuple[int, Any]] | None = getattr(connection, ATTRIBUTE, None)
    if found is None:
        found = []
        setattr(connection, ATTRIBUTE, found)
    return found


def application_blocks(connection: Any) -> int:
    """Open ``atomic`` blocks, not counting those a test case wraps around each test."""
    return sum(
        1 for block in connection.atomic_blocks if not getattr(block, "_from_testcase", False)
    )


def defers(connection: Any) -> bool:
    """Whether an entry recorded now waits for the commit."""
    return (
        getattr(connection, "supports_audit_at_commit", False)
        and getattr(settings, "TONGBAN_AUDIT_CHAIN_AT_COMMIT", True)
        and connection.in_atomic_block
        and application_blocks(connection) > 0
    )


def add(connection: Any, entry: Any) -> None:
    _entries(connection).append((application_blocks(connection), entry))


def discard(connection: Any) -> None:
    setattr(connection, ATTRIBUTE, [])


def block_released(connection: Any) -> None:
    """An inner block succeeded (Django has already removed it from ``atomic_blocks``):
    its entries now belong to the enclosing block; leaving the outermost application block
    inside a test case's transaction writes them."""
    entries = _entries(connection)
    if not entries:
        return
    depth = application_blocks(connection)
    if depth == 0:
        flush(connection)
        return
    setattr(connection, ATTRIBUTE, [(min(level, depth), entry) for level, entry in entries])


def block_rolled_back(connection: Any) -> None:
    """A block was rolled back to its savepoint: forget what it recorded."""
    entries = _entries(connection)
    if not entries:
        return
    depth = application_blocks(connection)
    setattr(connection, ATTRIBUTE, [(level, entry) for level, entry in entries if level <= depth])


def flush(connection: Any) -> None:
    """Chain and insert the waiting entries (inside the transaction, before it commits)."""
    entries = _entries(connection)
    if not entries:
        return
    discard(connection)
    from tongban.platform.audit.services import chain_and_insert

    chain_and_insert([entry for _level, entry in entries], using=connection.alias)
