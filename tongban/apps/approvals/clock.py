"""The case clock (行政许可法 arts. 42, 45): limits in working days from acceptance.

Pure functions over plain data (`clock_compute`, `step_clock`) and one adapter over a
case's rows (`case_clock`). Rules (docs/decisions/0013-cases-and-clock.md):

- the clock starts at acceptance (the acceptance day itself is not counted) and stops at
  the decision (or when the case ends otherwise);
- working days inside special-procedure pauses and open correction requests after
  acceptance are not counted (overlapping intervals are merged first);
- deadline = acceptance + limit + approved extension days + paused working days, for the
  legal limit and for the (shorter) promised limit; it moves while a pause is open;
- used = working days since acceptance, pauses excluded; left = limit + extensions - used
  (negative when overdue).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from django.utils import timezone

from tongban.platform.calendar.services import get_calendar
from tongban.platform.calendar.workdays import WorkCalendar

if TYPE_CHECKING:
    from tongban.apps.approvals.models import Case

Interval = tuple[dt.datetime, dt.datetime | None]


@dataclass(frozen=True)
class Clock:
    accepted_at: dt.datetime | None
    stopped_at: dt.datetime | None
    legal_limit_days: int
    promised_limit_days: int
    extension_days: int
    paused_days: int
    used_days: int
    legal_deadline: dt.date | None
    promised_deadline: dt.date | None
    legal_days_left: int | None
    promised_days_left: int | None
    is_paused: bool

    @property
    def is_started(self) -> bool:
        return self.accepted_at is not None

    @property
    def is_running(self) -> bool:
        return self.is_started and self.stopped_at is None and not self.is_paused

    @property
    def is_overdue(self) -> bool:
        """Past the promised limit (what supervision measures against)."""
        return self.promised_days_left is not None and self.promised_days_left < 0

    @property
    def is_legally_overdue(self) -> bool:
        return self.legal_days_left is not None and self.legal_days_left < 0


NOT_STARTED = Clock(
    accepted_at=None,
    stopped_at=None,
    legal_limit_days=0,
    promised_limit_days=0,
    extension_days=0,
    paused_days=0,
    used_days=0,
    legal_deadline=None,
    promised_deadline=None,
    legal_days_left=None,
    promised_days_left=None,
    is_paused=False,
)


def clock_compute(
    *,
    accepted_at: dt.datetime | None,
    stopped_at: dt.datetime | None,
    now: dt.datetime,
    legal_limit_days: int,
    promised_limit_days: int,
    extension_days: int = 0,
    pauses: Iterable[Interval] = (),
    calendar: WorkCalendar | None = None,
) -> Clock:
    """The clock of one case at ``now`` (or frozen at ``stopped_at``)."""
    if accepted_at is None:
        return replace(
            NOT_STARTED,
            legal_limit_days=legal_limit_days,
            promised_limit_days=promised_limit_days,
            extension_days=extension_days,
        )
    calendar = calendar or get_calendar()
    end = stopped_at or now
    intervals = list(pauses)
    total = calendar.working_days_between(accepted_at, end)
    used = calendar.working_days_elapsed(accepted_at, end, intervals)
    paused = total - used
    is_paused = stopped_at is None and any(
        start <= now and (finish is None or finish > now) for start, finish in intervals
    )
    legal = legal_limit_days + extension_days
    promised = promised_limit_days + extension_days
    return Clock(
        accepted_at=accepted_at,
        stopped_at=stopped_at,
        legal_limit_days=legal_limit_days,
        promised_limit_days=promised_limit_days,
        extension_days=extension_days,
        paused_days=paused,
        used_days=used,
        legal_deadline=calendar.add_working_days(accepted_at, legal + paused),
        promised_deadline=calendar.add_working_days(accepted_at, promised + paused),
        legal_days_left=legal - used,
        promised_days_left=promised - used,
        is_paused=is_paused,
    )


@dataclass(frozen=True)
class StepClock:
    limit_days: int
    used_days: int
    deadline: dt.date | None
    days_left: int | None

    @property
    def is_overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0


def step_clock(
    *,
    started_at: dt.datetime,
    ended_at: dt.datetime | None,
    now: dt.datetime,
    limit_days: int,
    pauses: Iterable[Interval] = (),
    calendar: WorkCalendar | None = None,
) -> StepClock:
    """One process step's own limit (0 = none), pauses excluded like the case's."""
    calendar = calendar or get_calendar()
    end = ended_at or now
    intervals = list(pauses)
    total = calendar.working_days_between(started_at, end)
    used = calendar.working_days_elapsed(started_at, end, intervals)
    if not limit_days:
        return StepClock(limit_days=0, used_days=used, deadline=None, days_left=None)
    return StepClock(
        limit_days=limit_days,
        used_days=used,
        deadline=calendar.add_working_days(started_at, limit_days + total - used),
        days_left=limit_days - used,
    )


def case_intervals(case: Case) -> list[Interval]:
    """Pause and correction intervals that stop the clock (uses prefetched rows if any)."""
    intervals: list[Interval] = [(pause.started_at, pause.ended_at) for pause in case.pauses.all()]
    if case.accepted_at is not None:
        intervals.extend(
            (correction.opened_at, correction.answered_at)
            for correction in case.corrections.all()
            if correction.opened_at >= case.accepted_at
        )
    return intervals


def case_extension_days(case: Case) -> int:
    return sum(
        extension.days for extension in case.extensions.all() if extension.state == "approved"
    )


def case_stopped_at(case: Case) -> dt.datetime | None:
    """The clock stops at the decision, or when the case ended without one."""
    return case.decided_at or case.ended_at


def case_clock(
    case: Case, *, now: dt.datetime | None = None, calendar: WorkCalendar | None = None
) -> Clock:
    return clock_compute(
        accepted_at=case.accepted_at,
        stopped_at=case_stopped_at(case),
        now=now or timezone.now(),
        legal_limit_days=case.legal_limit_days,
        promised_limit_days=case.promised_limit_days,
        extension_days=case_extension_days(case),
        pauses=case_intervals(case),
        calendar=calendar,
    )


def clocks_for(cases: Sequence[Case], *, now: dt.datetime | None = None) -> dict[int, Clock]:
    """Clocks of many cases with one calendar (prefetch pauses, corrections, extensions)."""
    calendar = get_calendar()
    moment = now or timezone.now()
    return {case.pk: case_clock(case, now=moment, calendar=calendar) for case in cases}
