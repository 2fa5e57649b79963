"""What other applications (supervision, statistics, the 12345 hotline) may ask of
approvals: plain dataclasses, never models. Most of them should follow the
``approvals.case.*`` events instead (see events.py); these are for look-ups by number and
for totals. No actor: the caller checks its own permission.

Counting rule: a joint application counts once per item (its children); the parent is an
envelope and is not counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from tongban.apps.approvals.clock import case_clock
from tongban.apps.approvals.models import Case, CaseState, CaseType, Rating
from tongban.platform.calendar.services import get_calendar

CLOCK_PREFETCH = ("pauses", "corrections", "extensions")


@dataclass(frozen=True)
class CaseSummary:
    id: int
    number: str
    parent_number: str
    is_joint: bool
    item_id: int | None
    item_version_id: int | None
    item_name: str
    department_code: str
    department_name: str
    case_type: str
    state: str
    outcome: str
    applicant_name: str  # a person's or legal person's name (not an ID number)
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    delivered_at: dt.datetime | None
    legal_deadline: dt.date | None
    promised_deadline: dt.date | None
    working_days_used: int | None
    working_days_left: int | None
    legal_days_left: int | None
    paused_days: int
    extension_days: int
    correction_count: int
    is_overdue: bool
    is_legally_overdue: bool


def _summary(case: Case, now: dt.datetime) -> CaseSummary:
    clock = case_clock(case, now=now, calendar=get_calendar())
    return CaseSummary(
        id=case.pk,
        number=case.number,
        parent_number=case.parent.number if case.parent_id and case.parent else "",
        is_joint=case.is_joint,
        item_id=case.item_id,
        item_version_id=case.item_version_id,
        item_name=case.item_name,
        department_code=case.department_code,
        department_name=case.department_name,
        case_type=case.case_type,
        state=case.state,
        outcome=case.outcome,
        applicant_name=case.applicant_name,
        submitted_at=case.submitted_at,
        accepted_at=case.accepted_at,
        decided_at=case.decided_at,
        closed_at=case.closed_at,
        delivered_at=case.delivered_at,
        legal_deadline=clock.legal_deadline,
        promised_deadline=clock.promised_deadline,
        working_days_used=clock.used_days if clock.is_started else None,
        working_days_left=clock.promised_days_left,
        legal_days_left=clock.legal_days_left,
        paused_days=clock.paused_days,
        extension_days=clock.extension_days,
        correction_count=len(case.corrections.all()),
        is_overdue=clock.is_overdue,
        is_legally_overdue=clock.is_legally_overdue,
    )


def _cases() -> QuerySet[Case]:
    return (
        Case.objects.exclude(state=CaseState.DRAFT)
        .select_related("parent")
        .prefetch_related(*CLOCK_PREFETCH)
    )


def case_summary(number: str) -> CaseSummary | None:
    case = _cases().filter(number=number).first() if number else None
    return _summary(case, timezone.now()) if case is not None else None


def case_summaries(numbers: Iterable[str]) -> list[CaseSummary]:
    """Summaries of the cases with these numbers (unknown numbers are skipped), in order."""
    wanted = [number for number in dict.fromkeys(numbers) if number][:1000]
    found = {case.number: case for case in _cases().filter(number__in=wanted)}
    now = timezone.now()
    return [_summary(found[number], now) for number in wanted if number in found]


@dataclass(frozen=True)
class CaseCounts:
    """The Yunfu indicators over one period (by event date within the period)."""

    received: int  # 收件数: submitted in the period
    accepted: int
    not_accepted: int
    withdrawn: int
    completed: int  # 办结数: closed in the period (may exceed received: carry-over)
    completed_instant: int
    completed_promised: int
    completed_early: int  # promised cases closed before their promised limit
    completed_overdue: int  # closed past the promised limit
    in_progress: int  # accepted, not decided, now
    overdue_now: int  # in progress and past the promised limit, now
    ratings: int
    bad_ratings: int


def case_counts(
    *,
    department_code: str = "",
    division_path: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> CaseCounts:
    """Totals for a department (by code) or a division subtree (by path), or everything."""
    base = Case.objects.filter(is_joint=False).exclude(state=CaseState.DRAFT)
    if department_code:
        base = base.filter(department_code=department_code)
    if division_path:
        base = base.filter(division_path__startswith=division_path)

    def within(field: str) -> Q:
        condition = Q()
        if since is not None:
            condition &= Q(**{f"{field}__date__gte": since})
        if until is not None:
            condition &= Q(**{f"{field}__date__lte": until})
        return condition & Q(**{f"{field}__isnull": False})

    completed = list(base.filter(within("closed_at")).prefetch_related(*CLOCK_PREFETCH))
    now = timezone.now()
    calendar = get_calendar()
    clocks = [(case, case_clock(case, now=now, calendar=calendar)) for case in completed]
    promised = [(case, clock) for case, clock in clocks if case.case_type == CaseType.PROMISED]
    running = list(
        base.filter(state__in=[CaseState.ACCEPTED, CaseState.IN_REVIEW]).prefetch_related(
            *CLOCK_PREFETCH
        )
    )
    ratings = Rating.objects.filter(case__in=base.values("pk"))
    ratings = ratings.filter(within("created_at"))
    return CaseCounts(
        received=base.filter(within("submitted_at")).count(),
        accepted=base.filter(within("accepted_at")).count(),
        not_accepted=base.filter(within("ended_at"), state=CaseState.NOT_ACCEPTED).count(),
        withdrawn=base.filter(within("ended_at"), state=CaseState.WITHDRAWN).count(),
        completed=len(completed),
        completed_instant=sum(1 for case in completed if case.case_type == CaseType.INSTANT),
        completed_promised=len(promised),
        completed_early=sum(1 for _case, clock in promised if (clock.promised_days_left or 0) > 0),
        completed_overdue=sum(1 for _case, clock in clocks if clock.is_overdue),
        in_progress=len(running),
        overdue_now=sum(
            1 for case in running if case_clock(case, now=now, calendar=calendar).is_overdue
        ),
        ratings=ratings.count(),
        bad_ratings=ratings.filter(level__lte=2).count(),
    )


# ----------------------------------------------------------------------------- timelines
# (for supervision's backfill of history that published no events)


@dataclass(frozen=True)
class TimelineCorrection:
    requested_at: dt.datetime
    answered_at: dt.datetime | None
    items: int


@dataclass(frozen=True)
class TimelinePause:
    kind: str
    planned_days: int
    started_at: dt.datetime
    ended_at: dt.datetime | None


@dataclass(frozen=True)
class TimelineExtension:
    days: int
    approved_at: dt.datetime


@dataclass(frozen=True)
class CaseTimeline:
    """What happened to one case, as dates and figures (no personal data).

    ``working_days_used`` and the deadlines are the approvals clock's at ``as_of`` (frozen
    at the decision, or when the case ended without one). ``accepted_by`` and
    ``decided_by`` are usernames ("" when not stored)."""

    id: int
    number: str
    parent_number: str
    department_code: str
    item_id: int | None
    item_version_id: int | None
    item_code: str  # the catalogue's implementation code ("" when the case has none)
    item_name: str
    case_type: str
    state: str
    outcome: str
    legal_limit_days: int
    promised_limit_days: int
    submitted_at: dt.datetime | None
    accepted_at: dt.datetime | None
    decided_at: dt.datetime | None
    closed_at: dt.datetime | None
    delivered_at: dt.datetime | None
    ended_at: dt.datetime | None  # not accepted, withdrawn or sent back
    end_reason: str
    decision_reasons: str
    accepted_by: str
    decided_by: str
    corrections: tuple[TimelineCorrection, ...]
    pauses: tuple[TimelinePause, ...]
    extensions: tuple[TimelineExtension, ...]
    rating_level: int | None
    rated_at: dt.datetime | None
    legal_deadline: dt.date | None
    promised_deadline: dt.date | None
    working_days_used: int | None
    paused_days: int
    extension_days: int
    as_of: dt.datetime


def _timeline(case: Case, now: dt.datetime, calendar: Any) -> CaseTimeline:
    clock = case_clock(case, now=now, calendar=calendar)
    rating = getattr(case, "rating", None)
    return CaseTimeline(
        id=case.pk,
        number=case.number,
        parent_number=case.parent.number if case.parent_id and case.parent else "",
        department_code=case.department_code,
        item_id=case.item_id,
        item_version_id=case.item_version_id,
        item_code=case.implementation_code,
        item_name=case.item_name,
        case_type=case.case_type,
        state=case.state,
        outcome=case.outcome,
        legal_limit_days=case.legal_limit_days,
        promised_limit_days=case.promised_limit_days,
        submitted_at=case.submitted_at,
        accepted_at=case.accepted_at,
        decided_at=case.decided_at,
        closed_at=case.closed_at,
        delivered_at=case.delivered_at,
        ended_at=case.ended_at,
        end_reason=case.end_reason,
        decision_reasons=case.decision_reasons,
        accepted_by=case.accepted_by.username if case.accepted_by_id and case.accepted_by else "",
        decided_by=case.decided_by.username if case.decided_by_id and case.decided_by else "",
        corrections=tuple(
            TimelineCorrection(row.opened_at, row.answered_at, len(row.items or []))
            for row in sorted(case.corrections.all(), key=lambda row: (row.opened_at, row.pk))
        ),
        pauses=tuple(
            TimelinePause(row.kind, row.planned_days, row.started_at, row.ended_at)
            for row in sorted(case.pauses.all(), key=lambda row: (row.started_at, row.pk))
        ),
        extensions=tuple(
            TimelineExtension(row.days, row.approved_at or row.requested_at)
            for row in sorted(case.extensions.all(), key=lambda row: row.pk)
            if row.state == "approved"
        ),
        rating_level=rating.level if rating is not None else None,
        rated_at=rating.created_at if rating is not None else None,
        legal_deadline=clock.legal_deadline,
        promised_deadline=clock.promised_deadline,
        working_days_used=clock.used_days if clock.is_started else None,
        paused_days=clock.paused_days,
        extension_days=clock.extension_days,
        as_of=now,
    )


def case_timelines(
    *, after_id: int = 0, chunk: int = 2000, now: dt.datetime | None = None
) -> Iterator[list[CaseTimeline]]:
    """Every submitted case (joint parents excluded: their children are the cases) in id
    order, as lists of up to ``chunk`` timelines; keyset pagination from ``after_id``, one
    query per chunk plus one per prefetched relation."""
    now = now or timezone.now()
    calendar = get_calendar()
    last = after_id
    while True:
        rows = list(
            Case.objects.filter(pk__gt=last, is_joint=False)
            .exclude(state=CaseState.DRAFT)
            .select_related("parent", "accepted_by", "decided_by", "rating")
            .prefetch_related(*CLOCK_PREFETCH)
            .order_by("pk")[:chunk]
        )
        if not rows:
            return
        yield [_timeline(case, now, calendar) for case in rows]
        last = rows[-1].pk
        if len(rows) < chunk:
            return
