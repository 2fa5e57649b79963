"""Thin wrappers the worker runs on schedule (registered in setup.py)."""

from __future__ import annotations


def requests_report_overdue() -> int:
    """Tell supervision about sharing requests left undecided after their deadline."""
    from tongban.apps.sharing.grants import requests_report_overdue as report

    return report()


def daily_stats_refresh() -> int:
    """Roll today's gateway calls (and, after midnight, yesterday's) into DailyStat."""
    from tongban.apps.sharing.stats import daily_stats_refresh as refresh

    return refresh()


def gateway_log_seal() -> int:
    """Seal the gateway's settled unsealed calls into signed, chained batches."""
    from tongban.apps.sharing.gateway_log import seal

    return seal()
