"""Masking for personal data shown on screen (e.g. ``4401**********1234``)."""

from __future__ import annotations


def mask_middle(value: str, *, keep_start: int, keep_end: int) -> str:
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + (value[-keep_end:] if keep_end else "")


def mask_id_number(value: str) -> str:
    """Resident ID: first 4 and last 4 characters visible."""
    return mask_middle(value, keep_start=4, keep_end=4)


def mask_phone(value: str) -> str:
    """Mobile number: ``138****5678``."""
    return mask_middle(value, keep_start=3, keep_end=4)


def mask_name(value: str) -> str:
    """Chinese name: surname visible, e.g. ``张*`` or ``欧阳**``."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    keep = 2 if len(value) >= 4 else 1
    return value[:keep] + "*" * (len(value) - keep)
