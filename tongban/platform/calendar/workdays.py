"""Working-day arithmetic on an in-memory calendar (pure functions, no queries).

Conventions (行政许可法 limits, 民法典 art. 201: the first day is not counted):
- ``add_working_days(start, n)``: the date of the n-th working day after ``start``'s date.
- ``working_days_between(start, end)``: working days in the half-open range
  (start date, end date].
- ``working_days_elapsed(start, end, pauses)``: the same, minus the working days inside
  each pause (pause intervals are merged first, so overlaps are not subtracted twice).
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from zoneinfo import ZoneInfo

FALLBACK_FIRST = dt.date(2000, 1, 1)
FALLBACK_LAST = dt.date(2045, 12, 31)
WORKING = frozenset({"workday", "makeup_workday"})


def _day(value: dt.date | dt.datetime, zone: ZoneInfo) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value.astimezone(zone).date()
    return value


class WorkCalendar:
    """Sorted workday ordinals over 2000–2045: loaded years from the table, other years
    Monday–Friday. Lookups are bisections: O(log n)."""

    def __init__(
        self,
        kinds: Mapping[dt.date, str],
        loaded_years: Iterable[int],
        time_zone: str = "Asia/Shanghai",
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self.loaded_years = frozenset(loaded_years)
        workdays: list[int] = []
        day = FALLBACK_FIRST
        one = dt.timedelta(days=1)
        while day <= FALLBACK_LAST:
            kind = kinds.get(day)
            working = (kind in WORKING) if kind is not None else day.weekday() < 5
            if working:
                workdays.append(day.toordinal())
            day += one
        self.ordinals = workdays
        self._set = frozenset(workdays)

    def is_workday(self, value: dt.date | dt.datetime) -> bool:
        return _day(value, self.zone).toordinal() in self._set

    def add_working_days(self, start: dt.date | dt.datetime, days: int) -> dt.date:
        ordinal = _day(start, self.zone).toordinal()
        if days == 0:
            return dt.date.fromordinal(ordinal)
        if days > 0:
            index = bisect_right(self.ordinals, ordinal) + days - 1
        else:
            index = bisect_left(self.ordinals, ordinal) + days
        if not 0 <= index < len(self.ordinals):
            raise ValueError("date outside the calendar's range (2000–2045)")
        return dt.date.fromordinal(self.ordinals[index])

    def working_days_between(self, start: dt.date | dt.datetime, end: dt.date | dt.datetime) -> int:
        first = _day(start, self.zone).toordinal()
        last = _day(end, self.zone).toordinal()
        if last <= first:
            return 0
        return bisect_right(self.ordinals, last) - bisect_right(self.ordinals, first)

    def working_days_elapsed(
        self,
        start: dt.date | dt.datetime,
        end: dt.date | dt.datetime,
        pauses: Iterable[tuple[dt.date | dt.datetime, dt.date | dt.datetime | None]] = (),
    ) -> int:
        """Working days from ``start`` to ``end`` not inside a pause. An open pause
        (end ``None``) runs until ``end``."""
        first = _day(start, self.zone)
        last = _day(end, self.zone)
        intervals: list[tuple[dt.date, dt.date]] = []
        for pause_start, pause_end in pauses:
            a = max(_day(pause_start, self.zone), first)
            b = min(_day(pause_end, self.zone) if pause_end is not None else last, last)
            if b > a:
                intervals.append((a, b))
        intervals.sort()
        merged: list[tuple[dt.date, dt.date]] = []
        for a, b in intervals:
            if merged and a <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], b))
            else:
                merged.append((a, b))
        paused = sum(self.working_days_between(a, b) for a, b in merged)
        return self.working_days_between(first, last) - paused
