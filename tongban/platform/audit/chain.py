"""The hash chain: canonical form of an entry and the SM3 link between entries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tongban.platform.crypto.sm import sm3_hex

SEPARATOR = "\x1f"

# The columns that are hashed, in order. ``seq`` is deliberately not part of the hash:
# order is proven by each entry naming the previous entry's hash, which lets the verifier
# tell an inserted entry from an altered one.
CHAINED_COLUMNS = (
    "occurred_us",
    "actor_id",
    "actor_label",
    "acting_for_type",
    "acting_for_id",
    "acting_for_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "outcome",
    "ip",
    "request_id",
    "detail",
    "prev_hash",
)


def canonical_detail(detail: Mapping[str, Any] | None) -> str:
    return json.dumps(
        dict(detail or {}),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def entry_hash(values: tuple[Any, ...]) -> str:
    """SM3 over the chained columns (given in ``CHAINED_COLUMNS`` order)."""
    text = SEPARATOR.join("" if value is None else str(value) for value in values)
    return sm3_hex(text.encode("utf-8"))
