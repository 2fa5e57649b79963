"""Walk the audit chain and name the first entry that was altered, deleted or inserted."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db import connection

from tongban.platform.audit.chain import CHAINED_COLUMNS, entry_hash
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


def verify_chain(*, batch_size: int = 20_000) -> VerifyReport:
    """Stream the chain in ``seq`` order with a raw cursor; stop at the first problem."""
    started = time.perf_counter()
    report = VerifyReport()
    head = AuditHead.objects.filter(pk=1).values_list("seq", "hash").first()
    head_seq, head_hash = head if head else (0, GENESIS_HASH)
    report.head_seq = head_seq
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in ("seq", *CHAINED_COLUMNS, "hash"))
    expected_seq = 1
    previous_hash = GENESIS_HASH
    before_previous_hash = None
    last_seq = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY seq")  # noqa: S608
        while True:
            rows = cursor.fetchmany(batch_size)
            if not rows:
                break
            for row in rows:
                seq = row[0]
                stored_hash = row[-1]
                prev_hash = row[-2]
                if entry_hash(row[1:-1]) != stored_hash:
                    report.problem = Problem(
                        ALTERED,
                        seq,
                        f"entry #{seq} was altered: its content no longer matches its hash",
                    )
                    break
                if seq != expected_seq:
                    report.problem = Problem(
                        DELETED,
                        expected_seq,
                        f"entry #{expected_seq} was deleted: the chain jumps from "
                        f"#{expected_seq - 1} to #{seq}",
                    )
                    break
                if prev_hash != previous_hash:
                    if before_previous_hash is not None and prev_hash == before_previous_hash:
                        report.problem = Problem(
                            INSERTED,
                            seq - 1,
                            f"entry #{seq - 1} was inserted: entry #{seq} links to "
                            f"#{seq - 2}, not to it",
                        )
                    else:
                        report.problem = Problem(
                            DELETED,
                            seq,
                            f"an entry before #{seq} was deleted (or the one before it "
                            "replaced): its link to the previous entry is broken",
                        )
                    break
                before_previous_hash = previous_hash
                previous_hash = stored_hash
                expected_seq = seq + 1
                last_seq = seq
                report.entries += 1
            if report.problem:
                break
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
