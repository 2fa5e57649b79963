"""Monitoring reads (监控): the overview figures, the department lights, the 30-day trend,
the filtered case list and one case with its event log, always scoped to the actor.

Every figure is a GROUP BY over an indexed column, never a loop over cases, so the screen
stays fast on a million cases:

- running cases by status and department: ``status IN running`` (index ``status,
  department``), with the overdue / near / legally-overdue counts as filtered aggregates of
  the same query;
- open alerts by department and severity (the open alerts only);
- today's alerts and the trend: ``occurred_on`` / ``opened_on`` / ``completed_on`` ranges
  (indexes ``…_on, department``).

Definitions (the drill-down list uses the very same ``Q`` objects, so a figure and the list
behind it always agree):

- *running* (在办): status in ``RUNNING_STATES``;
- *overdue* (超期在办): running, not paused, promised deadline before today; in the case list
  ``overdue=1`` also matches completed cases finished late (``is_overdue``);
- *near* (临近时限): running, not paused, promised deadline from today through the
  ``NEAR_WORKING_DAYS``-th working day after today;
- department light: red = an open red card or legal-breach alert, or a running case past
  its promised or legal deadline; yellow = an open yellow card or warning, or a case near
  its limit; green otherwise. Prompts (提醒) are notices and do not colour a department.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.supervision.evaluation import period_parse
from tongban.apps.supervision.models import (
    RUNNING_STATES,
    SCOPE,
    Alert,
    AlertKind,
    AlertState,
    CaseStatus,
    CaseType,
    ReceivedEvent,
    Severity,
    SupervisedCase,
)
from tongban.apps.supervision.permissions import MONITOR_VIEW
from tongban.platform.access.services import ScopePaths, scope_queryset
from tongban.platform.calendar.services import get_calendar
from tongban.platform.orgs.models import Department

NEAR_WORKING_DAYS = 3
TREND_DAYS = 30
ALERTS_TODAY_SHOWN = 10
# running and counting: a paused case's deadline moves when it resumes
CLOCK_STATES = (CaseStatus.RECEIVED, CaseStatus.CORRECTION, CaseStatus.ACCEPTED)
RUNNING = RUNNING_STATES
COMPLETED_STATES = (CaseStatus.CLOSED, CaseStatus.DELIVERED)
# an open alert of these severities colours its department
RED_SEVERITIES = (Severity.RED, Severity.LEGAL)
YELLOW_SEVERITIES = (Severity.YELLOW, Severity.WARNING)

GREEN, YELLOW, RED = "green", "yellow", "red"
_DEPARTMENT_SELF = ScopePaths(department="", division="division")


# ---------------------------------------------------------------------------------------
# scoping


def monitor_cases(actor: Any) -> QuerySet[SupervisedCase]:
    """The supervised cases the actor may see (MONITOR_VIEW)."""
    return scope_queryset(actor, SupervisedCase.objects.all(), MONITOR_VIEW, SCOPE)


def monitor_alerts(actor: Any) -> QuerySet[Alert]:
    return scope_queryset(actor, Alert.objects.all(), MONITOR_VIEW, SCOPE)


def monitor_departments(actor: Any) -> QuerySet[Department]:
    return scope_queryset(
        actor, Department.objects.filter(is_active=True), MONITOR_VIEW, _DEPARTMENT_SELF
    )


# ---------------------------------------------------------------------------------------
# shared definitions


def today_local() -> dt.date:
    return timezone.localdate()


def near_until(today: dt.date) -> dt.date:
    """The last promised deadline that still counts as near its limit."""
    return get_calendar().add_working_days(today, NEAR_WORKING_DAYS)


def overdue_running_q(today: dt.date) -> Q:
    return Q(status__in=CLOCK_STATES, promised_deadline__lt=today)


def legal_running_q(today: dt.date) -> Q:
    return Q(status__in=CLOCK_STATES, legal_deadline__lt=today)


def is_late(case: SupervisedCase, today: dt.date) -> bool:
    """Finished late, or still running past its promised deadline (``overdue=1``)."""
    return case.is_overdue or bool(
        case.status in CLOCK_STATES
        and case.promised_deadline is not None
        and case.promised_deadline < today
    )


def near_q(today: dt.date) -> Q:
    return Q(
        status__in=CLOCK_STATES,
        promised_deadline__gte=today,
        promised_deadline__lte=near_until(today),
    )


# ---------------------------------------------------------------------------------------
# the overview


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass
class DepartmentLight:
    department_id: int
    name: str
    code: str
    running: int = 0
    overdue: int = 0
    legal: int = 0
    near: int = 0
    # open alerts (not yet corrected) by severity: red, legal, yellow, warning
    open_alerts: dict[str, int] = field(default_factory=dict)
    alerts_today: int = 0

    @property
    def red_alerts(self) -> int:
        return sum(self.open_alerts.get(severity, 0) for severity in RED_SEVERITIES)

    @property
    def yellow_alerts(self) -> int:
        return sum(self.open_alerts.get(severity, 0) for severity in YELLOW_SEVERITIES)

    @property
    def open_alert_cells(self) -> list[tuple[str, int]]:
        return [(s, self.open_alerts.get(s, 0)) for s in (*RED_SEVERITIES, *YELLOW_SEVERITIES)]

    @property
    def colour(self) -> str:
        if self.red_alerts or self.overdue or self.legal:
            return RED
        if self.yellow_alerts or self.near:
            return YELLOW
        return GREEN


@dataclass
class Overview:
    today: dt.date
    near_until: dt.date
    running: int
    by_status: list[StatusCount]
    overdue: int
    legal: int
    near: int
    alerts_today: int
    alerts_today_by_severity: dict[str, int]
    latest_alerts: list[Alert]
    departments: list[DepartmentLight] = field(default_factory=list)

    @property
    def lights(self) -> dict[str, int]:
        counts = {RED: 0, YELLOW: 0, GREEN: 0}
        for department in self.departments:
            counts[department.colour] += 1
        return counts


def overview_for(*, actor: Any, today: dt.date | None = None) -> Overview:
    """The figures of the monitoring screen, five aggregate queries in all."""
    today = today or today_local()
    cases = monitor_cases(actor)
    alerts = monitor_alerts(actor)
    lights: dict[int, DepartmentLight] = {
        department.pk: DepartmentLight(department.pk, department.name, department.code)
        for department in monitor_departments(actor).only("pk", "name", "code")
    }
    missing: set[int] = set()

    def light(department_id: int) -> DepartmentLight:
        if department_id not in lights:
            lights[department_id] = DepartmentLight(department_id, "", "")
            missing.add(department_id)
        return lights[department_id]

    by_status: dict[str, int] = {}
    totals = {"overdue": 0, "legal": 0, "near": 0}
    rows = (
        cases.filter(status__in=RUNNING)
        .values("department_id", "status")
        .annotate(
            n=Count("pk"),
            overdue=Count("pk", filter=overdue_running_q(today)),
            legal=Count("pk", filter=legal_running_q(today)),
            near=Count("pk", filter=near_q(today)),
        )
        .order_by()
    )
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        entry = light(row["department_id"])
        entry.running += row["n"]
        for name in ("overdue", "legal", "near"):
            setattr(entry, name, getattr(entry, name) + row[name])
            totals[name] += row[name]

    open_rows = (
        alerts.filter(state=AlertState.OPEN, severity__in=RED_SEVERITIES + YELLOW_SEVERITIES)
        .values("department_id", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for open_row in open_rows:
        light(open_row["department_id"]).open_alerts[open_row["severity"]] = open_row["n"]

    today_by_severity: dict[str, int] = {}
    today_rows = (
        alerts.filter(occurred_on=today)
        .values("department_id", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for today_row in today_rows:
        light(today_row["department_id"]).alerts_today += today_row["n"]
        severity = today_row["severity"]
        today_by_severity[severity] = today_by_severity.get(severity, 0) + today_row["n"]

    if missing:
        for pk, name, code in Department.objects.filter(pk__in=missing).values_list(
            "pk", "name", "code"
        ):
            lights[pk].name, lights[pk].code = name, code

    labels = dict(CaseStatus.choices)
    order = {RED: 0, YELLOW: 1, GREEN: 2}
    return Overview(
        today=today,
        near_until=near_until(today),
        running=sum(by_status.values()),
        by_status=[StatusCount(s, str(labels[s]), by_status.get(s, 0)) for s in RUNNING],
        overdue=totals["overdue"],
        legal=totals["legal"],
        near=totals["near"],
        alerts_today=sum(today_by_severity.values()),
        alerts_today_by_severity=today_by_severity,
        latest_alerts=list(
            alerts.filter(occurred_on=today)
            .select_related("department", "case")
            .order_by("-raised_at", "-id")[:ALERTS_TODAY_SHOWN]
        ),
        departments=sorted(
            lights.values(), key=lambda d: (order[d.colour], -d.red_alerts - d.overdue, d.code)
        ),
    )


@dataclass(frozen=True)
class Trend:
    days: list[dt.date]
    received: list[int]
    completed: list[int]
    alerts: list[int]


def trend_for(*, actor: Any, today: dt.date | None = None, days: int = TREND_DAYS) -> Trend:
    """Received, completed and alerts per day over the last ``days`` days (today included)."""
    today = today or today_local()
    first = today - dt.timedelta(days=days - 1)
    span = [first + dt.timedelta(days=n) for n in range(days)]

    def per_day(queryset: QuerySet[Any], column: str) -> list[int]:
        counts = dict(
            queryset.filter(**{f"{column}__gte": first, f"{column}__lte": today})
            .values_list(column)
            .annotate(n=Count("pk"))
            .order_by()
        )
        return [counts.get(day, 0) for day in span]

    cases = monitor_cases(actor)
    return Trend(
        days=span,
        received=per_day(cases, "opened_on"),
        completed=per_day(cases, "completed_on"),
        alerts=per_day(monitor_alerts(actor), "occurred_on"),
    )


# ---------------------------------------------------------------------------------------
# the case list


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12])))?$")


def period_bounds(text: str) -> tuple[dt.date, dt.date]:
    """``2026-03`` / ``2026-Q1`` / ``2026-H1`` / ``2026`` → first and last day."""
    match = _PERIOD.match(text.strip())
    if not match or not 2000 <= int(match.group(1)) <= 2100:
        raise ValueError(_("期间格式应为2026、2026-03、2026-Q1或2026-H1"))
    period = period_parse(text.strip())  # the pattern above is the stricter of the two
    return period.start, period.end


@dataclass
class CaseFilters:
    """The GET filters of ``supervision:cases``.

    ``status``: a case status, or ``running`` / ``completed``; ``date`` and ``period``
    count on the completion date when ``status=completed``, otherwise on the date received.
    """

    status: str = ""
    department: int | None = None
    unit: int | None = None
    handler: str = ""
    overdue: bool = False
    legal: bool = False
    near: bool = False
    early: bool = False
    kind: str = ""
    case_type: str = ""
    day: dt.date | None = None
    period: str = ""
    query: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, data: Any) -> CaseFilters:
        filters = cls()

        def number(name: str, label: str) -> int | None:
            value = data.get(name, "").strip()
            if not value:
                return None
            if value.isdigit() and len(value) < 12:
                return int(value)
            filters.errors.append(_("筛选条件“%(name)s”无效") % {"name": label})
            return None

        status = data.get("status", "").strip()
        if status in ("running", "completed") or status in CaseStatus.values:
            filters.status = status
        elif status:
            filters.errors.append(_("状态无效：%(value)s") % {"value": status[:40]})
        filters.department = number("department", _("承办部门"))
        filters.unit = number("unit", _("承办科室"))
        filters.handler = data.get("handler", "").strip()[:150]
        filters.overdue = data.get("overdue") == "1"
        filters.legal = data.get("legal") == "1"
        filters.near = data.get("near") == "1"
        filters.early = data.get("early") == "1"
        kind = data.get("kind", "").strip()
        if kind in AlertKind.values:
            filters.kind = kind
        elif kind:
            filters.errors.append(_("预警类型无效：%(value)s") % {"value": kind[:40]})
        case_type = data.get("type", "").strip()
        if case_type in CaseType.values:
            filters.case_type = case_type
        day = data.get("date", "").strip()
        if day:
            try:
                filters.day = dt.date.fromisoformat(day)
            except ValueError:
                filters.errors.append(_("日期格式应为YYYY-MM-DD"))
        period = data.get("period", "").strip()
        if period:
            try:
                period_bounds(period)
                filters.period = period
            except ValueError as error:
                filters.errors.append(str(error))
        filters.query = data.get("q", "").strip()[:64]
        return filters

    @property
    def by_completion(self) -> bool:
        return self.status == "completed"


def case_list_for(
    *, actor: Any, filters: CaseFilters, today: dt.date | None = None
) -> QuerySet[SupervisedCase]:
    """The cases behind a figure, scoped; the most urgent first when looking at deadlines."""
    today = today or today_local()
    cases = monitor_cases(actor).select_related("department", "unit")
    if filters.status == "running":
        cases = cases.filter(status__in=RUNNING)
    elif filters.status == "completed":
        cases = cases.filter(completed_on__isnull=False)
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.department is not None:
        cases = cases.filter(department_id=filters.department)
    if filters.unit is not None:
        cases = cases.filter(unit_id=filters.unit)
    if filters.handler:
        cases = cases.filter(handler=filters.handler)
    if filters.overdue:
        cases = cases.filter(Q(is_overdue=True) | overdue_running_q(today))
    if filters.legal:
        cases = cases.filter(Q(is_legally_overdue=True) | legal_running_q(today))
    if filters.near:
        cases = cases.filter(near_q(today))
    if filters.early:
        cases = cases.filter(is_early=True)
    if filters.case_type:
        cases = cases.filter(case_type=filters.case_type)
    column = "completed_on" if filters.by_completion else "opened_on"
    if filters.day is not None:
        cases = cases.filter(**{column: filters.day})
    if filters.period:
        start, end = period_bounds(filters.period)
        cases = cases.filter(**{f"{column}__gte": start, f"{column}__lte": end})
    if filters.kind:
        cases = cases.filter(
            Exists(Alert.objects.filter(case_id=OuterRef("pk"), kind=filters.kind))
        )
    if filters.query:
        cases = cases.filter(key__startswith=filters.query)
    if filters.near or (filters.overdue and not filters.by_completion):
        return cases.order_by("promised_deadline", "id")
    if filters.by_completion:
        return cases.order_by("-completed_on", "-id")
    return cases.order_by("-opened_on", "-id")


def alert_badges(case_ids: list[int]) -> dict[int, dict[str, int]]:
    """Alerts per severity for a page of cases (one query)."""
    badges: dict[int, dict[str, int]] = {}
    rows = (
        Alert.objects.filter(case_id__in=case_ids)
        .values("case_id", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        badges.setdefault(row["case_id"], {})[row["severity"]] = row["n"]
    return badges


# ---------------------------------------------------------------------------------------
# one case


def case_get_for(*, actor: Any, case_id: int) -> SupervisedCase:
    """A case the actor may see; anything else (absent or out of scope) is a 404."""
    case = (
        monitor_cases(actor)
        .select_related("department", "unit", "source")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404(_("办件不存在"))
    return case


def case_events(case: SupervisedCase) -> QuerySet[ReceivedEvent]:
    """The case's event log as received, oldest first (newest last)."""
    return ReceivedEvent.objects.filter(source_id=case.source_id, case_key=case.key).order_by(
        "occurred_at", "id"
    )


def case_alerts(case: SupervisedCase) -> QuerySet[Alert]:
    return Alert.objects.filter(case=case).select_related("correction").order_by("raised_at", "id")
