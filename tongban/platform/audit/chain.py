"""The hash chain: canonical form of an entry and the SM3 link between entries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
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


def _wrapper_sm3_hex(data: bytes | memoryview) -> str:
    return sm3_hex(bytes(data))


def _sm3_hex_function() -> Callable[[bytes | memoryview], str]:
    """The fastest SM3 available: copying a prepared ``hashlib`` object costs less than a
    new ``cryptography`` Hash per entry (the verifier hashes millions). Falls back to the
    platform's wrapper when the system OpenSSL lacks SM3. Both give the same digest."""
    try:
        prototype = hashlib.new("sm3")
    except ValueError:
        return _wrapper_sm3_hex
    if prototype.copy().hexdigest() != sm3_hex(b""):
        return _wrapper_sm3_hex

    def fast_sm3_hex(data: bytes | memoryview) -> str:
        digest = prototype.copy()
        digest.update(data)
        return digest.hexdigest()

    return fast_sm3_hex


chain_sm3_hex = _sm3_hex_function()


def canonical_text(values: tuple[Any, ...]) -> str:
    """The hashed form of an entry: its chained column values joined by ``SEPARATOR``."""
    return SEPARATOR.join("" if value is None else str(value) for value in values)


def entry_hash(values: tuple[Any, ...]) -> str:
    """SM3 over the chained columns (given in ``CHAINED_COLUMNS`` order)."""
    return chain_sm3_hex(canonical_text(values).encode("utf-8"))
