"""The clock over the 2026 calendar: Spring Festival (make-up Saturdays 14 and 28 Feb) and
National Day (make-up Sunday 20 Sep and Saturday 10 Oct)."""

from __future__ import annotations

import datetime as dt

from tongban.apps.approvals.clock import clock_compute, step_clock
from tongban.apps.approvals.tests.conftest import at

D = dt.date


def test_clock_not_started_before_acceptance(calendar):
    clock = clock_compute(
        accepted_at=None,
        stopped_at=None,
        now=at(2026, 2, 10),
        legal_limit_days=20,
        promised_limit_days=10,
        calendar=calendar,
    )
    assert clock.is_started is False
    assert clock.is_running is False
    assert clock.promised_deadline is None
    assert clock.promised_days_left is None
    assert clock.legal_limit_days == 20


def test_deadlines_over_the_spring_festival(calendar):
    # accepted Monday 9 Feb: 10–14 Feb (5, Saturday 14 is a make-up day), the holiday
    # 15–23 Feb, then 24–28 Feb (5, Saturday 28 is a make-up day) → 10 on 28 Feb
    clock = clock_compute(
        accepted_at=at(2026, 2, 9),
        stopped_at=None,
        now=at(2026, 2, 24),
        legal_limit_days=20,
        promised_limit_days=10,
        calendar=calendar,
    )
    assert clock.promised_deadline == D(2026, 2, 28)
    assert clock.legal_deadline == D(2026, 3, 13)
    assert clock.used_days == 6  # 10, 11, 12, 13, 14 and 24 Feb
    assert clock.promised_days_left == 4
    assert clock.legal_days_left == 14
    assert clock.is_running is True
    assert clock.is_overdue is False


def test_a_pause_moves_both_deadlines_by_its_working_days(calendar):
    # 听证 from Tuesday 24 Feb to Friday 27 Feb: 25, 26, 27 Feb do not count
    pauses = [(at(2026, 2, 24), at(2026, 2, 27))]
    clock = clock_compute(
        accepted_at=at(2026, 2, 9),
        stopped_at=None,
        now=at(2026, 3, 2),
        legal_limit_days=20,
        promised_limit_days=10,
        pauses=pauses,
        calendar=calendar,
    )
    assert clock.paused_days == 3
    # worked: 10–14 Feb (5), 24 Feb, 28 Feb (make-up Saturday), 2 Mar → 8
    assert clock.used_days == 8
    assert clock.promised_days_left == 2
    assert clock.promised_deadline == D(2026, 3, 4)  # 28 Feb + 3 working days
    assert clock.legal_deadline == D(2026, 3, 18)  # 13 Mar + 3 working days


def test_an_open_pause_keeps_moving_the_deadline_and_stops_the_clock(calendar):
    pauses = [(at(2026, 2, 24), None)]
    first = clock_compute(
        accepted_at=at(2026, 2, 9),
        stopped_at=None,
        now=at(2026, 2, 26),
        legal_limit_days=20,
        promised_limit_days=10,
        pauses=pauses,
        calendar=calendar,
    )
    later = clock_compute(
        accepted_at=at(2026, 2, 9),
        stopped_at=None,
        now=at(2026, 3, 3),
        legal_limit_days=20,
        promised_limit_days=10,
        pauses=pauses,
        calendar=calendar,
    )
    assert first.is_paused is True
    assert first.is_running is False
    assert first.used_days == later.used_days == 6
    assert first.paused_days == 2  # 25, 26 Feb
    assert later.paused_days == 6  # 25, 26, 27, 28 Feb, 2 and 3 Mar
    assert later.promised_deadline > first.promised_deadline


def test_an_extension_adds_working_days_to_both_limits(calendar):
    clock = clock_compute(
        accepted_at=at(2026, 2, 9),
        stopped_at=None,
        now=at(2026, 3, 16),
        legal_limit_days=20,
        promised_limit_days=10,
        extension_days=10,
        calendar=calendar,
    )
    assert clock.legal_deadline == D(2026, 3, 27)  # 13 Mar + 10 working days
    assert clock.promised_deadline == D(2026, 3, 13)
    assert clock.used_days == 21  # 10–14 Feb (5) + 24 Feb–16 Mar (16)
    assert clock.legal_days_left == 9
    assert clock.promised_days_left == -1
    assert clock.is_overdue is True
    assert clock.is_legally_overdue is False


def test_the_clock_stops_at_the_decision(calendar):
    clock = clock_compute(
        accepted_at=at(2026, 2, 9),
        stopped_at=at(2026, 2, 13),
        now=at(2026, 6, 1),
        legal_limit_days=20,
        promised_limit_days=10,
        calendar=calendar,
    )
    assert clock.used_days == 4
    assert clock.promised_days_left == 6
    assert clock.is_running is False


def test_national_day_make_up_days_count(calendar):
    # accepted Monday 28 Sep: 29, 30 Sep, (1–7 Oct holiday), 8, 9 Oct, Saturday 10 Oct
    clock = clock_compute(
        accepted_at=at(2026, 9, 28),
        stopped_at=None,
        now=at(2026, 9, 28),
        legal_limit_days=20,
        promised_limit_days=5,
        calendar=calendar,
    )
    assert clock.promised_deadline == D(2026, 10, 10)
    # accepted Friday 18 Sep: the next working day is the make-up Sunday 20 Sep
    friday = clock_compute(
        accepted_at=at(2026, 9, 18),
        stopped_at=None,
        now=at(2026, 9, 21),
        legal_limit_days=20,
        promised_limit_days=1,
        calendar=calendar,
    )
    assert friday.promised_deadline == D(2026, 9, 20)
    assert friday.used_days == 2  # Sunday 20 (make-up) and Monday 21 Sep
    assert friday.is_overdue is True


def test_a_late_evening_acceptance_is_read_in_beijing_time(calendar):
    # 17:00 UTC on Friday 13 Feb is 01:00 on Saturday 14 Feb (a make-up working day)
    accepted = dt.datetime(2026, 2, 13, 17, 0, tzinfo=dt.UTC)
    clock = clock_compute(
        accepted_at=accepted,
        stopped_at=None,
        now=accepted,
        legal_limit_days=1,
        promised_limit_days=1,
        calendar=calendar,
    )
    assert clock.promised_deadline == D(2026, 2, 24)


def test_step_clock_with_a_limit_and_without(calendar):
    step = step_clock(
        started_at=at(2026, 2, 12),
        ended_at=None,
        now=at(2026, 2, 24),
        limit_days=2,
        calendar=calendar,
    )
    assert step.used_days == 3  # 13, 14 (make-up), 24 Feb
    assert step.deadline == D(2026, 2, 14)
    assert step.days_left == -1
    assert step.is_overdue is True
    free = step_clock(
        started_at=at(2026, 2, 12),
        ended_at=None,
        now=at(2026, 2, 24),
        limit_days=0,
        calendar=calendar,
    )
    assert free.deadline is None
    assert free.is_overdue is False
