"""Backfill: approvals history that published no events, as canonical intake events.

``approvals.public.case_timelines`` describes every case (dates and figures, in id order,
in chunks); ``timeline_events`` turns one timeline into the canonical events it implies,
with ids ``approvals-history:<case id>:<kind>[:<n>]``, and ``backfill_approvals`` ingests
them through ``services.events_ingest`` with the approvals source in batches of at most
10,000 events (a case's events never straddle two batches, so the time-based rules see a
case whole). A replay is harmless: every id is a duplicate the second time.

Cases whose live ``approvals.case.*`` events supervision already received (ids
``approvals:<event id>``) are skipped: those events are the better record. The other way
round, ``handlers`` skips a live event a backfill already covered (see there).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from tongban.apps.approvals import public as approvals
from tongban.apps.supervision import services, sources
from tongban.apps.supervision.models import ReceivedEvent, Source
from tongban.platform.orgs.models import Posting

logger = logging.getLogger(__name__)

HISTORY_PREFIX = "approvals-history:"
LIVE_PREFIX = "approvals:"
BATCH = services.MAX_BATCH
CASE_TYPES = ("instant", "promised", "joint")
OUTCOMES = ("approved", "refused", "partial")


@dataclass
class BackfillResult:
    cases: int = 0
    skipped: int = 0  # cases already followed through their live events
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    alerts: int = 0
    batches: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # rejection code → events


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _day(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


def timeline_events(
    timeline: approvals.CaseTimeline, *, units: dict[str, tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The canonical events of one case, oldest first (same moment: in lifecycle order).

    ``units`` maps a username to (unit code, department code) of the user's primary
    posting; the unit is passed only when it belongs to the case's department."""
    t = timeline
    units = units or {}
    prefix = f"{HISTORY_PREFIX}{t.id}:"
    events: list[dict[str, Any]] = []

    def add(kind: str, moment: dt.datetime | None, suffix: str = "", **fields: Any) -> None:
        if moment is None:
            return
        events.append(
            {
                "id": f"{prefix}{kind}{suffix}",
                "kind": kind,
                "case": t.number,
                "occurred_at": moment.isoformat(),
                **{key: value for key, value in fields.items() if value not in (None, "")},
            }
        )

    def person(username: str) -> dict[str, Any]:
        if not username:
            return {}
        found = units.get(username)
        unit = found[0] if found and found[1] == t.department_code else ""
        return {"handler": username, "unit": unit}

    legal = t.legal_limit_days
    promised = t.promised_limit_days
    if legal and promised > legal:  # a guide promising more than the law allows
        legal = promised
    # the approvals clock's deadlines are authoritative (it counts corrections after
    # acceptance as pauses, supervision would not): every event from acceptance on says so
    clock: dict[str, Any] = {
        "promised_deadline": _day(t.promised_deadline),
        "legal_deadline": _day(t.legal_deadline),
    }
    add(
        "opened",
        t.submitted_at or t.accepted_at,
        department=t.department_code,
        parent=t.parent_number,
        item_code=t.item_code or (f"item-{t.item_id}" if t.item_id else ""),
        item_name=t.item_name[:200],
        case_type=t.case_type if t.case_type in CASE_TYPES else "",
        legal_limit_days=legal,
        promised_limit_days=promised,
    )
    for n, correction in enumerate(t.corrections, start=1):
        add(
            "correction_requested",
            correction.requested_at,
            f":{n}",
            detail=f"补正材料{correction.items}项",
        )
        add("correction_answered", correction.answered_at, f":{n}")
    add("accepted", t.accepted_at, **person(t.accepted_by), **clock)
    if t.state == "not_accepted":
        add("not_accepted", t.ended_at, reasons=t.end_reason[:4000])
    for n, pause in enumerate(t.pauses, start=1):
        add(
            "paused",
            pause.started_at,
            f":{n}",
            pause_kind=pause.kind[:40],
            pause_planned_days=pause.planned_days or None,
            **clock,
        )
        add("resumed", pause.ended_at, f":{n}", **clock)
    for n, extension in enumerate(t.extensions, start=1):
        add("extended", extension.approved_at, f":{n}", extension_days=extension.days, **clock)
    if t.decided_at is not None:
        add(
            "decided",
            t.decided_at,
            outcome=t.outcome if t.outcome in OUTCOMES else "other",
            reasons=t.decision_reasons[:4000],
            working_days_used=t.working_days_used,
            **person(t.decided_by),
            **clock,
        )
    add("closed", t.closed_at, working_days_used=t.working_days_used, **clock)
    add("delivered", t.delivered_at)
    if t.state in ("withdrawn", "returned"):
        add(
            "withdrawn",
            t.ended_at,
            detail=("退件：" if t.state == "returned" else "") + t.end_reason[:1900],
        )
    if t.rating_level is not None:
        add("rated", t.rated_at or t.closed_at, rating=t.rating_level)
    return events


def _units(usernames: Iterable[str]) -> dict[str, tuple[str, str]]:
    wanted = {name for name in usernames if name}
    if not wanted:
        return {}
    return {
        username: (unit, department)
        for username, unit, department in Posting.objects.filter(
            user__username__in=wanted, is_primary=True
        ).values_list("user__username", "unit__code", "unit__department__code")
    }


def _live_cases(source: Source, numbers: list[str]) -> set[str]:
    return set(
        ReceivedEvent.objects.filter(
            source=source, case_key__in=numbers, source_event_id__startswith=LIVE_PREFIX
        ).values_list("case_key", flat=True)
    )


def backfill_approvals(
    *,
    actor: Any = None,
    chunk: int = 2000,
    batch: int = BATCH,
    now: dt.datetime | None = None,
    progress: Callable[[BackfillResult], None] | None = None,
) -> BackfillResult:
    """Ingest the approvals history as events (idempotent); see the module doc."""
    now = now or timezone.now()
    source = sources.approvals_source()
    result = BackfillResult()
    pending: list[dict[str, Any]] = []

    def flush() -> None:
        if not pending:
            return
        ingested = services.events_ingest(source=source, raw_events=pending, actor=actor, now=now)
        result.batches += 1
        result.events += len(pending)
        result.accepted += ingested.accepted
        result.duplicates += ingested.duplicates
        result.rejected += len(ingested.rejected)
        for rejection in ingested.rejected:
            result.reasons[rejection.code] += 1
            logger.warning("backfill rejected %s: %s", rejection.id, rejection.message)
        result.alerts += ingested.alerts
        pending.clear()
        if progress is not None:
            progress(result)

    for timelines in approvals.case_timelines(chunk=chunk, now=now):
        live = _live_cases(source, [t.number for t in timelines])
        units = _units(name for t in timelines for name in (t.accepted_by, t.decided_by))
        for timeline in timelines:
            if timeline.number in live:
                result.skipped += 1
                continue
            events = timeline_events(timeline, units=units)
            if not events:
                continue
            if len(pending) + len(events) > batch:
                flush()
            pending.extend(events)
            result.cases += 1
    flush()
    return result
