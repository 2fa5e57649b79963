"""Shared benchmark helpers: a private database, machine facts, result files."""

from __future__ import annotations

import atexit
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def setup_django(name: str) -> str:
    """Point Django at a fresh database, set it up and migrate quietly.

    Uses a new SQLite file in a temporary folder, or ``TONGBAN_BENCH_DATABASE_URL`` (e.g. a
    PostgreSQL database that may be emptied). Returns the database vendor.
    """
    url = os.environ.get("TONGBAN_BENCH_DATABASE_URL")
    if not url:
        folder = tempfile.mkdtemp(prefix=f"tongban-bench-{name}-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        url = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    os.environ.setdefault("TONGBAN_ENV", "development")
    os.environ["TONGBAN_DEBUG"] = "false"  # DEBUG would record every query
    os.environ.setdefault("TONGBAN_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if url.startswith("postgres"):
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    return str(connection.vendor)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    from django.conf import settings

    return {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def best_rate(operation: Callable[[], int], *, rounds: int = 5) -> float:
    """Operations per second of the fastest of ``rounds`` runs (``operation`` returns the
    number of operations it did). The best run is the least disturbed on a shared machine."""
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        count = operation()
        elapsed = time.perf_counter() - started
        best = max(best, count / elapsed)
    return best


def write_result(
    name: str,
    figures: dict[str, float],
    baseline: dict[str, float],
    targets: dict[str, float],
    ceilings: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Write bench/results/<name>.json and print each figure with its target met or not.

    A target is a minimum for the figure of the same name (a rate); a ceiling is a
    maximum (a latency or a duration).
    """
    ceilings = ceilings or {}
    result = {
        "benchmark": name,
        "figures": figures,
        "baseline": baseline,
        "targets": targets,
        "ceilings": ceilings,
        "machine": machine(),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{name}:")
    for key, value in figures.items():
        line = f"  {key:<28} {_number(value):>16}"
        if key in targets:
            met = "met" if value >= targets[key] else "NOT MET"
            line += f"   target ≥ {_number(targets[key])}: {met}"
        if key in ceilings:
            met = "met" if value <= ceilings[key] else "NOT MET"
            line += f"   target ≤ {_number(ceilings[key])}: {met}"
        print(line)
    for key, value in baseline.items():
        print(f"  baseline {key:<19} {_number(value):>16}")
    print(f"  → {path}")
    return result


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.2f}"
