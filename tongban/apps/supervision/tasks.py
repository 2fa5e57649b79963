"""Thin wrappers the worker runs on schedule (see apps.py)."""

from __future__ import annotations


def clock_sweep() -> int:
    from tongban.apps.supervision.services import clock_sweep as sweep

    return sweep()


def corrections_escalate() -> int:
    from tongban.apps.supervision import corrections

    escalate = getattr(corrections, "corrections_escalate", None)
    return escalate() if escalate else 0
