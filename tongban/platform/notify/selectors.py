from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet

from tongban.platform.notify.models import Message, Preference


def messages_for(user: Any) -> QuerySet[Message]:
    """The user's own messages, unread first, newest first."""
    return Message.objects.filter(recipient=user).order_by(
        F("read_at").asc(nulls_first=True), "-created_at", "-pk"
    )


def unread_count(user: Any) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class PreferenceRow:
    code: str
    label: Any
    email: bool
    sms: bool


def preferences_for(user: Any) -> list[PreferenceRow]:
    """One row per registered category; channels are on unless the user turned them off."""
    from tongban.platform.notify.services import CATEGORIES

    saved = {preference.category: preference for preference in Preference.objects.filter(user=user)}
    rows = []
    for code, label in CATEGORIES.items():
        preference = saved.get(code)
        rows.append(
            PreferenceRow(
                code=code,
                label=label,
                email=preference.email if preference else True,
                sms=preference.sms if preference else True,
            )
        )
    return rows
