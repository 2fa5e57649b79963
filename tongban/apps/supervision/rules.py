"""Rule thresholds and scoring weights: typed parameters stored as JSON in versioned rows.

``RuleParams`` drives the rules in ``services.py``; ``ScoringParams`` drives the score in
``evaluation.py``. Both have the defaults of domain.md §3 and are validated whole before a
new version is written (``params_from_dict`` raises ``ParamsError`` with every problem).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from tongban.apps.supervision.models import AlertKind, Dimension, Severity


class ParamsError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class RuleParams:
    # 临近时限提醒: this many working days before the promised deadline (0: off) …
    prompt_days_before: int = 1
    # … and when this share of the promised limit has been used (0: off)
    prompt_elapsed_ratio: Decimal = Decimal("0.80")
    # working days a department has to explain or rectify an alert
    correction_days: int = 3
    # a yellow card's correction still open this many working days after it was due → red
    red_card_after_days: int = 0
    # more correction requests than this on one case breaks 一次性告知
    max_corrections: int = 1
    # a pause longer than its planned length, or than this when none was planned
    max_pause_days: int = 30
    # fee charged differs from the catalogue's standard by more than this (yuan)
    fee_tolerance: Decimal = Decimal("0.00")
    # a case closed sooner than this after acceptance is suspect (minutes); per item code,
    # "*" for every item; absent: no minimum
    min_handling_minutes: dict[str, int] = field(default_factory=dict)
    # the rules that are switched on (all by default)
    enabled: tuple[str, ...] = tuple(
        kind for kind in AlertKind.values if kind not in (AlertKind.MANUAL,)
    )

    def is_on(self, kind: str) -> bool:
        return kind in self.enabled

    def minimum_minutes(self, item_code: str) -> int:
        return int(self.min_handling_minutes.get(item_code, self.min_handling_minutes.get("*", 0)))


# the severity and the scoring dimension of each kind of alert
ALERT_SEVERITY: dict[str, str] = {
    AlertKind.PROMPT_DAYS: Severity.PROMPT,
    AlertKind.PROMPT_RATIO: Severity.PROMPT,
    AlertKind.YELLOW_CARD: Severity.YELLOW,
    AlertKind.RED_CARD: Severity.RED,
    AlertKind.LEGAL_BREACH: Severity.LEGAL,
    AlertKind.STEP_OVERRUN: Severity.WARNING,
    AlertKind.REFUSAL_WITHOUT_REASONS: Severity.WARNING,
    AlertKind.REPEATED_CORRECTIONS: Severity.WARNING,
    AlertKind.PAUSE_OVERRUN: Severity.WARNING,
    AlertKind.FEE_MISMATCH: Severity.WARNING,
    AlertKind.DECISION_WITHOUT_ACCEPTANCE: Severity.WARNING,
    AlertKind.TOO_FAST: Severity.WARNING,
    AlertKind.BAD_RATING: Severity.WARNING,
    AlertKind.MANUAL: Severity.WARNING,
}
ALERT_DIMENSION: dict[str, str] = {
    AlertKind.PROMPT_DAYS: Dimension.TIMELINESS,
    AlertKind.PROMPT_RATIO: Dimension.TIMELINESS,
    AlertKind.YELLOW_CARD: Dimension.TIMELINESS,
    AlertKind.RED_CARD: Dimension.TIMELINESS,
    AlertKind.LEGAL_BREACH: Dimension.TIMELINESS,
    AlertKind.STEP_OVERRUN: Dimension.PROCESS,
    AlertKind.REFUSAL_WITHOUT_REASONS: Dimension.LIABILITY,
    AlertKind.REPEATED_CORRECTIONS: Dimension.PROCESS,
    AlertKind.PAUSE_OVERRUN: Dimension.PROCESS,
    AlertKind.FEE_MISMATCH: Dimension.FEES,
    AlertKind.DECISION_WITHOUT_ACCEPTANCE: Dimension.PROCESS,
    AlertKind.TOO_FAST: Dimension.INTEGRITY,
    AlertKind.BAD_RATING: Dimension.ATTITUDE,
    AlertKind.MANUAL: Dimension.INSPECTION,
}
# prompts are notices, not findings: they open no correction item
KINDS_WITHOUT_CORRECTION = (AlertKind.PROMPT_DAYS, AlertKind.PROMPT_RATIO)


def _default_weights() -> dict[str, Decimal]:
    return {
        Dimension.DISCLOSURE: Decimal(10),
        Dimension.PROCESS: Decimal(14),
        Dimension.TIMELINESS: Decimal(14),
        Dimension.FEES: Decimal(8),
        Dimension.SATISFACTION: Decimal(10),
        Dimension.ATTITUDE: Decimal(10),
        Dimension.INSPECTION: Decimal(14),
        Dimension.LIABILITY: Decimal(10),
        Dimension.INTEGRITY: Decimal(10),
    }


def _default_alert_points() -> dict[str, Decimal]:
    """Points a dimension loses per alert of a kind (cards are penalised separately)."""
    return {
        AlertKind.LEGAL_BREACH: Decimal(2),
        AlertKind.STEP_OVERRUN: Decimal("0.5"),
        AlertKind.REFUSAL_WITHOUT_REASONS: Decimal(2),
        AlertKind.REPEATED_CORRECTIONS: Decimal(1),
        AlertKind.PAUSE_OVERRUN: Decimal(1),
        AlertKind.FEE_MISMATCH: Decimal(2),
        AlertKind.DECISION_WITHOUT_ACCEPTANCE: Decimal(2),
        AlertKind.TOO_FAST: Decimal(1),
        AlertKind.BAD_RATING: Decimal(1),
        AlertKind.MANUAL: Decimal(2),
    }


def _default_grades() -> dict[str, Decimal]:
    # the lowest score of each grade; below the last: 不合格
    return {"excellent": Decimal(90), "good": Decimal(80), "pass": Decimal(60)}


@dataclass(frozen=True)
class ScoringParams:
    """The published municipal formula (domain.md §3), every number configurable."""

    weights: dict[str, Decimal] = field(default_factory=_default_weights)
    alert_points: dict[str, Decimal] = field(default_factory=_default_alert_points)
    # 期限合法 also loses this many points per 1% of completed cases overdue
    overdue_points_per_percent: Decimal = Decimal(1)
    # 监督检查 loses this many points per correction item not done on time
    late_correction_points: Decimal = Decimal(2)
    # 满意度 = weight × share of ratings at or above this level (no ratings: full marks)
    satisfied_min_level: int = 3
    warnings_run: int = 3  # every run of this many warnings (提醒) …
    warnings_run_penalty: Decimal = Decimal(3)  # … costs this
    yellow_card_penalty: Decimal = Decimal(5)
    red_card_penalty: Decimal = Decimal(10)
    early_bonus_step: Decimal = Decimal("0.10")  # +1 per this share of early completion
    early_bonus_points: Decimal = Decimal(1)
    shortened_threshold: Decimal = Decimal("0.30")  # promises this much shorter than legal …
    shortened_bonus: Decimal = Decimal(3)  # … earn this
    shortened_bonus_step: Decimal = Decimal("0.10")  # and +1 per further step
    shortened_bonus_points: Decimal = Decimal(1)
    incomplete_points_per_percent: Decimal = Decimal(1)
    incomplete_penalty_max: Decimal = Decimal(5)
    grades: dict[str, Decimal] = field(default_factory=_default_grades)


def _coerce(kind: Any, value: Any, name: str, errors: list[str]) -> Any:
    try:
        if kind is int:
            if isinstance(value, bool) or int(value) != Decimal(str(value)) or int(value) < 0:
                raise ValueError
            return int(value)
        if kind is Decimal:
            number = Decimal(str(value))
            if not number.is_finite() or number < 0:
                raise ValueError
            return number
    except (ValueError, ArithmeticError, TypeError):
        errors.append(
            _("参数“%(name)s”应为非负数，收到：%(value)s") % {"name": name, "value": value}
        )
        return None
    return value


def _decimal_map(value: Any, name: str, allowed: list[str], errors: list[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors.append(_("参数“%(name)s”应为对象") % {"name": name})
        return {}
    result = {}
    for key, number in value.items():
        if key not in allowed:
            errors.append(_("参数“%(name)s”中“%(key)s”不是有效项") % {"name": name, "key": key})
            continue
        result[key] = _coerce(Decimal, number, f"{name}.{key}", errors)
    return result


def rule_params_from_dict(data: dict[str, Any]) -> RuleParams:
    """Build and validate; unknown keys and bad values are errors, missing keys default."""
    errors: list[str] = []
    defaults = RuleParams()
    values: dict[str, Any] = {}
    names = {f.name: f for f in dataclasses.fields(RuleParams)}
    for key, value in data.items():
        if key not in names:
            errors.append(_("未知参数：%(name)s") % {"name": key})
            continue
        current = getattr(defaults, key)
        if isinstance(current, bool | str):
            values[key] = value
        elif isinstance(current, int):
            values[key] = _coerce(int, value, key, errors)
        elif isinstance(current, Decimal):
            values[key] = _coerce(Decimal, value, key, errors)
        elif key == "min_handling_minutes":
            if not isinstance(value, dict):
                errors.append(_("参数“%(name)s”应为对象") % {"name": key})
            else:
                values[key] = {
                    str(code): _coerce(int, minutes, f"{key}.{code}", errors)
                    for code, minutes in value.items()
                }
        elif key == "enabled":
            if not isinstance(value, list | tuple) or any(
                kind not in AlertKind.values for kind in value
            ):
                errors.append(_("参数“enabled”应为预警类型列表"))
            else:
                values[key] = tuple(value)
    ratio = values.get("prompt_elapsed_ratio")
    if ratio is not None and ratio >= 1:
        errors.append(_("提醒比例应小于1（例如0.8表示已用80%）"))
    if errors:
        raise ParamsError(errors)
    return dataclasses.replace(defaults, **values)


def scoring_params_from_dict(data: dict[str, Any]) -> ScoringParams:
    errors: list[str] = []
    defaults = ScoringParams()
    values: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(ScoringParams)}
    for key, value in data.items():
        if key not in names:
            errors.append(_("未知参数：%(name)s") % {"name": key})
        elif key == "weights":
            values[key] = {**defaults.weights, **_decimal_map(value, key, Dimension.values, errors)}
        elif key == "alert_points":
            values[key] = {
                **defaults.alert_points,
                **_decimal_map(value, key, AlertKind.values, errors),
            }
        elif key == "grades":
            grades = {**defaults.grades, **_decimal_map(value, key, list(defaults.grades), errors)}
            if not grades["excellent"] >= grades["good"] >= grades["pass"]:
                errors.append(_("等级分数线应满足：优秀 ≥ 良好 ≥ 合格"))
            values[key] = grades
        elif isinstance(getattr(defaults, key), int) and not isinstance(
            getattr(defaults, key), bool
        ):
            values[key] = _coerce(int, value, key, errors)
        else:
            values[key] = _coerce(Decimal, value, key, errors)
    if errors:
        raise ParamsError(errors)
    return dataclasses.replace(defaults, **values)


def params_to_dict(params: RuleParams | ScoringParams) -> dict[str, Any]:
    """JSON-safe form (decimals as strings) for storing a version."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    return {f.name: plain(getattr(params, f.name)) for f in dataclasses.fields(params)}
