"""Evaluation (绩效评估): periods, indicators, the scoring formula term by term, ranking.

The hand-built city (2026; March has no holidays, tests fall back to Monday–Friday):

市场监管局 (SCJGJ, handler zhang), all promised cases legal 20 / promised 10 days:
  M1 opened+accepted 2 Mar, closed 9 Mar (5 working days, early), rated 5
  M2 opened+accepted 2 Mar, closed 20 Mar (14 days, overdue → yellow card on 17 Mar)
  M3 instant, opened+accepted+closed 3 Mar (0 days)
  M4 opened+accepted 5 Mar, still running
  M5 opened+accepted 26 Feb, closed 4 Mar (4 days, early), rated 2 (bad rating)
  M6 opened+accepted 1 Apr, closed 2 Apr (1 day, early)
卫健委 (WJW, handler li), legal 20 / promised 20 days (nothing shortened):
  H1 opened+accepted 2 Mar, closed 6 Mar (4 days, early)
  H2 the same without a handler (incomplete data), closed 10 Mar (6 days, early)
  H3 opened+accepted 3 Mar, refused without reasons and closed 4 Mar (1 day, early)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest

from tongban.apps.supervision import evaluation
from tongban.apps.supervision.evaluation import (
    Indicators,
    Period,
    PeriodInvalid,
    department_scores,
    indicators_for,
    period_parse,
    score_of,
)
from tongban.apps.supervision.models import Dimension
from tongban.apps.supervision.rules import ScoringParams
from tongban.apps.supervision.tests.conftest import at, event

TODAY = dt.date(2026, 4, 15)
MARCH = Period(2026, "month", 3)


def _case(city, key, opened, closed=None, *, department="SCJGJ", unit="SCJGJ-XK", **fields):
    base = {
        "department": department,
        "unit": unit,
        "item_code": "ITEM-1",
        "item_name": "食品经营许可",
        "case_type": "promised",
        "legal_limit_days": 20,
        "promised_limit_days": 10,
        **fields,
    }
    if not base.get("handler"):
        base.pop("handler", None)
    events = [event("opened", key, opened, **base), event("accepted", key, opened)]
    city.ingest(*events, now=opened + dt.timedelta(minutes=1))
    if closed is not None:
        city.ingest(event("closed", key, closed), now=closed + dt.timedelta(minutes=1))


def build_figures(city):
    """Ingest the hand-built cases of the module docstring into ``city``."""
    _case(city, "M1", at(2026, 3, 2), at(2026, 3, 9, 15), handler="zhang")
    city.ingest(event("rated", "M1", at(2026, 3, 9, 16), rating=5))
    _case(city, "M2", at(2026, 3, 2), at(2026, 3, 20, 15), handler="zhang")
    _case(
        city,
        "M3",
        at(2026, 3, 3),
        at(2026, 3, 3, 11),
        handler="zhang",
        case_type="instant",
        legal_limit_days=0,
        promised_limit_days=0,
    )
    _case(city, "M4", at(2026, 3, 5), handler="zhang")
    _case(city, "M5", at(2026, 2, 26), at(2026, 3, 4, 15), handler="zhang")
    city.ingest(event("rated", "M5", at(2026, 3, 4, 16), rating=2))
    _case(city, "M6", at(2026, 4, 1), at(2026, 4, 2, 15), handler="zhang")
    health = {"department": "WJW", "unit": "WJW-YZ", "promised_limit_days": 20}
    _case(city, "H1", at(2026, 3, 2), at(2026, 3, 6, 15), handler="li", **health)
    _case(city, "H2", at(2026, 3, 2), at(2026, 3, 10, 15), **health)
    _case(city, "H3", at(2026, 3, 3), handler="li", **health)
    city.ingest(
        event("decided", "H3", at(2026, 3, 4, 10), outcome="refused"),
        event("closed", "H3", at(2026, 3, 4, 11)),
    )
    return city


@pytest.fixture
def figures_city(city):
    return build_figures(city)


# --------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("text", "start", "end", "label"),
    [
        ("2026-03", dt.date(2026, 3, 1), dt.date(2026, 3, 31), "2026年3月"),
        ("2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28), "2026年2月"),
        ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026年第一季度"),
        ("2026-q4", dt.date(2026, 10, 1), dt.date(2026, 12, 31), "2026年第四季度"),
        ("2026-H1", dt.date(2026, 1, 1), dt.date(2026, 6, 30), "2026年上半年"),
        ("2026-H2", dt.date(2026, 7, 1), dt.date(2026, 12, 31), "2026年下半年"),
        ("2026", dt.date(2026, 1, 1), dt.date(2026, 12, 31), "2026年度"),
    ],
)
def test_periods_parse_to_their_first_and_last_day(text, start, end, label):
    period = period_parse(text)
    assert (period.start, period.end, period.label) == (start, end, label)
    assert period_parse(period.key) == period


def test_half_years_and_years_are_means_of_their_months():
    assert [m.key for m in period_parse("2026-H2").months()] == [
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-11",
        "2026-12",
    ]
    assert period_parse("2026-H1").is_mean_of_months
    assert period_parse("2026").is_mean_of_months
    assert not period_parse("2026-Q1").is_mean_of_months


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请选择评估期间"),
        ("2026-13", "月份应为1至12：2026-13"),
        ("2026-Q5", "季度应为Q1至Q4：2026-Q5"),
        ("2026-H3", "半年应为H1或H2：2026-H3"),
        ("1999", "年份超出范围（2000–2100）：1999"),
        ("March", "评估期间格式不正确：March（应为2026-03、2026-Q1、2026-H1或2026）"),
    ],
)
def test_bad_periods_are_refused_in_chinese(text, message):
    with pytest.raises(PeriodInvalid) as error:
        period_parse(text)
    assert error.value.message == message


# --------------------------------------------------------------------------- indicators


def test_the_indicators_of_each_department_are_exact(figures_city):
    city = figures_city
    rows = indicators_for(period=MARCH, today=TODAY)
    market = rows[city.market.pk]
    assert (market.received, market.completed) == (4, 4)
    assert market.completion_rate == Fraction(1)
    assert (market.instant, market.committed, market.early) == (1, 3, 2)
    assert market.early_rate == Fraction(2, 3)
    assert (market.overdue, market.overdue_rate) == (1, Fraction(1, 4))
    assert (market.days_sum, market.days_count, market.average_days) == (23, 4, Fraction(23, 4))
    assert (market.pause_days, market.incomplete) == (0, 0)
    assert (market.rated, market.satisfied) == (2, 1)
    assert (market.shortened_cases, market.shortened_mean) == (3, Fraction(1, 2))
    assert market.alerts == {"yellow_card": 1, "bad_rating": 1}
    assert (market.corrections_due, market.corrections_on_time, market.corrections_late) == (
        2,
        0,
        2,
    )
    health = rows[city.health.pk]
    assert (health.received, health.completed, health.committed, health.early) == (3, 3, 3, 3)
    assert health.incomplete == 1
    assert health.average_days == Fraction(11, 3)
    assert health.alerts == {"refusal_without_reasons": 1}
    assert health.shortened_mean == Fraction(0)
    assert health.satisfaction_rate is None


def test_completion_can_exceed_received_and_a_quarter_counts_its_months(figures_city):
    city = figures_city
    february = indicators_for(period=Period(2026, "month", 2), today=TODAY)[city.market.pk]
    assert (february.received, february.completed, february.completion_rate) == (1, 0, 0)
    quarter = indicators_for(period=period_parse("2026-Q1"), today=TODAY)[city.market.pk]
    assert (quarter.received, quarter.completed) == (5, 4)
    assert quarter.completion_rate == Fraction(4, 5)
    april = indicators_for(period=Period(2026, "month", 4), today=TODAY)[city.market.pk]
    assert april.received == 1
    assert april.completion_rate == Fraction(1)
    empty = indicators_for(period=Period(2026, "month", 5), today=TODAY)
    assert empty == {}


def test_units_and_staff_have_their_own_rows(figures_city):
    city = figures_city
    units = indicators_for(period=MARCH, level="unit", today=TODAY)
    assert units[(city.market.pk, city.market_unit.pk)].completed == 4
    assert units[(city.health.pk, city.health_unit.pk)].completed == 3
    staff = indicators_for(period=MARCH, level="staff", today=TODAY)
    assert staff[(city.health.pk, "li")].completed == 2
    assert staff[(city.health.pk, "")].completed == 1
    assert staff[(city.health.pk, "li")].alerts == {"refusal_without_reasons": 1}
    assert staff[(city.market.pk, "zhang")].corrections_due == 2
    narrowed = indicators_for(period=MARCH, departments=[city.health.pk], today=TODAY)
    assert list(narrowed) == [city.health.pk]


# --------------------------------------------------------------------------- the score


def test_the_score_of_each_department_term_by_term(figures_city):
    city = figures_city
    scores = department_scores(period=MARCH, today=TODAY)
    market = scores[city.market.pk]
    assert market.dimensions == {
        Dimension.DISCLOSURE: 10,
        Dimension.PROCESS: 14,
        Dimension.TIMELINESS: 0,  # 14 − 25% overdue × 1, floored at 0
        Dimension.FEES: 8,
        Dimension.SATISFACTION: 5,  # 10 × 1 of 2 ratings satisfied
        Dimension.ATTITUDE: 9,  # a bad rating −1
        Dimension.INSPECTION: 10,  # 2 corrections late × 2
        Dimension.LIABILITY: 10,
        Dimension.INTEGRITY: 10,
    }
    assert market.deductions[Dimension.TIMELINESS] == 25
    assert market.base == 76
    assert (market.yellow_penalty, market.red_penalty, market.warnings_penalty) == (5, 0, 0)
    assert market.early_bonus == 6  # 66.67% early → 6 steps of 10%
    assert market.shortened_bonus == 5  # promises 50% shorter: +3, +1 per further 10%
    assert market.incomplete_penalty == 0
    assert market.total == 82
    assert market.grade == "good"
    health = scores[city.health.pk]
    assert health.dimensions[Dimension.LIABILITY] == 8
    assert health.dimensions[Dimension.INSPECTION] == 12
    assert health.dimensions[Dimension.SATISFACTION] == 10  # no ratings: full marks
    assert health.base == 96
    assert health.early_bonus == 10
    assert health.shortened_bonus == 0
    assert health.incomplete_penalty == 5  # 33% incomplete, at most −5
    assert health.total == 101
    assert health.grade == "excellent"


def test_a_quarter_is_computed_directly_and_a_half_year_is_the_mean_of_months(figures_city):
    city = figures_city
    quarter = department_scores(period=period_parse("2026-Q1"), today=TODAY)
    assert quarter[city.market.pk].total == 82
    assert quarter[city.market.pk].months == []
    half = department_scores(period=period_parse("2026-H1"), today=TODAY)
    market = half[city.market.pk]
    # February (a received case only): 100; March: 82; April: 100 + 10 early + 5 shortened
    assert [(p.key, s.total) for p, s in market.months] == [
        ("2026-02", 100),
        ("2026-03", 82),
        ("2026-04", 115),
    ]
    assert market.total == 99
    assert market.grade == "excellent"
    assert half[city.health.pk].total == 101
    year = department_scores(period=period_parse("2026"), today=TODAY)
    assert year[city.market.pk].total == 99


def test_ranking_orders_by_score_and_lists_departments_without_data_last(figures_city):
    city = figures_city
    from tests import factories

    idle = factories.department(city.market.division, "JYJ", "示范市教育局")
    scores = department_scores(period=MARCH, today=TODAY)
    entries = evaluation.ranking(
        scores=scores,
        departments=[
            (city.market.pk, city.market.name),
            (city.health.pk, city.health.name),
            (idle.pk, idle.name),
        ],
    )
    assert [(e.position, e.name) for e in entries] == [
        (1, "示范市卫生健康委员会"),
        (2, "示范市市场监督管理局"),
        (None, "示范市教育局"),
    ]
    assert entries[2].score is None


def test_ties_are_ranked_by_name():
    score = score_of(Indicators(received=1), ScoringParams())
    entries = evaluation.ranking(
        scores={1: score, 2: score}, departments=[(2, "甲局"), (1, "乙局")]
    )
    assert [(e.position, e.name) for e in entries] == [(1, "乙局"), (2, "甲局")]


# the formula terms one by one, on hand-made figures


def test_a_clean_department_scores_one_hundred():
    score = score_of(Indicators(received=1, completed=1, committed=1), ScoringParams())
    assert score.total == 100
    assert score.grade == "excellent"


def test_every_run_of_three_prompts_costs_three_points():
    figures = Indicators(received=1, alert_groups={("prompt_days", "timeliness", "prompt"): 7})
    score = score_of(figures, ScoringParams())
    assert score.warnings_penalty == 6  # two runs of three; the seventh starts a third
    assert score.dimensions[Dimension.TIMELINESS] == 14  # prompts cost no dimension points
    assert score.total == 94


def test_cards_cost_five_and_ten():
    figures = Indicators(
        received=1,
        alerts={"yellow_card": 2, "red_card": 1},
        alert_groups={
            ("yellow_card", "timeliness", "yellow"): 2,
            ("red_card", "timeliness", "red"): 1,
        },
    )
    score = score_of(figures, ScoringParams())
    assert (score.yellow_penalty, score.red_penalty) == (10, 10)
    assert score.total == 80
    assert score.grade == "good"


def test_alert_points_come_off_the_alerts_dimension_floored_at_zero():
    figures = Indicators(
        received=1,
        alert_groups={
            ("fee_mismatch", "fees", "warning"): 5,  # 5 × 2 = 10 > weight 8
            ("manual", "integrity", "warning"): 1,  # a manual alert on 廉洁行政: −2
        },
    )
    score = score_of(figures, ScoringParams())
    assert score.deductions[Dimension.FEES] == 10
    assert score.dimensions[Dimension.FEES] == 0
    assert score.dimensions[Dimension.INTEGRITY] == 8
    assert score.total == 90


def test_overdue_points_are_exact_per_percent():
    figures = Indicators(received=3, completed=3, overdue=1)
    score = score_of(figures, ScoringParams())
    assert score.deductions[Dimension.TIMELINESS] == Fraction(100, 3)
    figures = Indicators(received=8, completed=8, overdue=1)  # 12.5%
    score = score_of(figures, ScoringParams())
    assert score.dimensions[Dimension.TIMELINESS] == Fraction(3, 2)
    assert evaluation.display(score.total) == Decimal("87.50")


def test_early_bonus_steps_start_at_ten_percent():
    def bonus(early, committed):
        figures = Indicators(received=1, completed=committed, committed=committed, early=early)
        return score_of(figures, ScoringParams()).early_bonus

    assert bonus(9, 100) == 0
    assert bonus(10, 100) == 1
    assert bonus(19, 100) == 1
    assert bonus(20, 100) == 2
    assert bonus(100, 100) == 10


def test_shortened_promise_bonus_starts_at_thirty_percent():
    def bonus(mean):
        figures = Indicators(received=1, shortened_cases=1, shortened_sum=Fraction(mean))
        return score_of(figures, ScoringParams()).shortened_bonus

    assert bonus("0.29") == 0
    assert bonus("0.3") == 3
    assert bonus("0.39") == 3
    assert bonus("0.4") == 4
    assert bonus("0.75") == 7


def test_incomplete_data_costs_one_point_per_percent_at_most_five():
    def penalty(incomplete, completed):
        figures = Indicators(received=1, completed=completed, incomplete=incomplete)
        return score_of(figures, ScoringParams()).incomplete_penalty

    assert penalty(0, 100) == 0
    assert penalty(1, 200) == 0  # 0.5%
    assert penalty(3, 100) == 3
    assert penalty(30, 100) == 5


def test_satisfaction_is_the_weight_times_the_share_of_good_ratings():
    figures = Indicators(received=1, completed=4, rated=4, satisfied=3)
    score = score_of(figures, ScoringParams())
    assert score.dimensions[Dimension.SATISFACTION] == Fraction(15, 2)


def test_late_corrections_cost_the_inspection_dimension():
    figures = Indicators(received=1, corrections_due=3, corrections_late=2)
    assert score_of(figures, ScoringParams()).dimensions[Dimension.INSPECTION] == 10


@pytest.mark.parametrize(
    ("total", "grade"),
    [(90, "excellent"), (Fraction(17999, 200), "good"), (80, "good"), (60, "pass"), (59, "fail")],
)
def test_grades_follow_the_configured_thresholds(total, grade):
    assert evaluation.grade_of(Fraction(total), ScoringParams()) == grade


def test_weights_are_configurable(figures_city):
    from tongban.apps.supervision import config

    config.scoring_update(
        actor=figures_city.supervisor,
        data={"weights": {"attitude": "20"}, "grades": {"excellent": "120"}},
        note="加重服务态度",
    )
    scores = department_scores(period=MARCH, today=TODAY)
    assert scores[figures_city.market.pk].dimensions[Dimension.ATTITUDE] == 19
    assert scores[figures_city.market.pk].total == 92
    assert scores[figures_city.health.pk].grade == "good"


def test_display_rounds_half_up_to_two_decimals_only_at_the_end():
    assert evaluation.display(Fraction(2, 3), percent=True) == Decimal("66.67")
    assert evaluation.display(Fraction(1, 8)) == Decimal("0.13")
    assert evaluation.display(None) is None


def test_the_monthly_trend_counts_received_completed_and_overdue(figures_city):
    points = evaluation.trend(until=period_parse("2026-Q2"), months=4)
    assert [(p.month.key, p.received, p.completed, p.overdue) for p in points] == [
        ("2026-03", 7, 7, 1),
        ("2026-04", 1, 1, 0),
        ("2026-05", 0, 0, 0),
        ("2026-06", 0, 0, 0),
    ]
    assert points[0].overdue_rate == Fraction(1, 7)
    assert points[2].completion_rate is None
