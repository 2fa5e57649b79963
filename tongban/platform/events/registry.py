"""Subscribers and periodic jobs, declared in code from ``AppConfig.ready()``."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.utils.module_loading import import_string

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


@dataclass(frozen=True)
class PeriodicJob:
    path: str
    every_seconds: float


_SUBSCRIBERS: dict[str, list[str]] = {}
_FAILURE_HOOKS: dict[str, str] = {}
_PERIODIC: dict[str, PeriodicJob] = {}


def subscribe(pattern: str, handler_path: str, *, on_failure: str | None = None) -> None:
    """``subscribe("approvals.case.accepted", "tongban.apps.x.handlers.on_accepted")``.

    ``pattern`` may use shell wildcards (``approvals.*``). The handler receives the
    ``Event`` and must be idempotent: delivery is at least once. Its database writes
    commit together with the delivery's "done" mark.

    ``on_failure`` (a dotted path) is called as ``hook(event, error=..., attempts=...,
    dead=...)`` in the transaction that records a failed attempt, so a subscriber can keep
    its own status rows in step (the handler's own writes were rolled back).
    """
    handlers = _SUBSCRIBERS.setdefault(pattern, [])
    if handler_path not in handlers:
        handlers.append(handler_path)
    if on_failure:
        _FAILURE_HOOKS[handler_path] = on_failure


def subscriber(pattern: str, *, on_failure: str | None = None) -> Callable[[HandlerT], HandlerT]:
    """Decorator form of ``subscribe``; the module must be imported from ``ready()``."""

    def register(function: HandlerT) -> HandlerT:
        subscribe(pattern, f"{function.__module__}.{function.__qualname__}", on_failure=on_failure)
        return function

    return register


def unsubscribe(pattern: str, handler_path: str) -> None:
    if handler_path in _SUBSCRIBERS.get(pattern, []):
        _SUBSCRIBERS[pattern].remove(handler_path)
    _FAILURE_HOOKS.pop(handler_path, None)


def subscribers_for(name: str) -> list[str]:
    found: list[str] = []
    for pattern, handlers in _SUBSCRIBERS.items():
        if fnmatch.fnmatchcase(name, pattern):
            found.extend(handler for handler in handlers if handler not in found)
    return found


def handler(path: str) -> Callable[[Any], Any]:
    function: Callable[[Any], Any] = import_string(path)
    return function


def failure_hook(handler_path: str) -> Callable[..., Any] | None:
    path = _FAILURE_HOOKS.get(handler_path)
    if path is None:
        return None
    function: Callable[..., Any] = import_string(path)
    return function


def schedule_every(seconds: float, path: str) -> None:
    """Run ``path()`` from the worker every ``seconds`` (e.g. time-based supervision rules).

    Every running worker runs it, so the job must tolerate running concurrently (take a
    row lock, or make it idempotent)."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    _PERIODIC[path] = PeriodicJob(path, seconds)


def periodic_jobs() -> list[PeriodicJob]:
    return list(_PERIODIC.values())
