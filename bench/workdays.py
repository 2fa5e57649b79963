"""add_working_days on the in-memory calendar (bisect over workday ordinals).

Baseline: a naive day-by-day loop over the same calendar, measured in the same run.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from bench.common import best_rate, setup_django, write_result

CALLS = 200_000
NAIVE_CALLS = 20_000


def naive_add_working_days(is_workday: Any, start: dt.date, days: int) -> dt.date:
    day = start
    counted = 0
    one = dt.timedelta(days=1)
    while counted < days:
        day += one
        if is_workday(day):
            counted += 1
    return day


def run() -> dict[str, Any]:
    setup_django("workdays")
    from tongban.platform.calendar.services import calendar_seed, get_calendar

    calendar_seed()
    calendar = get_calendar(refresh=True)
    generator = random.Random(20260101)  # noqa: S311 - benchmark input, not security
    first, last = dt.date(2020, 1, 1).toordinal(), dt.date(2026, 12, 31).toordinal()
    cases = [
        (dt.date.fromordinal(generator.randint(first, last)), generator.randint(1, 60))
        for _ in range(CALLS)
    ]
    add = calendar.add_working_days
    is_workday = calendar.is_workday

    # Same answers first: the benchmark compares two correct implementations.
    for start, days in cases[:2_000]:
        assert add(start, days) == naive_add_working_days(is_workday, start, days)

    def fast() -> int:
        for start, days in cases:
            add(start, days)
        return len(cases)

    def naive() -> int:
        for start, days in cases[:NAIVE_CALLS]:
            naive_add_working_days(is_workday, start, days)
        return NAIVE_CALLS

    figures = {"calls_per_s": round(best_rate(fast))}
    baseline = {"naive_calls_per_s": round(best_rate(naive, rounds=3))}
    return write_result("workdays", figures, baseline, {"calls_per_s": 500_000})
