"""Intake and rules: events in, the case projection updated, alerts raised.

``events_ingest`` takes a batch of raw events from one source (up to 10,000), validates
each one on its own, writes the new ones to the event log (a replayed id is a harmless
duplicate), applies them to the case projection and runs the event rules, all in one
transaction; the work per event is constant (a handful of indexed statements per batch
chunk, never a scan of the history). ``clock_sweep`` runs every minute and fires the
time-based rules whose moment has come (``SupervisedCase.next_check_at``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.supervision import bulk, corrections
from tongban.apps.supervision.config import rules_current
from tongban.apps.supervision.models import (
    RUNNING_STATES,
    Alert,
    AlertKind,
    CaseStatus,
    ReceivedEvent,
    RuleSetVersion,
    Source,
    SupervisedCase,
)
from tongban.apps.supervision.rules import ALERT_DIMENSION, ALERT_SEVERITY, RuleParams
from tongban.apps.supervision.schema import EventInvalid, IntakeEvent, event_parse
from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.services import get_calendar
from tongban.platform.calendar.workdays import WorkCalendar
from tongban.platform.orgs.models import Department, Unit

MAX_BATCH = 10_000
CHUNK = 2_000  # rows per INSERT statement


class BatchTooLarge(ValueError):
    pass


@dataclass(frozen=True)
class Rejection:
    index: int
    id: str
    code: str
    message: str


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    rejected: list[Rejection]
    alerts: int


@dataclass
class AlertDraft:
    case: SupervisedCase
    kind: str
    moment: dt.datetime
    detail: str
    dedupe: str


# ---------------------------------------------------------------------------------------
# organisation look-ups (cached per process: codes are stable, rows are few)

_DEPARTMENTS: dict[str, int] = {}
_UNITS: dict[str, tuple[int, int]] = {}  # code → (unit id, department id)


def _department_ids(codes: Iterable[str]) -> dict[str, int]:
    missing = {code for code in codes if code and code not in _DEPARTMENTS}
    if missing:
        _DEPARTMENTS.update(Department.objects.filter(code__in=missing).values_list("code", "pk"))
    return _DEPARTMENTS


def _unit_ids(codes: Iterable[str]) -> dict[str, tuple[int, int]]:
    missing = {code for code in codes if code and code not in _UNITS}
    if missing:
        for code, pk, department_id in Unit.objects.filter(code__in=missing).values_list(
            "code", "pk", "department_id"
        ):
            _UNITS[code] = (pk, department_id)
    return _UNITS


def forget_org_cache() -> None:
    _DEPARTMENTS.clear()
    _UNITS.clear()


# ---------------------------------------------------------------------------------------
# time helpers


@functools.cache
def _zone_named(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _zone() -> ZoneInfo:
    return _zone_named(settings.TIME_ZONE)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_zone())


def _after(day: dt.date) -> dt.datetime:
    """The first moment after the whole of ``day`` (local time)."""
    return _day_start(day + dt.timedelta(days=1))


def _local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(_zone()).date()


# ---------------------------------------------------------------------------------------
# intake


def events_ingest(
    *, source: Source, raw_events: Sequence[Any], actor: Any = None, now: dt.datetime | None = None
) -> IngestResult:
    """Validate, log and apply a batch of events from ``source``; see the module doc.

    Invalid events are rejected one by one (``IngestResult.rejected``) while the valid
    ones are kept; an event id already received is counted as a duplicate and ignored."""
    if len(raw_events) > MAX_BATCH:
        raise BatchTooLarge(_("一批最多%(max)d条事件") % {"max": MAX_BATCH})
    now = now or timezone.now()
    rejected: list[Rejection] = []
    parsed: list[tuple[int, IntakeEvent]] = []
    seen: set[str] = set()
    raws: dict[str, dict[str, Any]] = {}  # stored as received (validated)
    duplicates = 0
    for index, raw in enumerate(raw_events):
        try:
            event = event_parse(raw)
        except EventInvalid as error:
            event_id = str(raw.get("id", ""))[:100] if isinstance(raw, dict) else ""
            rejected.append(Rejection(index, event_id, error.code, error.message))
            continue
        if event.id in seen:
            duplicates += 1
            continue
        seen.add(event.id)
        parsed.append((index, event))
        raws[event.id] = raw

    departments = _department_ids(event.department for _, event in parsed)
    units = _unit_ids(event.unit for _, event in parsed)
    valid: list[IntakeEvent] = []
    for index, event in parsed:
        if event.department and event.department not in departments:
            rejected.append(
                Rejection(
                    index,
                    event.id,
                    "unknown_department",
                    _("承办部门代码不存在：%(code)s") % {"code": event.department},
                )
            )
        elif event.unit and event.unit not in units:
            rejected.append(
                Rejection(
                    index,
                    event.id,
                    "unknown_unit",
                    _("承办科室代码不存在：%(code)s") % {"code": event.unit},
                )
            )
        else:
            valid.append(event)

    with transaction.atomic():
        version, params = rules_current()
        known = dict(
            SupervisedCase.objects.filter(
                source=source, key__in={event.case for event in valid}
            ).values_list("key", "department_id")
        )
        # a case must be known, or the event must say which department handles it
        placeable: list[IntakeEvent] = []
        creating: dict[str, SupervisedCase] = {}
        for event in valid:
            if event.case in known or event.case in creating:
                placeable.append(event)
            elif event.department:
                creating[event.case] = SupervisedCase(
                    source=source,
                    key=event.case,
                    department_id=departments[event.department],
                    business=event.business,
                )
                placeable.append(event)
            else:
                rejected.append(
                    Rejection(
                        next(i for i, e in parsed if e is event),
                        event.id,
                        "unknown_case",
                        _("办件%(case)s尚无收件事件，须填写承办部门") % {"case": event.case},
                    )
                )
        new_ids = _log_events(source, placeable, raws, now)
        fresh = [event for event in placeable if event.id in new_ids]
        duplicates += len(placeable) - len(fresh)
        bulk.cases_create_missing(list(creating.values()))
        by_case: dict[str, list[IntakeEvent]] = {}
        for event in fresh:
            by_case.setdefault(event.case, []).append(event)
        cases = {
            case.key: case
            for case in SupervisedCase.objects.select_for_update()
            .filter(source=source, key__in=sorted(by_case))
            .order_by("key")
        }
        calendar = get_calendar()
        drafts: list[AlertDraft] = []
        for key, events in by_case.items():
            case = cases[key]
            for event in sorted(events, key=lambda e: e.occurred_at):
                drafts.extend(_apply(case, event, params, calendar, departments, units))
            latest = case.last_event_at or now
            drafts.extend(_time_rules(case, params, calendar, now=max(now, latest)))
            case.next_check_at = _next_check(case, params, calendar)
        _save_cases(list(cases.values()))
        alerts = alerts_raise(drafts, version=version, now=now)
        audit_record(
            actor=actor,
            action="supervision.events.ingest",
            target=source,
            detail={
                "accepted": len(fresh),
                "duplicates": duplicates,
                "rejected": len(rejected),
                "alerts": len(alerts),
            },
        )
    rejected.sort(key=lambda rejection: rejection.index)
    return IngestResult(len(fresh), duplicates, rejected, len(alerts))


def _log_events(
    source: Source, events: list[IntakeEvent], raws: dict[str, dict[str, Any]], now: dt.datetime
) -> set[str]:
    """Insert the events not received before; return the ids actually inserted."""
    if not events:
        return set()
    existing: set[str] = set()
    if not bulk.is_postgresql():  # PostgreSQL reports the skipped ids itself
        ids = [event.id for event in events]
        for start in range(0, len(ids), CHUNK):
            existing.update(
                ReceivedEvent.objects.filter(
                    source=source, source_event_id__in=ids[start : start + CHUNK]
                ).values_list("source_event_id", flat=True)
            )
    rows = [
        (
            source.pk,
            event.id,
            event.kind,
            event.case,
            event.occurred_at,
            now,
            raws[event.id],
        )
        for event in events
        if event.id not in existing
    ]
    # a concurrent batch with the same ids: the unique constraint keeps one, and this
    # transaction waits for the other's commit (then its rows count as duplicates here)
    return bulk.events_insert(rows)


_CASE_FIELDS = [
    f.name for f in SupervisedCase._meta.concrete_fields if f.name not in ("id", "source", "key")
]


def _save_cases(cases: list[SupervisedCase]) -> None:
    bulk.cases_update(cases, _CASE_FIELDS)


# ---------------------------------------------------------------------------------------
# applying one event to the projection (and the event rules)


def _apply(
    case: SupervisedCase,
    event: IntakeEvent,
    params: RuleParams,
    calendar: WorkCalendar,
    departments: dict[str, int],
    units: dict[str, tuple[int, int]],
) -> list[AlertDraft]:
    drafts: list[AlertDraft] = []
    at = event.occurred_at
    case.event_count += 1
    case.last_event_at = max(case.last_event_at or at, at)
    case.business = event.business if event.kind == "opened" else case.business
    if event.department:
        case.department_id = departments[event.department]
    if event.unit:
        case.unit_id = units[event.unit][0]
    for name in ("handler", "item_code", "item_name", "case_type", "pause_kind"):
        value = getattr(event, name)
        if value:
            setattr(case, name, value)
    if event.parent:
        case.parent_key = event.parent
    for name in ("legal_limit_days", "promised_limit_days"):
        value = getattr(event, name)
        if value is not None:
            setattr(case, name, value)
    deadlines_given = False
    for name in ("promised_deadline", "legal_deadline"):
        value = getattr(event, name)
        if value is not None:
            setattr(case, name, value)
            deadlines_given = True

    kind = event.kind
    if kind == "opened":
        case.opened_at = case.opened_at or at
        case.opened_on = _local_date(case.opened_at)
        case.status = CaseStatus.RECEIVED if case.accepted_at is None else case.status
    elif kind == "correction_requested":
        case.status = CaseStatus.CORRECTION
        case.correction_count += 1
        if params.is_on(AlertKind.REPEATED_CORRECTIONS) and (
            case.correction_count > params.max_corrections
        ):
            drafts.append(
                AlertDraft(
                    case,
                    AlertKind.REPEATED_CORRECTIONS,
                    at,
                    _("第%(n)d次要求补正，违反一次性告知") % {"n": case.correction_count},
                    f"{case.pk}:corrections",
                )
            )
    elif kind == "correction_answered":
        case.status = CaseStatus.RECEIVED if case.accepted_at is None else CaseStatus.ACCEPTED
    elif kind == "accepted":
        case.accepted_at = at
        case.opened_at = case.opened_at or at
        case.opened_on = case.opened_on or _local_date(at)
        case.status = CaseStatus.ACCEPTED
        if not deadlines_given:
            if case.promised_limit_days:
                case.promised_deadline = calendar.add_working_days(at, case.promised_limit_days)
            if case.legal_limit_days:
                case.legal_deadline = calendar.add_working_days(at, case.legal_limit_days)
    elif kind == "not_accepted":
        case.status = CaseStatus.NOT_ACCEPTED
        case.outcome = "not_accepted"
        case.decided_at = at
        drafts.extend(_refusal_rule(case, event, params))
    elif kind == "paused":
        case.status = CaseStatus.PAUSED
        case.pause_started_at = at
        case.pause_allowed_days = event.pause_planned_days or 0
    elif kind == "resumed":
        if case.pause_started_at is not None:
            days = calendar.working_days_between(case.pause_started_at, at)
            case.paused_days += days
            drafts.extend(_pause_rule(case, params, calendar, ended_at=at))
            if not deadlines_given:
                if case.promised_deadline:
                    case.promised_deadline = calendar.add_working_days(case.promised_deadline, days)
                if case.legal_deadline:
                    case.legal_deadline = calendar.add_working_days(case.legal_deadline, days)
        case.pause_started_at = None
        case.status = CaseStatus.ACCEPTED if case.accepted_at else CaseStatus.RECEIVED
    elif kind == "extended":
        days = event.extension_days or 0
        case.extension_days += days
        if not deadlines_given and case.promised_deadline:
            case.promised_deadline = calendar.add_working_days(case.promised_deadline, days)
    elif kind == "step_started":
        case.step_name = event.step_name
        case.step_started_at = at
        case.step_limit_days = event.step_limit_days or 0
        case.step_deadline = (
            calendar.add_working_days(at, case.step_limit_days) if case.step_limit_days else None
        )
    elif kind == "step_finished":
        drafts.extend(_step_rule(case, event, params, calendar))
        case.step_name, case.step_started_at, case.step_deadline = "", None, None
        case.step_limit_days = 0
    elif kind == "decided":
        case.decided_at = at
        case.outcome = event.outcome or case.outcome
        case.status = CaseStatus.DECIDED
        drafts.extend(_decision_rules(case, event, params, calendar))
    elif kind == "closed":
        if case.decided_at is None:
            case.decided_at = at
            drafts.extend(_decision_rules(case, event, params, calendar))
        case.closed_at = at
        case.completed_on = _local_date(at)
        case.status = CaseStatus.CLOSED
        drafts.extend(_too_fast_rule(case, params))
    elif kind == "delivered":
        case.delivered_at = at
        case.status = CaseStatus.DELIVERED
    elif kind == "withdrawn":
        case.status = CaseStatus.WITHDRAWN
    elif kind == "fee_charged":
        case.fee_amount = event.fee_amount
        if event.fee_standard is not None:
            case.fee_standard = event.fee_standard
        drafts.extend(_fee_rule(case, params))
    elif kind == "rated":
        case.rating = event.rating
        if params.is_on(AlertKind.BAD_RATING) and event.rating is not None and event.rating <= 2:
            drafts.append(
                AlertDraft(
                    case,
                    AlertKind.BAD_RATING,
                    at,
                    _("申请人差评（%(level)d星）") % {"level": event.rating},
                    f"{case.pk}:rating",
                )
            )
    if event.working_days_used is not None and kind in ("decided", "closed"):
        case.working_days_used = event.working_days_used
    case.is_data_complete = _complete(case)
    return drafts


def _complete(case: SupervisedCase) -> bool:
    """The data a completed case must have for the evaluation (domain.md §3: incomplete
    data reporting costs points): acceptance, a handler, limits and the decision."""
    if case.status not in (CaseStatus.CLOSED, CaseStatus.DELIVERED):
        return True
    return bool(
        case.accepted_at
        and case.handler
        and case.decided_at
        and (case.case_type == "instant" or case.promised_limit_days)
    )


def _refusal_rule(case: SupervisedCase, event: IntakeEvent, params: RuleParams) -> list[AlertDraft]:
    if not params.is_on(AlertKind.REFUSAL_WITHOUT_REASONS) or (event.reasons or event.detail):
        return []
    return [
        AlertDraft(
            case,
            AlertKind.REFUSAL_WITHOUT_REASONS,
            event.occurred_at,
            _("作出不予受理或不予许可决定但未说明理由"),
            f"{case.pk}:refusal",
        )
    ]


def _decision_rules(
    case: SupervisedCase, event: IntakeEvent, params: RuleParams, calendar: WorkCalendar
) -> list[AlertDraft]:
    drafts: list[AlertDraft] = []
    decided_at = case.decided_at or event.occurred_at
    if case.outcome in ("refused", "not_accepted"):
        drafts.extend(_refusal_rule(case, event, params))
    needs_acceptance = case.business in ("approval", "service")
    if needs_acceptance and case.accepted_at is None:
        if params.is_on(AlertKind.DECISION_WITHOUT_ACCEPTANCE):
            drafts.append(
                AlertDraft(
                    case,
                    AlertKind.DECISION_WITHOUT_ACCEPTANCE,
                    decided_at,
                    _("未经受理即作出决定"),
                    f"{case.pk}:no_acceptance",
                )
            )
        return drafts
    if case.accepted_at is not None and case.working_days_used is None:
        case.working_days_used = max(
            calendar.working_days_between(case.accepted_at, decided_at) - case.paused_days, 0
        )
    day = _local_date(decided_at)
    case.is_overdue = bool(case.promised_deadline and day > case.promised_deadline)
    case.is_legally_overdue = bool(case.legal_deadline and day > case.legal_deadline)
    total = case.promised_limit_days + case.extension_days
    case.is_early = bool(
        case.case_type != "instant"
        and case.promised_limit_days
        and case.working_days_used is not None
        and case.working_days_used < total
        and not case.is_overdue
    )
    # catch up on deadline rules the sweep could not have fired (a late or replayed event)
    drafts.extend(_deadline_rules(case, params, until=decided_at))
    return drafts


def _deadline_rules(
    case: SupervisedCase, params: RuleParams, *, until: dt.datetime
) -> list[AlertDraft]:
    drafts: list[AlertDraft] = []
    if case.promised_deadline and params.is_on(AlertKind.YELLOW_CARD):
        moment = _after(case.promised_deadline)
        if moment <= until and "yellow" not in case.fired:
            case.fired = [*case.fired, "yellow"]
            drafts.append(
                AlertDraft(
                    case,
                    AlertKind.YELLOW_CARD,
                    moment,
                    _("已超过承诺期限%(date)s") % {"date": case.promised_deadline.isoformat()},
                    f"{case.pk}:yellow",
                )
            )
    if case.legal_deadline and params.is_on(AlertKind.LEGAL_BREACH):
        moment = _after(case.legal_deadline)
        if moment <= until and "legal" not in case.fired:
            case.fired = [*case.fired, "legal"]
            drafts.append(
                AlertDraft(
                    case,
                    AlertKind.LEGAL_BREACH,
                    moment,
                    _("已超过法定期限%(date)s") % {"date": case.legal_deadline.isoformat()},
                    f"{case.pk}:legal",
                )
            )
    return drafts


def _step_rule(
    case: SupervisedCase, event: IntakeEvent, params: RuleParams, calendar: WorkCalendar
) -> list[AlertDraft]:
    limit = event.step_limit_days if event.step_limit_days is not None else case.step_limit_days
    used = event.step_days_used
    started = case.step_started_at if case.step_name == event.step_name else None
    if used is None and started is not None:
        used = calendar.working_days_between(started, event.occurred_at)
    if not params.is_on(AlertKind.STEP_OVERRUN) or not limit or used is None or used <= limit:
        return []
    mark = f"step:{event.step_name}:{started.isoformat() if started else event.id}"
    if mark in case.fired or (
        started and f"step:{event.step_name}:{started.isoformat()}" in case.fired
    ):
        return []
    case.fired = [*case.fired, mark]
    return [
        AlertDraft(
            case,
            AlertKind.STEP_OVERRUN,
            event.occurred_at,
            _("环节“%(step)s”用时%(used)d个工作日，超过环节时限%(limit)d个工作日")
            % {"step": event.step_name, "used": used, "limit": limit},
            f"{case.pk}:{mark}",
        )
    ]


def _pause_limit(case: SupervisedCase, params: RuleParams) -> int:
    return case.pause_allowed_days or params.max_pause_days


def _pause_rule(
    case: SupervisedCase, params: RuleParams, calendar: WorkCalendar, *, ended_at: dt.datetime
) -> list[AlertDraft]:
    if case.pause_started_at is None or not params.is_on(AlertKind.PAUSE_OVERRUN):
        return []
    limit = _pause_limit(case, params)
    if not limit:
        return []
    mark = f"pause:{case.pause_started_at.isoformat()}"
    end = calendar.add_working_days(case.pause_started_at, limit)
    moment = _after(end)
    if moment > ended_at or mark in case.fired:
        return []
    case.fired = [*case.fired, mark]
    return [
        AlertDraft(
            case,
            AlertKind.PAUSE_OVERRUN,
            moment,
            _("暂停计时超过允许的%(days)d个工作日") % {"days": limit},
            f"{case.pk}:{mark}",
        )
    ]


def _fee_rule(case: SupervisedCase, params: RuleParams) -> list[AlertDraft]:
    if (
        not params.is_on(AlertKind.FEE_MISMATCH)
        or case.fee_amount is None
        or case.fee_standard is None
        or abs(Decimal(case.fee_amount) - Decimal(case.fee_standard)) <= params.fee_tolerance
    ):
        return []
    return [
        AlertDraft(
            case,
            AlertKind.FEE_MISMATCH,
            case.last_event_at or timezone.now(),
            _("实收%(amount)s元，目录标准%(standard)s元")
            % {"amount": case.fee_amount, "standard": case.fee_standard},
            f"{case.pk}:fee:{case.fee_amount}",
        )
    ]


def _too_fast_rule(case: SupervisedCase, params: RuleParams) -> list[AlertDraft]:
    minimum = params.minimum_minutes(case.item_code)
    start = case.accepted_at or case.opened_at
    if not params.is_on(AlertKind.TOO_FAST) or not minimum or start is None or not case.closed_at:
        return []
    minutes = (case.closed_at - start).total_seconds() / 60
    if minutes >= minimum:
        return []
    return [
        AlertDraft(
            case,
            AlertKind.TOO_FAST,
            case.closed_at,
            _("受理后%(minutes)d分钟即办结，少于该事项的最短办理时间%(minimum)d分钟")
            % {"minutes": int(minutes), "minimum": minimum},
            f"{case.pk}:too_fast",
        )
    ]


# ---------------------------------------------------------------------------------------
# time-based rules


def _prompt_moments(
    case: SupervisedCase, params: RuleParams, calendar: WorkCalendar
) -> dict[str, dt.datetime]:
    """When the two prompts fire: ``days`` working days before the promised deadline (at
    the start of that working day) and when ``ratio`` of the limit has been used (at the
    start of the next working day)."""
    moments: dict[str, dt.datetime] = {}
    deadline = case.promised_deadline
    if deadline is None or case.accepted_at is None or case.case_type == "instant":
        return moments
    if params.prompt_days_before and params.is_on(AlertKind.PROMPT_DAYS):
        day = calendar.add_working_days(deadline, -params.prompt_days_before)
        if day > _local_date(case.accepted_at):
            moments["days"] = _day_start(day)
    total = case.promised_limit_days + case.extension_days
    if params.prompt_elapsed_ratio and total and params.is_on(AlertKind.PROMPT_RATIO):
        used = math.ceil(Decimal(total) * params.prompt_elapsed_ratio)
        left = total - used  # working days left, counting the deadline day
        if left >= 1:
            day = calendar.add_working_days(deadline, -(left - 1)) if left > 1 else deadline
            moments["ratio"] = _day_start(day)
    return moments


def _prompt_text(case: SupervisedCase, params: RuleParams, mark: str) -> str:
    deadline = case.promised_deadline.isoformat() if case.promised_deadline else ""
    if mark == "days":
        return _("距承诺期限%(date)s还有%(days)d个工作日，请抓紧办理") % {
            "date": deadline,
            "days": params.prompt_days_before,
        }
    return _("已用承诺时限的%(share)s%%，承诺期限%(date)s，请抓紧办理") % {
        "share": f"{params.prompt_elapsed_ratio * 100:.0f}",
        "date": deadline,
    }


def _time_rules(
    case: SupervisedCase, params: RuleParams, calendar: WorkCalendar, *, now: dt.datetime
) -> list[AlertDraft]:
    """Fire every time-based rule whose moment is at or before ``now``."""
    if case.status not in RUNNING_STATES:
        return []
    drafts: list[AlertDraft] = []
    if case.status != CaseStatus.PAUSED:
        for mark, moment in _prompt_moments(case, params, calendar).items():
            if moment <= now and mark not in case.fired:
                case.fired = [*case.fired, mark]
                kind = AlertKind.PROMPT_DAYS if mark == "days" else AlertKind.PROMPT_RATIO
                drafts.append(
                    AlertDraft(
                        case,
                        kind,
                        moment,
                        _prompt_text(case, params, mark),
                        f"{case.pk}:prompt:{mark}",
                    )
                )
        if case.accepted_at is not None:
            drafts.extend(_deadline_rules(case, params, until=now))
        if case.step_deadline and case.step_started_at and params.is_on(AlertKind.STEP_OVERRUN):
            mark = f"step:{case.step_name}:{case.step_started_at.isoformat()}"
            moment = _after(case.step_deadline)
            if moment <= now and mark not in case.fired:
                case.fired = [*case.fired, mark]
                drafts.append(
                    AlertDraft(
                        case,
                        AlertKind.STEP_OVERRUN,
                        moment,
                        _("环节“%(step)s”已超过环节时限%(limit)d个工作日")
                        % {"step": case.step_name, "limit": case.step_limit_days},
                        f"{case.pk}:{mark}",
                    )
                )
    else:
        drafts.extend(_pause_rule(case, params, calendar, ended_at=now))
    return drafts


def _next_check(
    case: SupervisedCase, params: RuleParams, calendar: WorkCalendar
) -> dt.datetime | None:
    """The earliest moment a time-based rule could still fire for this case."""
    if case.status not in RUNNING_STATES:
        return None
    moments: list[dt.datetime] = []
    if case.status == CaseStatus.PAUSED:
        if case.pause_started_at and f"pause:{case.pause_started_at.isoformat()}" not in case.fired:
            limit = _pause_limit(case, params)
            if limit and params.is_on(AlertKind.PAUSE_OVERRUN):
                moments.append(_after(calendar.add_working_days(case.pause_started_at, limit)))
        return min(moments) if moments else None
    for mark, moment in _prompt_moments(case, params, calendar).items():
        if mark not in case.fired:
            moments.append(moment)
    if case.accepted_at is not None:
        if case.promised_deadline and "yellow" not in case.fired:
            moments.append(_after(case.promised_deadline))
        if case.legal_deadline and "legal" not in case.fired:
            moments.append(_after(case.legal_deadline))
    if (
        case.step_deadline
        and case.step_started_at
        and f"step:{case.step_name}:{case.step_started_at.isoformat()}" not in case.fired
    ):
        moments.append(_after(case.step_deadline))
    return min(moments) if moments else None


def clock_sweep(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Fire the time-based rules of every case whose moment has come; returns the number
    of alerts raised. Runs every minute (``tasks.clock_sweep``); concurrent sweeps skip
    each other's rows."""
    now = now or timezone.now()
    calendar = get_calendar()
    raised = 0
    while True:
        with transaction.atomic():
            version, params = rules_current()
            cases = list(
                SupervisedCase.objects.select_for_update(skip_locked=True)
                .filter(next_check_at__lte=now)
                .order_by("next_check_at")[:batch]
            )
            if not cases:
                return raised
            drafts: list[AlertDraft] = []
            for case in cases:
                drafts.extend(_time_rules(case, params, calendar, now=now))
                case.next_check_at = _next_check(case, params, calendar)
                if case.next_check_at is not None and case.next_check_at <= now:
                    case.next_check_at = None  # nothing left that can still fire
            SupervisedCase.objects.bulk_update(cases, ["fired", "next_check_at"])
            raised += len(alerts_raise(drafts, version=version, now=now))
        if len(cases) < batch:
            return raised


# ---------------------------------------------------------------------------------------
# alerts


def alerts_raise(
    drafts: list[AlertDraft], *, version: RuleSetVersion | None, now: dt.datetime
) -> list[Alert]:
    """Write the alerts not raised before (``dedupe_key``), open their correction items
    and notify (``corrections.alerts_opened``)."""
    if not drafts:
        return []
    keys = [f"{draft.kind}:{draft.dedupe}" for draft in drafts]
    existing = set(Alert.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    alerts: list[Alert] = []
    for draft, key in zip(drafts, keys, strict=True):
        if key in existing:
            continue
        existing.add(key)
        case = draft.case
        alerts.append(
            Alert(
                case=case,
                kind=draft.kind,
                severity=ALERT_SEVERITY[draft.kind],
                dimension=ALERT_DIMENSION[draft.kind],
                department_id=case.department_id,
                unit_id=case.unit_id,
                handler=case.handler,
                raised_at=min(draft.moment, now),
                occurred_on=_local_date(min(draft.moment, now)),
                detail=draft.detail,
                rule_version=version,
                dedupe_key=key,
            )
        )
    if not alerts:
        return []
    created = Alert.objects.bulk_create(alerts, batch_size=CHUNK)
    if any(alert.pk is None for alert in created):  # a backend without RETURNING
        by_key = dict(
            Alert.objects.filter(dedupe_key__in=[a.dedupe_key for a in created]).values_list(
                "dedupe_key", "pk"
            )
        )
        for alert in created:
            alert.pk = by_key[alert.dedupe_key]
    corrections.alerts_opened(created, now=now)
    return created


__all__ = [
    "MAX_BATCH",
    "AlertDraft",
    "BatchTooLarge",
    "IngestResult",
    "Rejection",
    "alerts_raise",
    "clock_sweep",
    "events_ingest",
    "forget_org_cache",
]
