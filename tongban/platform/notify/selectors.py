from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from tongban.platform.notify.models import Message


def messages_for(user: Any) -> QuerySet[Message]:
    """The user's own messages, unread first, newest first."""
    return Message.objects.filter(recipient=user).order_by("read_at", "-created_at", "-pk")


def unread_count(user: Any) -> int:
    return Message.objects.filter(recipient=user, read_at__isnull=True).count()
