"""Small helpers the applications' views share for reading forms and query strings."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError


def error_lines(error: ValidationError) -> list[str]:
    """Every message of a ``ValidationError``, field errors included, as plain lines."""
    if hasattr(error, "error_dict"):
        return [str(line) for lines in error.message_dict.values() for line in lines]
    return [str(line) for line in error.messages]


def int_or_none(value: str | None) -> int | None:
    """A query-string or form integer, or None when absent or not a number."""
    try:
        return int(value) if value else None
    except ValueError:
        return None


def date_or_none(value: str | None) -> dt.date | None:
    """A query-string or form date (YYYY-MM-DD), or None when absent or malformed."""
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
