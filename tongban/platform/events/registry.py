"""Subscribers and periodic jobs, declared in code from AppConfig.ready()."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.module_loading import import_string

_SUBSCRIBERS: dict[str, list[str]] = {}
_PERIODIC: dict[str, "PeriodicJob"] = {}


@dataclass(frozen=True)
class PeriodicJob:
    path: str
    every_seconds: float


def subscribe(pattern: str, handler_path: str) -> None:
    """``subscribe("approvals.case.accepted", "tongban.apps.x.handlers.on_accepted")``.

    ``pattern`` may use shell wildcards (``approvals.*``). The handler receives the
    ``Event`` and must be idempotent: delivery is at least once.
    """
    handlers = _SUBSCRIBERS.setdefault(pattern, [])
    if handler_path not in handlers:
        handlers.append(handler_path)


def unsubscribe(pattern: str, handler_path: str) -> None:
    if handler_path in _SUBSCRIBERS.get(pattern, []):
        _SUBSCRIBERS[pattern].remove(handler_path)


def subscribers_for(name: str) -> list[str]:
    found: list[str] = []
    for pattern, handlers in _SUBSCRIBERS.items():
        if fnmatch.fnmatchcase(name, pattern):
            found.extend(handler for handler in handlers if handler not in found)
    return found


def handler(path: str) -> Callable[[Any], Any]:
    function: Callable[[Any], Any] = import_string(path)
    return function


def schedule_every(seconds: float, path: str) -> None:
    """Run ``path()`` from the worker every ``seconds`` (e.g. time-based supervision rules)."""
    _PERIODIC[path] = PeriodicJob(path, seconds)


def periodic_jobs() -> list[PeriodicJob]:
    return list(_PERIODIC.values())
