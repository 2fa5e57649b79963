"""Thin wrappers the worker runs on schedule (see apps.py)."""

from __future__ import annotations


def quality_run() -> int:
    from tongban.apps.basedata.services import quality_run as run

    return run()
