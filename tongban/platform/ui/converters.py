"""URL path converters. ``<id:name>`` is the platform's ``<id:name>`` for row ids: at most
18 digits, so a number no 64-bit key can hold never reaches the database (SQLite raised
OverflowError for it: a 500 instead of a 404)."""

from __future__ import annotations


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int | str) -> str:
        return str(int(value))
