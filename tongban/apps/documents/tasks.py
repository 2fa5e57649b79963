"""Thin wrappers the worker runs on schedule (``handlers.register()`` schedules them)."""

from __future__ import annotations


def deliveries_remind_overdue() -> int:
    """Remind once, and report once to supervision, every copy left unsigned past its
    time to sign."""
    from tongban.apps.documents.exchange import deliveries_remind_overdue as run

    return run()
