"""Namespace and filter values as opaque index tokens ("ns" / "f" + a hash).

Putting them in the full-text index lets one index lookup intersect "matches the words"
with "in this namespace, with these filter values", instead of ranking every match and
then discarding other namespaces' rows."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def _digest(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]


def namespace_token(namespace: str) -> str:
    return "ns" + _digest(namespace)


def filter_token(name: str, value: str) -> str:
    return "f" + _digest(f"{name}\x00{value}")


def facet_tokens(namespace: str, filters: Mapping[str, str]) -> list[str]:
    return [namespace_token(namespace)] + [
        filter_token(name, value) for name, value in sorted(filters.items())
    ]
