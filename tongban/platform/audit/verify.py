"""Walk the audit chain and name the first entry that was altered, deleted or inserted."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from tongban.platform.audit.chain import CHAINED_COLUMNS, SEPARATOR, chain_sm3_hex
from tongban.platform.audit.models import GENESIS_HASH, AuditEntry, AuditHead

ALTERED = "altered"
DELETED = "deleted"
INSERTED = "inserted"


@dataclass
class Problem:
    kind: str  # altered / deleted / inserted
    seq: int
    message: str


@dataclass
class VerifyReport:
    entries: int = 0
    seconds: float = 0.0
    head_seq: int = 0
    problem: Problem | None = None
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


# Chained columns that may hold NULL or a number; the others are NOT NULL text.
_NON_TEXT_COLUMNS = frozenset({"occurred_us", "actor_id"})


def _canonical_sql() -> tuple[str, bool]:
    """SQL building ``chain.canonical_text`` in the database, as UTF-8 bytes if possible.

    Joining the 15 columns in SQL hands Python one value per entry instead of 15, and
    returning bytes skips a decode and an encode per entry: together they roughly double
    the verifier's speed. NULL becomes "", integers their decimal text, exactly as in
    ``canonical_text``. Returns the expression and whether it yields bytes.
    """
    quote = connection.ops.quote_name
    parts = [
        f"COALESCE(CAST({quote(column)} AS TEXT), '')"
        if column in _NON_TEXT_COLUMNS
        else quote(column)
        for column in CHAINED_COLUMNS
    ]
    joined = " || %s || ".join(parts)
    if connection.vendor == "sqlite":
        return f"CAST({joined} AS BLOB)", True
    if connection.vendor == "postgresql":
        return f"convert_to({joined}, 'UTF8')", True
    return joined, False


def _diagnose(
    *,
    seq: int,
    content_matches: bool,
    expected_seq: int,
    prev_hash: str,
    before_previous_hash: str | None,
) -> Problem:
    if not content_matches:
        return Problem(
            ALTERED, seq, f"entry #{seq} was altered: its content no longer matches its hash"
        )
    if seq != expected_seq:
        return Problem(
            DELETED,
            expected_seq,
            f"entry #{expected_seq} was deleted: the chain jumps from "
            f"#{expected_seq - 1} to #{seq}",
        )
    if before_previous_hash is not None and prev_hash == before_previous_hash:
        return Problem(
            INSERTED,
            seq - 1,
            f"entry #{seq - 1} was inserted: entry #{seq} links to #{seq - 2}, not to it",
        )
    return Problem(
        DELETED,
        seq,
        f"an entry before #{seq} was deleted (or the one before it replaced): its link to "
        "the previous entry is broken",
    )


def verify_chain(*, batch_size: int = 50_000) -> VerifyReport:
    """Stream the chain in ``seq`` order with a raw cursor; stop at the first problem."""
    started = time.perf_counter()
    report = VerifyReport()
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    head_seq, head_hash = head if head else (0, GENESIS_HASH)
    report.head_seq = head_seq
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    quote = connection.ops.quote_name
    canonical, as_bytes = _canonical_sql()
    columns = f"{quote('seq')}, {canonical}, {quote('prev_hash')}, {quote('hash')}"
    separators = [SEPARATOR] * (len(CHAINED_COLUMNS) - 1)
    expected_seq = 1
    previous_hash = GENESIS_HASH
    before_previous_hash: str | None = None
    sm3: Callable[[Any], str] = chain_sm3_hex
    if not as_bytes:

        def sm3(value: Any) -> str:
            return chain_sm3_hex(str(value).encode("utf-8"))

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY seq", separators)  # noqa: S608
        while report.problem is None:
            rows = cursor.fetchmany(batch_size)
            if not rows:
                break
            for seq, canonical_value, prev_hash, stored_hash in rows:
                # The common case in one test; the diagnosis below keeps the original order
                # of checks (content, then numbering, then link).
                if (
                    seq == expected_seq
                    and prev_hash == previous_hash
                    and sm3(canonical_value) == stored_hash
                ):
                    before_previous_hash = previous_hash
                    previous_hash = stored_hash
                    expected_seq += 1
                    continue
                report.problem = _diagnose(
                    seq=seq,
                    content_matches=sm3(canonical_value) == stored_hash,
                    expected_seq=expected_seq,
                    prev_hash=prev_hash,
                    before_previous_hash=before_previous_hash,
                )
                break
    last_seq = expected_seq - 1
    report.entries = last_seq
    if report.problem is None:
        if last_seq < head_seq:
            report.problem = Problem(
                DELETED,
                last_seq + 1,
                f"entries #{last_seq + 1}–#{head_seq} were deleted from the end of the chain",
            )
        elif last_seq > head_seq:
            report.problem = Problem(
                INSERTED,
                head_seq + 1,
                f"entry #{head_seq + 1} was inserted after the recorded head #{head_seq}",
            )
        elif last_seq and previous_hash != head_hash:
            report.problem = Problem(
                ALTERED, last_seq, f"entry #{last_seq} does not match the recorded head hash"
            )
    report.seconds = time.perf_counter() - started
    return report
