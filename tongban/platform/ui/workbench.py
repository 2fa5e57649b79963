"""What the workbench and the personal space show, supplied by whoever owns the work.

Applications register providers (from their AppConfig.ready) instead of the platform
importing them: the platform knows nothing of approvals or documents.

    register_provider(WorkbenchProvider(key="approvals", label=_("审批"), todo=..., done=...))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class WorkItem:
    """One line on a to-do or done list."""

    title: str
    url: str
    source: str
    status: str = ""
    due: dt.date | None = None
    urgent: bool = False
    occurred_at: dt.datetime | None = None


ItemsFunction = Callable[[Any, int], list[WorkItem]]


@dataclass(frozen=True)
class WorkbenchProvider:
    key: str
    label: str | Promise
    todo: ItemsFunction | None = None
    done: ItemsFunction | None = None
    for_public: ItemsFunction | None = None  # "my applications" in the personal space
    extra: dict[str, Any] = field(default_factory=dict)


_PROVIDERS: dict[str, WorkbenchProvider] = {}


def register_provider(provider: WorkbenchProvider) -> None:
    _PROVIDERS[provider.key] = provider


def providers() -> list[WorkbenchProvider]:
    return list(_PROVIDERS.values())


def _collect(kind: str, user: Any, limit: int) -> list[WorkItem]:
    items: list[WorkItem] = []
    for provider in providers():
        function = getattr(provider, kind)
        if function is not None:
            items.extend(function(user, limit))
    return items


def todo_items(user: Any, limit: int = 50) -> list[WorkItem]:
    items = _collect("todo", user, limit)
    far = dt.date.max
    return sorted(items, key=lambda item: (not item.urgent, item.due or far))[:limit]


def done_items(user: Any, limit: int = 50) -> list[WorkItem]:
    items = _collect("done", user, limit)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(items, key=lambda item: item.occurred_at or epoch, reverse=True)[:limit]


def public_items(user: Any, limit: int = 50) -> list[WorkItem]:
    return _collect("for_public", user, limit)[:limit]
