"""The audit chain: verify 1,000,000 entries, and append through ``audit_record``.

The million rows are built quickly: the chain is computed in Python with the same
``entry_hash`` the application uses, and inserted with ``executemany`` in one transaction.
Baselines measured in the same run: SM3 alone over the same canonical strings (the
verifier's upper bound), and plain INSERT of the same rows without computing the chain.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from bench.common import best_rate, setup_django, write_result

ENTRIES = int(os.environ.get("TONGBAN_BENCH_AUDIT_ENTRIES", "1000000"))
APPENDS = 3_000
BATCH = 20_000
SM3_SAMPLE = 200_000

ACTIONS = (
    "approvals.case.accept",
    "approvals.case.decide",
    "files.file.store",
    "accounts.person.reveal_id_number",
)


def _row_values(seq: int, prev_hash: str) -> tuple[Any, ...]:
    """Chained column values (``CHAINED_COLUMNS`` order) of a plausible entry."""
    return (
        1_780_000_000_000_000 + seq * 1_000,
        seq % 500 + 1,
        f"staff{seq % 500 + 1:04d}",
        "",
        "",
        "",
        ACTIONS[seq % len(ACTIONS)],
        "approvals.case",
        str(seq // 3),
        f"关于示范市第{seq // 3}号行政许可申请",
        "success",
        f"10.0.{seq % 250}.{seq % 200}",
        f"{seq:032x}",
        json.dumps({"step": seq % 7, "note": "受理"}, ensure_ascii=False, separators=(",", ":")),
        prev_hash,
    )


def run() -> dict[str, Any]:
    vendor = setup_django("audit_verify")
    from django.db import connection, transaction

    from tongban.platform.audit.chain import CHAINED_COLUMNS, SEPARATOR, entry_hash
    from tongban.platform.audit.models import GENESIS_HASH, AuditEntry, AuditHead
    from tongban.platform.audit.services import audit_record
    from tongban.platform.audit.verify import verify_chain
    from tongban.platform.crypto.sm import sm3_hex

    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    column_names = ("seq", *CHAINED_COLUMNS, "hash")
    columns = ", ".join(connection.ops.quote_name(name) for name in column_names)
    placeholders = ", ".join(["%s"] * len(column_names))
    insert = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608

    # 1. Build the chain in Python, insert it batch by batch in one transaction.
    chain_seconds = insert_seconds = 0.0
    previous = GENESIS_HASH
    sample: list[bytes] = []
    with transaction.atomic(), connection.cursor() as cursor:
        for batch_start in range(1, ENTRIES + 1, BATCH):
            started = time.perf_counter()
            rows = []
            for seq in range(batch_start, min(batch_start + BATCH, ENTRIES + 1)):
                values = _row_values(seq, previous)
                previous = entry_hash(values)
                rows.append((seq, *values, previous))
                if len(sample) < SM3_SAMPLE:
                    text = SEPARATOR.join("" if v is None else str(v) for v in values)
                    sample.append(text.encode("utf-8"))
            chain_seconds += time.perf_counter() - started
            started = time.perf_counter()
            cursor.executemany(insert, rows)
            insert_seconds += time.perf_counter() - started
        AuditHead.objects.update_or_create(pk=1, defaults={"seq": ENTRIES, "hash": previous})
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    print(f"built {ENTRIES:,} entries: chain {chain_seconds:.1f}s, insert {insert_seconds:.1f}s")

    # 2. Verify the whole chain (best of three).
    def verify() -> int:
        report = verify_chain()
        if not report.ok or report.entries != ENTRIES:
            raise AssertionError(f"chain did not verify: {report.problem}")
        return report.entries

    verify_rate = best_rate(verify, rounds=3)

    # 3. Baseline: SM3 alone over the same canonical strings (hash-only upper bound).
    def sm3_only() -> int:
        for data in sample:
            sm3_hex(data)
        return len(sample)

    sm3_rate = best_rate(sm3_only, rounds=3)

    # 4. Appends through the service, each in its own transaction.
    def append() -> int:
        for number in range(APPENDS):
            audit_record(action="bench.append", object_type="bench", object_id=str(number))
        return APPENDS

    append_rate = best_rate(append, rounds=1)
    if not verify_chain().ok:
        raise AssertionError("chain broken after appends")

    figures = {
        "verify_entries_per_s": round(verify_rate),
        "append_entries_per_s": round(append_rate),
        "entries": ENTRIES,
    }
    baseline = {
        "sm3_only_per_s": round(sm3_rate),
        "plain_insert_rows_per_s": round(ENTRIES / insert_seconds),
        "chain_build_entries_per_s": round(ENTRIES / chain_seconds),
    }
    targets = {"verify_entries_per_s": 200_000}
    return write_result("audit_verify", figures, baseline, targets)
