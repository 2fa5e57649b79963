"""The health report: database, background worker lag, working-day calendar coverage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils.module_loading import import_string

# A queue older than this means the worker is down or far behind.
WORKER_LAG_LIMIT_SECONDS = 300.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class HealthReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def warnings(self) -> list[str]:
        return [warning for check in self.checks for warning in check.warnings]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": "ok" if self.ok else "fail",
            "checks": {
                check.name: {"ok": check.ok, **check.detail, "warnings": check.warnings}
                for check in self.checks
            },
        }


def _optional(path: str) -> Any:
    try:
        return import_string(path)
    except ImportError:
        return None


def check_database() -> Check:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any database failure is reported
        return Check("database", False, {"error": type(error).__name__})
    elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
    return Check("database", True, {"vendor": connection.vendor, "latency_ms": elapsed_ms})


def check_worker() -> Check:
    lag_function = _optional("tongban.platform.events.selectors.worker_lag_seconds")
    dead_function = _optional("tongban.platform.events.selectors.dead_deliveries_count")
    if lag_function is None:
        return Check("worker", True, {"lag_seconds": None})
    lag = lag_function()
    dead = dead_function() if dead_function else 0
    detail = {"lag_seconds": None if lag is None else round(lag, 1), "dead_deliveries": dead}
    check = Check("worker", lag is None or lag <= WORKER_LAG_LIMIT_SECONDS, detail)
    if lag is not None and lag > WORKER_LAG_LIMIT_SECONDS:
        check.warnings.append(f"worker lag {lag:.0f}s")
    if dead:
        check.warnings.append(f"{dead} dead deliveries")
    return check


def check_calendar() -> Check:
    warnings_function = _optional("tongban.platform.calendar.services.coverage_warnings")
    if warnings_function is None:
        warnings_function = _optional("tongban.platform.calendar.selectors.coverage_warnings")
    warnings = [str(message) for message in warnings_function()] if warnings_function else []
    # Missing calendar data degrades the clock (Mon–Fri fallback) but does not stop service.
    return Check("calendar", True, {"covered": not warnings}, warnings)


def health_report() -> HealthReport:
    return HealthReport([check_database(), check_worker(), check_calendar()])
