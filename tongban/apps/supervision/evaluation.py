"""Performance evaluation (绩效评估): indicators, the published scoring formula, the ranking.

Everything is read from the supervision projection (``SupervisedCase``) and what the rules
raised (``Alert``, ``Correction``) with a handful of GROUP BY aggregates per period, never a
loop over cases, so a quarter over a million cases stays a few indexed scans. Figures are
kept exact (integers and ``Fraction``) and rounded to two decimals only for display
(``display``). The definitions of each term are in docs/decisions/0016.

- ``period_parse("2026-03" | "2026-Q1" | "2026-H1" | "2026")`` → ``Period``
- ``indicators_for(period=…, level=…)`` → the indicator rows of every department, unit
  or member of staff (handler)
- ``department_scores(period=…)`` → each department's ``Score`` (month and quarter
  directly; half-year and year as the mean of the monthly scores)
- ``ranking(...)``, ``trend(...)`` for the report pages and exports.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.apps.supervision.models import (
    Alert,
    AlertKind,
    CaseType,
    Correction,
    Dimension,
    Severity,
    SupervisedCase,
)
from tongban.apps.supervision.rules import ScoringParams

COMMITTED = (CaseType.PROMISED, CaseType.JOINT)  # 承诺件 (joint cases are promised too)
LEVELS = ("department", "unit", "staff")
LEVEL_LABELS = {
    "department": gettext_lazy("部门"),
    "unit": gettext_lazy("科室"),
    "staff": gettext_lazy("承办人"),
}
GRADE_LABELS = {
    "excellent": gettext_lazy("优秀"),
    "good": gettext_lazy("良好"),
    "pass": gettext_lazy("合格"),
    "fail": gettext_lazy("不合格"),
}
_CHINESE_NUMBERS = "一二三四"
TWO_PLACES = Decimal("0.01")


class PeriodInvalid(ValueError):
    """A period that cannot be parsed; ``message`` is in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------
# periods


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, quarter, half-year or year (``number`` is the month, quarter or
    half; 1 for a year)."""

    year: int
    kind: str  # "month" | "quarter" | "half" | "year"
    number: int = 1

    @property
    def first_month(self) -> int:
        return {
            "month": self.number,
            "quarter": 3 * self.number - 2,
            "half": 6 * self.number - 5,
        }.get(self.kind, 1)

    @property
    def month_count(self) -> int:
        return {"month": 1, "quarter": 3, "half": 6, "year": 12}[self.kind]

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        """The last day (inclusive)."""
        last = self.first_month + self.month_count - 1
        if last == 12:
            return dt.date(self.year, 12, 31)
        return dt.date(self.year, last + 1, 1) - dt.timedelta(days=1)

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.year}-{self.number:02d}"
        if self.kind == "quarter":
            return f"{self.year}-Q{self.number}"
        if self.kind == "half":
            return f"{self.year}-H{self.number}"
        return str(self.year)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(year)d年%(month)d月") % {"year": self.year, "month": self.number}
        if self.kind == "quarter":
            return _("%(year)d年第%(n)s季度") % {
                "year": self.year,
                "n": _CHINESE_NUMBERS[self.number - 1],
            }
        if self.kind == "half":
            if self.number == 1:
                return _("%(year)d年上半年") % {"year": self.year}
            return _("%(year)d年下半年") % {"year": self.year}
        return _("%(year)d年度") % {"year": self.year}

    @property
    def is_mean_of_months(self) -> bool:
        """Half-years and years are scored as the mean of their monthly scores."""
        return self.kind in ("half", "year")

    def months(self) -> list[Period]:
        return [
            Period(self.year, "month", month)
            for month in range(self.first_month, self.first_month + self.month_count)
        ]

    def __str__(self) -> str:
        return self.key


_PERIOD = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|[Qq](\d)|[Hh](\d)))?$")


def period_parse(text: str) -> Period:
    """``2026-03`` (month), ``2026-Q1`` (quarter), ``2026-H1`` (half-year), ``2026`` (year)."""
    value = (text or "").strip()
    if not value:
        raise PeriodInvalid(_("请选择评估期间"))
    match = _PERIOD.match(value)
    if match is None:
        raise PeriodInvalid(
            _("评估期间格式不正确：%(value)s（应为2026-03、2026-Q1、2026-H1或2026）")
            % {"value": value[:20]}
        )
    year = int(match.group(1))
    if not 2000 <= year <= 2100:
        raise PeriodInvalid(_("年份超出范围（2000–2100）：%(year)d") % {"year": year})
    month, quarter, half = match.group(2), match.group(3), match.group(4)
    if month is not None:
        if not 1 <= int(month) <= 12:
            raise PeriodInvalid(_("月份应为1至12：%(value)s") % {"value": value})
        return Period(year, "month", int(month))
    if quarter is not None:
        if not 1 <= int(quarter) <= 4:
            raise PeriodInvalid(_("季度应为Q1至Q4：%(value)s") % {"value": value})
        return Period(year, "quarter", int(quarter))
    if half is not None:
        if int(half) not in (1, 2):
            raise PeriodInvalid(_("半年应为H1或H2：%(value)s") % {"value": value})
        return Period(year, "half", int(half))
    return Period(year, "year")


def period_containing(day: dt.date) -> Period:
    return Period(day.year, "month", day.month)


def period_choices(today: dt.date, *, years: int = 2) -> list[Period]:
    """Periods offered by the picker: months, quarters, halves and years, newest first."""
    choices: list[Period] = []
    for year in range(today.year, today.year - years, -1):
        last_month = today.month if year == today.year else 12
        choices.append(Period(year, "year"))
        choices.extend(Period(year, "half", h) for h in (2, 1) if 6 * h - 5 <= last_month)
        choices.extend(Period(year, "quarter", q) for q in (4, 3, 2, 1) if 3 * q - 2 <= last_month)
        choices.extend(Period(year, "month", m) for m in range(last_month, 0, -1))
    return choices


# ---------------------------------------------------------------------------------------
# indicators


def ratio(numerator: int | Fraction, denominator: int | Fraction) -> Fraction | None:
    if not denominator:
        return None
    return Fraction(numerator) / Fraction(denominator)


@dataclass
class Indicators:
    """The figures of one department, unit or member of staff over a period (domain.md §3).

    Counts are integers; sums of shares are ``Fraction``; the rates are properties."""

    received: int = 0  # cases opened in the period
    completed: int = 0  # cases completed (办结) in the period
    instant: int = 0  # 即办件 among completed
    committed: int = 0  # 承诺件 (promised + joint) among completed
    early: int = 0  # completed committed cases finished before their promise
    overdue: int = 0  # completed cases past their promised deadline
    legally_overdue: int = 0  # completed cases past their legal deadline
    days_sum: int = 0  # working days used, over completed cases that report them
    days_count: int = 0
    pause_days: int = 0  # paused days of the completed cases
    incomplete: int = 0  # completed cases with incomplete data
    rated: int = 0  # completed cases rated by the applicant
    satisfied: int = 0  # … rated at or above ScoringParams.satisfied_min_level
    shortened_cases: int = 0  # completed committed cases with a legal limit
    shortened_sum: Fraction = field(default_factory=Fraction)  # Σ (legal − promised) / legal
    alerts: dict[str, int] = field(default_factory=dict)  # alert kind → count (occurred_on)
    # (kind, dimension, severity) → count, for the score
    alert_groups: dict[tuple[str, str, str], int] = field(default_factory=dict)
    corrections_due: int = 0  # correction items due in the period
    corrections_on_time: int = 0  # … explained/rectified and accepted on time
    corrections_late: int = 0  # … accepted late, or still open past their due date

    @property
    def completion_rate(self) -> Fraction | None:
        return ratio(self.completed, self.received)

    @property
    def early_rate(self) -> Fraction | None:
        return ratio(self.early, self.committed)

    @property
    def overdue_rate(self) -> Fraction | None:
        return ratio(self.overdue, self.completed)

    @property
    def average_days(self) -> Fraction | None:
        return ratio(self.days_sum, self.days_count)

    @property
    def incomplete_rate(self) -> Fraction | None:
        return ratio(self.incomplete, self.completed)

    @property
    def satisfaction_rate(self) -> Fraction | None:
        return ratio(self.satisfied, self.rated)

    @property
    def shortened_mean(self) -> Fraction | None:
        return ratio(self.shortened_sum, self.shortened_cases)

    @property
    def corrections_on_time_rate(self) -> Fraction | None:
        return ratio(self.corrections_on_time, self.corrections_due)

    @property
    def alert_total(self) -> int:
        return sum(self.alerts.values())

    @property
    def has_cases(self) -> bool:
        return bool(self.received or self.completed)

    def count_of(self, *, severity: str) -> int:
        return sum(n for (_k, _d, sev), n in self.alert_groups.items() if sev == severity)


def _group_fields(level: str, *, case_prefix: str = "") -> list[str]:
    if level not in LEVELS:
        raise ValueError(level)
    fields = [f"{case_prefix}department_id"]
    if level == "unit":
        fields.append(f"{case_prefix}unit_id")
    elif level == "staff":
        fields.append(f"{case_prefix}handler")
    return fields


def _key(row: dict[str, Any], fields: list[str]) -> Any:
    if len(fields) == 1:
        return row[fields[0]]
    return tuple(row[name] for name in fields)


def _narrow(queryset: QuerySet[Any], departments: Collection[int] | None, lookup: str) -> Any:
    if departments is None:
        return queryset
    return queryset.filter(**{f"{lookup}__in": list(departments)})


def indicators_for(
    *,
    period: Period,
    level: str = "department",
    departments: Collection[int] | None = None,
    satisfied_min_level: int | None = None,
    today: dt.date | None = None,
) -> dict[Any, Indicators]:
    """The indicators of every department (key: id), unit (key: (department id, unit id
    or None)) or member of staff (key: (department id, handler or "")) with anything in
    ``period``; ``departments`` narrows to those department ids (None: all).

    Five aggregate queries whatever the number of cases."""
    if satisfied_min_level is None:
        satisfied_min_level = ScoringParams().satisfied_min_level
    today = today or timezone.localdate()
    start, end = period.start, period.end
    fields = _group_fields(level)
    rows: dict[Any, Indicators] = {}

    def row_for(key: Any) -> Indicators:
        if key not in rows:
            rows[key] = Indicators()
        return rows[key]

    cases = SupervisedCase.objects.order_by()
    received = _narrow(
        cases.filter(opened_on__gte=start, opened_on__lte=end), departments, "department_id"
    )
    for row in received.values(*fields).annotate(n=Count("id")):
        row_for(_key(row, fields)).received = row["n"]

    completed = _narrow(
        cases.filter(completed_on__gte=start, completed_on__lte=end), departments, "department_id"
    )
    committed = Q(case_type__in=COMMITTED)
    for row in completed.values(*fields).annotate(
        n=Count("id"),
        instant=Count("id", filter=Q(case_type=CaseType.INSTANT)),
        committed=Count("id", filter=committed),
        early=Count("id", filter=committed & Q(is_early=True)),
        overdue=Count("id", filter=Q(is_overdue=True)),
        legally_overdue=Count("id", filter=Q(is_legally_overdue=True)),
        days_sum=Sum("working_days_used"),
        days_count=Count("working_days_used"),
        pause_days=Sum("paused_days"),
        incomplete=Count("id", filter=Q(is_data_complete=False)),
        rated=Count("rating"),
        satisfied=Count("id", filter=Q(rating__gte=satisfied_min_level)),
    ):
        item = row_for(_key(row, fields))
        item.completed = row["n"]
        for name in (
            "instant",
            "committed",
            "early",
            "overdue",
            "legally_overdue",
            "days_count",
            "incomplete",
            "rated",
            "satisfied",
        ):
            setattr(item, name, row[name])
        item.days_sum = row["days_sum"] or 0
        item.pause_days = row["pause_days"] or 0

    # the promise's shortening: grouped by (legal, promised) so the mean stays exact
    shortened = completed.filter(committed, legal_limit_days__gt=0)
    for row in shortened.values(*fields, "legal_limit_days", "promised_limit_days").annotate(
        n=Count("id")
    ):
        item = row_for(_key(row, fields))
        legal, promised = row["legal_limit_days"], row["promised_limit_days"]
        item.shortened_cases += row["n"]
        item.shortened_sum += Fraction(max(legal - promised, 0), legal) * row["n"]

    alerts = _narrow(
        Alert.objects.order_by().filter(occurred_on__gte=start, occurred_on__lte=end),
        departments,
        "department_id",
    )
    for row in alerts.values(*fields, "kind", "dimension", "severity").annotate(n=Count("id")):
        item = row_for(_key(row, fields))
        item.alerts[row["kind"]] = item.alerts.get(row["kind"], 0) + row["n"]
        group = (row["kind"], row["dimension"], row["severity"])
        item.alert_groups[group] = item.alert_groups.get(group, 0) + row["n"]

    correction_fields = (
        fields if level == "department" else _group_fields(level, case_prefix="alert__")
    )
    due = _narrow(
        Correction.objects.order_by().filter(due_on__gte=start, due_on__lte=end),
        departments,
        "department_id",
    )
    late = Q(is_on_time=False) | Q(is_on_time__isnull=True, due_on__lt=today)
    for row in due.values(*correction_fields).annotate(
        n=Count("id"),
        on_time=Count("id", filter=Q(is_on_time=True)),
        late=Count("id", filter=late),
    ):
        values = {name.removeprefix("alert__"): value for name, value in row.items()}
        item = row_for(_key(values, fields))
        item.corrections_due = row["n"]
        item.corrections_on_time = row["on_time"]
        item.corrections_late = row["late"]
    return rows


# ---------------------------------------------------------------------------------------
# the score


def _fraction(value: Decimal | int) -> Fraction:
    return Fraction(value)


@dataclass
class Score:
    """One department's score over a period, term by term (exact)."""

    dimensions: dict[str, Fraction]  # dimension → points after deductions (≥ 0)
    deductions: dict[str, Fraction]  # dimension → points deducted (before the floor)
    warnings_penalty: Fraction
    yellow_penalty: Fraction
    red_penalty: Fraction
    early_bonus: Fraction
    shortened_bonus: Fraction
    incomplete_penalty: Fraction
    total: Fraction
    grade: str
    # half-year and year: the months that counted, each with its own score
    months: list[tuple[Period, Score]] = field(default_factory=list)

    @property
    def base(self) -> Fraction:
        return sum(self.dimensions.values(), Fraction(0))

    @property
    def penalties(self) -> Fraction:
        return (
            self.warnings_penalty + self.yellow_penalty + self.red_penalty + self.incomplete_penalty
        )

    @property
    def bonuses(self) -> Fraction:
        return self.early_bonus + self.shortened_bonus

    @property
    def grade_label(self) -> str:
        return str(GRADE_LABELS[self.grade])


def grade_of(total: Fraction, params: ScoringParams) -> str:
    for grade in ("excellent", "good", "pass"):
        if total >= _fraction(params.grades[grade]):
            return grade
    return "fail"


def score_of(figures: Indicators, params: ScoringParams) -> Score:
    """The published municipal formula (domain.md §3, docs/decisions/0016) for one
    department and one month or quarter."""
    deductions: dict[str, Fraction] = {dimension: Fraction(0) for dimension in Dimension.values}
    for (kind, dimension, _severity), count in figures.alert_groups.items():
        points = params.alert_points.get(kind)
        if points and dimension in deductions:
            deductions[dimension] += _fraction(points) * count
    overdue_rate = figures.overdue_rate
    if overdue_rate:
        deductions[Dimension.TIMELINESS] += (
            _fraction(params.overdue_points_per_percent) * overdue_rate * 100
        )
    deductions[Dimension.INSPECTION] += (
        _fraction(params.late_correction_points) * figures.corrections_late
    )
    dimensions: dict[str, Fraction] = {}
    for dimension in Dimension.values:
        weight = _fraction(params.weights.get(dimension, Decimal(0)))
        if dimension == Dimension.SATISFACTION and figures.satisfaction_rate is not None:
            weight = weight * figures.satisfaction_rate
        dimensions[dimension] = max(weight - deductions[dimension], Fraction(0))

    warnings = figures.count_of(severity=Severity.PROMPT)
    runs = warnings // params.warnings_run if params.warnings_run else 0
    warnings_penalty = _fraction(params.warnings_run_penalty) * runs
    yellow_penalty = _fraction(params.yellow_card_penalty) * figures.alerts.get(
        AlertKind.YELLOW_CARD, 0
    )
    red_penalty = _fraction(params.red_card_penalty) * figures.alerts.get(AlertKind.RED_CARD, 0)

    early_bonus = Fraction(0)
    step = _fraction(params.early_bonus_step)
    if figures.early_rate is not None and step and figures.early_rate >= step:
        early_bonus = _fraction(params.early_bonus_points) * math.floor(figures.early_rate / step)

    shortened_bonus = Fraction(0)
    mean = figures.shortened_mean
    threshold = _fraction(params.shortened_threshold)
    if mean is not None and mean >= threshold:
        shortened_bonus = _fraction(params.shortened_bonus)
        bonus_step = _fraction(params.shortened_bonus_step)
        if bonus_step:
            further = math.floor((mean - threshold) / bonus_step)
            shortened_bonus += _fraction(params.shortened_bonus_points) * further

    incomplete_penalty = Fraction(0)
    if figures.incomplete_rate:
        percent = math.floor(figures.incomplete_rate * 100)
        incomplete_penalty = min(
            _fraction(params.incomplete_points_per_percent) * percent,
            _fraction(params.incomplete_penalty_max),
        )

    base = sum(dimensions.values(), Fraction(0))
    total = max(
        base
        - warnings_penalty
        - yellow_penalty
        - red_penalty
        - incomplete_penalty
        + early_bonus
        + shortened_bonus,
        Fraction(0),
    )
    return Score(
        dimensions=dimensions,
        deductions=deductions,
        warnings_penalty=warnings_penalty,
        yellow_penalty=yellow_penalty,
        red_penalty=red_penalty,
        early_bonus=early_bonus,
        shortened_bonus=shortened_bonus,
        incomplete_penalty=incomplete_penalty,
        total=total,
        grade=grade_of(total, params),
    )


def mean_score(months: list[tuple[Period, Score]], params: ScoringParams) -> Score:
    """Half-year and year: every term is the mean of the months' (and so is the total)."""
    count = len(months)
    scores = [score for _period, score in months]

    def mean(values: Iterable[Fraction]) -> Fraction:
        return sum(values, Fraction(0)) / count

    total = mean(score.total for score in scores)
    return Score(
        dimensions={d: mean(s.dimensions[d] for s in scores) for d in Dimension.values},
        deductions={d: mean(s.deductions[d] for s in scores) for d in Dimension.values},
        warnings_penalty=mean(s.warnings_penalty for s in scores),
        yellow_penalty=mean(s.yellow_penalty for s in scores),
        red_penalty=mean(s.red_penalty for s in scores),
        early_bonus=mean(s.early_bonus for s in scores),
        shortened_bonus=mean(s.shortened_bonus for s in scores),
        incomplete_penalty=mean(s.incomplete_penalty for s in scores),
        total=total,
        grade=grade_of(total, params),
        months=months,
    )


def department_scores(
    *,
    period: Period,
    departments: Collection[int] | None = None,
    params: ScoringParams | None = None,
    today: dt.date | None = None,
) -> dict[int, Score]:
    """Each department's score over ``period`` (absent: no case received or completed —
    "无数据"). Months and quarters are scored directly; half-years and years as the mean
    of the monthly scores of the months with any received or completed case."""
    if params is None:
        from tongban.apps.supervision.config import scoring_current

        params = scoring_current()[1]
    if not period.is_mean_of_months:
        figures = indicators_for(
            period=period,
            departments=departments,
            satisfied_min_level=params.satisfied_min_level,
            today=today,
        )
        return {
            department: score_of(item, params)
            for department, item in figures.items()
            if item.has_cases
        }
    monthly: dict[int, list[tuple[Period, Score]]] = {}
    for month in period.months():
        figures = indicators_for(
            period=month,
            departments=departments,
            satisfied_min_level=params.satisfied_min_level,
            today=today,
        )
        for department, item in figures.items():
            if item.has_cases:
                monthly.setdefault(department, []).append((month, score_of(item, params)))
    return {department: mean_score(months, params) for department, months in monthly.items()}


@dataclass(frozen=True)
class RankEntry:
    position: int | None  # None: no data in the period
    department_id: int
    name: str
    score: Score | None


def ranking(*, scores: dict[int, Score], departments: Iterable[tuple[int, str]]) -> list[RankEntry]:
    """Departments by score (highest first, ties by name); those without data last."""
    named = list(departments)
    scored = sorted(
        ((pk, name) for pk, name in named if pk in scores),
        key=lambda item: (-scores[item[0]].total, item[1]),
    )
    entries = [
        RankEntry(position, pk, name, scores[pk])
        for position, (pk, name) in enumerate(scored, start=1)
    ]
    entries.extend(
        RankEntry(None, pk, name, None)
        for pk, name in sorted(named, key=lambda item: item[1])
        if pk not in scores
    )
    return entries


# ---------------------------------------------------------------------------------------
# the monthly trend (办结率 and 超期率)


@dataclass(frozen=True)
class TrendPoint:
    month: Period
    received: int
    completed: int
    overdue: int

    @property
    def completion_rate(self) -> Fraction | None:
        return ratio(self.completed, self.received)

    @property
    def overdue_rate(self) -> Fraction | None:
        return ratio(self.overdue, self.completed)


def trend(
    *, until: Period, months: int = 12, departments: Collection[int] | None = None
) -> list[TrendPoint]:
    """The ``months`` months ending with the last month of ``until``: two grouped queries."""
    last = until.months()[-1]
    index = last.year * 12 + last.number - 1
    periods = [Period((i) // 12, "month", i % 12 + 1) for i in range(index - months + 1, index + 1)]
    start, end = periods[0].start, periods[-1].end
    cases = SupervisedCase.objects.order_by()
    opened = _narrow(
        cases.filter(opened_on__gte=start, opened_on__lte=end), departments, "department_id"
    )
    done = _narrow(
        cases.filter(completed_on__gte=start, completed_on__lte=end), departments, "department_id"
    )
    received: dict[tuple[int, int], int] = {}
    for day, n in opened.values_list("opened_on").annotate(n=Count("id")):
        received[(day.year, day.month)] = received.get((day.year, day.month), 0) + n
    completed: dict[tuple[int, int], tuple[int, int]] = {}
    for day, n, late in done.values_list("completed_on").annotate(
        n=Count("id"), late=Count("id", filter=Q(is_overdue=True))
    ):
        before = completed.get((day.year, day.month), (0, 0))
        completed[(day.year, day.month)] = (before[0] + n, before[1] + late)
    return [
        TrendPoint(
            period,
            received.get((period.year, period.number), 0),
            *completed.get((period.year, period.number), (0, 0)),
        )
        for period in periods
    ]


# ---------------------------------------------------------------------------------------
# display (the only place figures are rounded)


def display(value: Fraction | Decimal | int | None, *, percent: bool = False) -> Decimal | None:
    """Two decimals, half up; ``percent`` multiplies by 100 first. None stays None."""
    if value is None:
        return None
    number = Fraction(value) * (100 if percent else 1)
    return (Decimal(number.numerator) / Decimal(number.denominator)).quantize(
        TWO_PLACES, rounding=ROUND_HALF_UP
    )


# ---------------------------------------------------------------------------------------
# the report a viewer sees (pages and exports)


@dataclass(frozen=True)
class ReportRow:
    name: str
    department_id: int
    department_name: str
    unit_id: int | None
    handler: str
    figures: Indicators
    score: Score | None  # department level only


@dataclass
class Report:
    period: Period
    level: str
    scoring_version: int
    rows: list[ReportRow]
    totals: Indicators
    ranking: list[RankEntry]
    visible: set[int]  # departments the viewer may drill into
    trend: list[TrendPoint]


_SUMMED = (
    "received",
    "completed",
    "instant",
    "committed",
    "early",
    "overdue",
    "legally_overdue",
    "days_sum",
    "days_count",
    "pause_days",
    "incomplete",
    "rated",
    "satisfied",
    "shortened_cases",
    "shortened_sum",
    "corrections_due",
    "corrections_on_time",
    "corrections_late",
)


def indicators_sum(items: Iterable[Indicators]) -> Indicators:
    total = Indicators()
    for item in items:
        for name in _SUMMED:
            setattr(total, name, getattr(total, name) + getattr(item, name))
        for kind, count in item.alerts.items():
            total.alerts[kind] = total.alerts.get(kind, 0) + count
    return total


def visible_departments(actor: Any) -> QuerySet[Any]:
    """The departments whose figures the actor may read (``EVALUATION_VIEW``, scoped)."""
    from tongban.apps.supervision.permissions import EVALUATION_VIEW
    from tongban.platform.access.services import ScopePaths, scope_queryset
    from tongban.platform.orgs.models import Department

    return scope_queryset(
        actor,
        Department.objects.filter(is_active=True),
        EVALUATION_VIEW,
        ScopePaths(department="", division="division"),
    )


def ranked_departments(actor: Any) -> QuerySet[Any]:
    """Every active department of the divisions the actor's departments belong to: the
    ranking a department-scoped viewer sees its own position in."""
    from tongban.platform.orgs.models import Department

    divisions = visible_departments(actor).values("division_id")
    return Department.objects.filter(is_active=True, division_id__in=divisions)


def report_for(
    *,
    actor: Any,
    period: Period,
    level: str = "department",
    today: dt.date | None = None,
) -> Report:
    """The indicator rows the actor may see, the ranking and the monthly trend."""
    from tongban.apps.supervision.config import scoring_current
    from tongban.platform.accounts.models import User
    from tongban.platform.orgs.models import Unit

    if level not in LEVELS:
        raise ValueError(level)
    version, params = scoring_current()
    visible = dict(visible_departments(actor).values_list("pk", "name"))
    ranked = dict(ranked_departments(actor).values_list("pk", "name"))
    scores = department_scores(
        period=period, departments=sorted(ranked), params=params, today=today
    )
    rows: list[ReportRow] = []
    if level == "department":
        figures = indicators_for(
            period=period,
            departments=sorted(visible),
            satisfied_min_level=params.satisfied_min_level,
            today=today,
        )
        for pk, name in sorted(visible.items(), key=lambda item: item[1]):
            rows.append(
                ReportRow(name, pk, name, None, "", figures.get(pk, Indicators()), scores.get(pk))
            )
    else:
        figures = indicators_for(
            period=period,
            level=level,
            departments=sorted(visible),
            satisfied_min_level=params.satisfied_min_level,
            today=today,
        )
        unit_names: dict[int, str] = {}
        people: dict[str, str] = {}
        if level == "unit":
            unit_ids = {key[1] for key in figures if key[1] is not None}
            unit_names = dict(Unit.objects.filter(pk__in=unit_ids).values_list("pk", "name"))
        else:
            handlers = {key[1] for key in figures if key[1]}
            people = {
                username: display or username
                for username, display in User.objects.filter(username__in=handlers).values_list(
                    "username", "display_name"
                )
            }
        for key, item in figures.items():
            department_id, sub = key
            if level == "unit":
                name = unit_names.get(sub, "") if sub is not None else str(_("（未指定科室）"))
                rows.append(
                    ReportRow(name, department_id, visible[department_id], sub, "", item, None)
                )
            else:
                name = people.get(sub, sub) if sub else str(_("（未指定承办人）"))
                rows.append(
                    ReportRow(name, department_id, visible[department_id], None, sub, item, None)
                )
        rows.sort(key=lambda row: (row.department_name, row.name))
    entries = ranking(scores=scores, departments=ranked.items())
    return Report(
        period=period,
        level=level,
        scoring_version=version.number,
        rows=rows,
        totals=indicators_sum(row.figures for row in rows),
        ranking=entries,
        visible=set(visible),
        trend=trend(until=period, departments=sorted(visible)),
    )


@dataclass
class DepartmentReport:
    department_id: int
    name: str
    period: Period
    figures: Indicators
    score: Score | None
    position: int | None
    ranked: int  # how many departments are ranked
    units: list[ReportRow]
    params: ScoringParams
    scoring_version: int


class NotVisible(LookupError):
    """The department does not exist or lies outside the viewer's scope."""


def department_report_for(
    *, actor: Any, period: Period, department_id: int, today: dt.date | None = None
) -> DepartmentReport:
    """One department's figures, score term by term, and its position (drill-down)."""
    from tongban.apps.supervision.config import scoring_current

    name = visible_departments(actor).filter(pk=department_id).values_list("name", flat=True)
    department_name = name.first()
    if department_name is None:
        raise NotVisible(department_id)
    version, params = scoring_current()
    ranked = dict(ranked_departments(actor).values_list("pk", "name"))
    scores = department_scores(
        period=period, departments=sorted(ranked), params=params, today=today
    )
    figures = indicators_for(
        period=period,
        departments=[department_id],
        satisfied_min_level=params.satisfied_min_level,
        today=today,
    ).get(department_id, Indicators())
    position = next(
        (
            entry.position
            for entry in ranking(scores=scores, departments=ranked.items())
            if entry.department_id == department_id
        ),
        None,
    )
    from tongban.platform.orgs.models import Unit

    by_unit = indicators_for(
        period=period,
        level="unit",
        departments=[department_id],
        satisfied_min_level=params.satisfied_min_level,
        today=today,
    )
    unit_names = dict(Unit.objects.filter(department_id=department_id).values_list("pk", "name"))
    units = sorted(
        (
            ReportRow(
                unit_names.get(unit_id, "") if unit_id is not None else str(_("（未指定科室）")),
                department_id,
                department_name,
                unit_id,
                "",
                item,
                None,
            )
            for (_dept, unit_id), item in by_unit.items()
        ),
        key=lambda row: row.name,
    )
    return DepartmentReport(
        department_id=department_id,
        name=department_name,
        period=period,
        figures=figures,
        score=scores.get(department_id),
        position=position,
        ranked=sum(1 for pk in ranked if pk in scores),
        units=units,
        params=params,
        scoring_version=version.number,
    )


def bench_entry(period: str) -> int:
    """For ``bench/supervision_ingest.py``: score every department over ``period`` (the
    whole evaluation a ranking needs); returns how many departments were scored."""
    return len(department_scores(period=period_parse(period)))
