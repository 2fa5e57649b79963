"""Thin wrappers the worker runs on schedule (see apps.py)."""

from __future__ import annotations


def jobs_run_due() -> int:
    from tongban.apps.exchange.services import jobs_run_due as run

    return run()
