"""Handlers used by the event tests (imported by path, also inside worker subprocesses)."""

from __future__ import annotations

import time
from typing import Any

from tongban.platform.audit.services import audit_record

FAILURES: dict[str, int] = {}


def record_slowly(event: Any) -> None:
    time.sleep(0.15)
    audit_record(action="test.event.handled", object_type="events.event", object_id=str(event.id))


def record(event: Any) -> None:
    audit_record(action="test.event.handled", object_type="events.event", object_id=str(event.id))


def fail_twice(event: Any) -> None:
    seen = FAILURES.get(str(event.id), 0)
    if seen < 2:
        FAILURES[str(event.id)] = seen + 1
        raise RuntimeError("temporary failure")
    record(event)


def always_fail(event: Any) -> None:
    raise RuntimeError("permanent failure")


HOOK_CALLS: list[tuple[str, int, bool]] = []


def remember_failure(event: Any, *, error: str, attempts: int, dead: bool) -> None:
    HOOK_CALLS.append((str(event.id), attempts, dead))
    audit_record(
        action="test.event.failure_hook",
        object_type="events.event",
        object_id=str(event.id),
        detail={"attempts": attempts, "dead": dead},
    )


def record_once(event: Any) -> None:
    from tongban.platform.events.services import event_mark_processed

    if event_mark_processed(key="test.record_once", event=event):
        record(event)
