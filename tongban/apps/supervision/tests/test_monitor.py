"""The monitoring screen and the case list: exact figures on a hand-built city, the
department lights, drill-down lists that match their figures, and scoping."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tongban.apps.supervision import selectors
from tongban.apps.supervision.models import Alert, AlertKind, SupervisedCase
from tongban.apps.supervision.selectors import CaseFilters
from tongban.apps.supervision.tests.conftest import City, at, event

# 2026-03: Mon 2, Mon 9, Mon 16 (no holidays); "today" is Mon 16 March, 09:00
TODAY = dt.date(2026, 3, 16)
NOW = at(2026, 3, 16, 9)


def accepted(
    case: str,
    department: str,
    when: dt.datetime,
    promised: dt.date,
    legal: dt.date,
    *,
    handler: str = "zhang",
    limit: int = 10,
) -> list[dict[str, Any]]:
    unit = {"SCJGJ": "SCJGJ-XK", "WJW": "WJW-YZ"}[department]
    fields = {"promised_deadline": promised.isoformat(), "legal_deadline": legal.isoformat()}
    return [
        event(
            "opened",
            case,
            when,
            department=department,
            unit=unit,
            handler=handler,
            item_code="ITEM-1",
            item_name="食品经营许可",
            case_type="promised",
            legal_limit_days=20,
            promised_limit_days=limit,
            **fields,
        ),
        event("accepted", case, when, **fields),
    ]


def build(city: City) -> dict[str, SupervisedCase]:
    """Market (SCJGJ): two running cases past their promise (M6 also past its legal limit),
    one near its limit, one just received, one paused, one closed early.
    Health (WJW): one running on time, one closed and rated badly today, one closed late.
    Education (JYJ): nothing at all."""
    d = dt.date
    factories.department(city.market.division, "JYJ", "示范市教育局")
    city.ingest(
        *accepted("M1", "SCJGJ", at(2026, 3, 2), d(2026, 3, 13), d(2026, 3, 27)),
        *accepted("M2", "SCJGJ", at(2026, 3, 9), d(2026, 3, 18), d(2026, 4, 1), limit=7),
        event("opened", "M3", at(2026, 3, 16, 8), department="SCJGJ", item_code="ITEM-2"),
        *accepted("M4", "SCJGJ", at(2026, 3, 2), d(2026, 3, 20), d(2026, 4, 3)),
        event("decided", "M4", at(2026, 3, 10), outcome="approved"),
        event("closed", "M4", at(2026, 3, 10, 11)),
        *accepted("M5", "SCJGJ", at(2026, 3, 2), d(2026, 3, 10), d(2026, 3, 30)),
        event("paused", "M5", at(2026, 3, 5), pause_kind="hearing", pause_planned_days=30),
        *accepted("M6", "SCJGJ", at(2026, 2, 2), d(2026, 2, 13), d(2026, 3, 6)),
        *accepted("H1", "WJW", at(2026, 3, 2), d(2026, 3, 20), d(2026, 4, 10), handler="li"),
        *accepted("H2", "WJW", at(2026, 3, 2), d(2026, 3, 20), d(2026, 4, 10), handler="li"),
        event("decided", "H2", at(2026, 3, 12), outcome="approved"),
        event("closed", "H2", at(2026, 3, 12, 11)),
        event("rated", "H2", at(2026, 3, 16, 8), rating=1),
        *accepted("H3", "WJW", at(2026, 3, 2), d(2026, 3, 4), d(2026, 3, 30), handler="li"),
        event("decided", "H3", at(2026, 3, 6), outcome="approved"),
        event("closed", "H3", at(2026, 3, 6, 11)),
        now=NOW,
    )
    return {case.key: case for case in SupervisedCase.objects.all()}


def keys(queryset: Any) -> list[str]:
    return sorted(case.key for case in queryset)


def listed(actor: Any, **query: str) -> list[str]:
    filters = CaseFilters.from_query(query)
    assert filters.errors == []
    return keys(selectors.case_list_for(actor=actor, filters=filters, today=TODAY))


def test_the_hand_built_city_raises_the_expected_alerts(city):
    build(city)
    found = sorted(Alert.objects.exclude(severity="prompt").values_list("case__key", "kind"))
    assert found == [
        ("H2", "bad_rating"),
        ("H3", "yellow_card"),
        ("M1", "yellow_card"),
        ("M6", "legal_breach"),
        ("M6", "yellow_card"),
    ]


def test_overview_figures_are_exact(city):
    build(city)
    overview = selectors.overview_for(actor=city.supervisor, today=TODAY)
    assert overview.near_until == dt.date(2026, 3, 19)
    assert overview.running == 6
    assert [(row.status, row.count) for row in overview.by_status] == [
        ("received", 1),
        ("correction", 0),
        ("accepted", 4),
        ("paused", 1),
    ]
    assert (overview.overdue, overview.legal, overview.near) == (2, 1, 1)
    assert overview.alerts_today == 1
    assert overview.alerts_today_by_severity == {"warning": 1}
    assert [
        (alert.case.key if alert.case else "", alert.kind) for alert in overview.latest_alerts
    ] == [("H2", AlertKind.BAD_RATING)]


def test_department_lights(city):
    build(city)
    overview = selectors.overview_for(actor=city.supervisor, today=TODAY)
    lights = {d.code: d for d in overview.departments}
    assert [d.code for d in overview.departments] == ["SCJGJ", "WJW", "JYJ"]  # red first
    market, health, education = lights["SCJGJ"], lights["WJW"], lights["JYJ"]
    assert market.colour == "red"
    assert (market.running, market.overdue, market.legal, market.near) == (5, 2, 1, 1)
    assert market.open_alerts == {"yellow": 2, "legal": 1}
    assert (market.red_alerts, market.yellow_alerts, market.alerts_today) == (1, 2, 0)
    assert health.colour == "yellow"
    assert (health.running, health.overdue, health.legal, health.near) == (1, 0, 0, 0)
    assert health.open_alerts == {"yellow": 1, "warning": 1}
    assert health.alerts_today == 1
    assert education.colour == "green"
    assert (education.running, education.red_alerts, education.yellow_alerts) == (0, 0, 0)
    assert overview.lights == {"red": 1, "yellow": 1, "green": 1}


def test_closing_the_alerts_turns_a_department_green(city):
    build(city)
    Alert.objects.filter(department=city.health).update(state="closed")
    overview = selectors.overview_for(actor=city.supervisor, today=TODAY)
    assert {d.code: d.colour for d in overview.departments}["WJW"] == "green"
    # a case near its limit alone makes a department yellow
    overview = selectors.overview_for(actor=city.supervisor, today=dt.date(2026, 3, 17))
    health = {d.code: d for d in overview.departments}["WJW"]
    assert (health.near, health.colour) == (1, "yellow")


def test_the_trend_counts_by_day(city):
    build(city)
    trend = selectors.trend_for(actor=city.supervisor, today=TODAY)
    assert len(trend.days) == 30
    assert (trend.days[0], trend.days[-1]) == (dt.date(2026, 2, 15), TODAY)
    received = {day: n for day, n in zip(trend.days, trend.received, strict=True) if n}
    completed = {day: n for day, n in zip(trend.days, trend.completed, strict=True) if n}
    alerts = {day: n for day, n in zip(trend.days, trend.alerts, strict=True) if n}
    assert received == {dt.date(2026, 3, 2): 6, dt.date(2026, 3, 9): 1, TODAY: 1}
    assert completed == {
        dt.date(2026, 3, 6): 1,
        dt.date(2026, 3, 10): 1,
        dt.date(2026, 3, 12): 1,
    }
    # M1's and H3's yellow cards fall on the day after their promised deadline
    assert alerts[dt.date(2026, 3, 14)] == 1  # M1 (deadline Fri 13)
    assert alerts[dt.date(2026, 3, 5)] == 1  # H3 (deadline Wed 4)
    assert alerts[TODAY] == 1
    in_range = Alert.objects.filter(occurred_on__gte=dt.date(2026, 2, 15)).count()
    assert sum(trend.alerts) == in_range


def test_drill_down_lists_match_the_figures(city):
    build(city)
    supervisor = city.supervisor
    overview = selectors.overview_for(actor=supervisor, today=TODAY)
    assert listed(supervisor, status="running") == ["H1", "M1", "M2", "M3", "M5", "M6"]
    assert len(listed(supervisor, status="running")) == overview.running
    for row in overview.by_status:
        assert len(listed(supervisor, status=row.status)) == row.count
    assert listed(supervisor, status="running", overdue="1") == ["M1", "M6"]
    assert listed(supervisor, status="running", legal="1") == ["M6"]
    assert listed(supervisor, near="1") == ["M2"]
    for department in overview.departments:
        pk = str(department.department_id)
        assert len(listed(supervisor, status="running", department=pk)) == department.running
        assert (
            len(listed(supervisor, status="running", overdue="1", department=pk))
            == department.overdue
        )
        assert len(listed(supervisor, near="1", department=pk)) == department.near
    # the trend's days
    assert listed(supervisor, date="2026-03-02") == ["H1", "H2", "H3", "M1", "M4", "M5"]
    assert listed(supervisor, status="completed", date="2026-03-10") == ["M4"]


def test_case_list_filters_for_reports(city):
    build(city)
    supervisor = city.supervisor
    assert listed(supervisor, overdue="1") == ["H3", "M1", "M6"]
    assert listed(supervisor, status="completed", overdue="1") == ["H3"]
    assert listed(supervisor, status="completed", early="1") == ["H2", "M4"]
    assert listed(supervisor, kind="yellow_card") == ["H3", "M1", "M6"]
    assert listed(supervisor, period="2026-03") == [
        "H1", "H2", "H3", "M1", "M2", "M3", "M4", "M5"
    ]  # fmt: skip
    assert listed(supervisor, period="2026-Q1", status="completed") == ["H2", "H3", "M4"]
    assert listed(supervisor, period="2026-02") == ["M6"]
    assert listed(supervisor, handler="li", status="completed") == ["H2", "H3"]
    assert listed(supervisor, unit=str(city.health_unit.pk)) == ["H1", "H2", "H3"]
    assert listed(supervisor, type="instant") == []
    assert listed(supervisor, q="M") == ["M1", "M2", "M3", "M4", "M5", "M6"]


def test_bad_filters_are_reported_not_applied():
    filters = CaseFilters.from_query(
        {
            "status": "nope",
            "period": "2026-Q5",
            "date": "16/03/2026",
            "kind": "x",
            "department": "a",
        }
    )
    assert filters.errors == [
        "状态无效：nope",
        "筛选条件“承办部门”无效",
        "预警类型无效：x",
        "日期格式应为YYYY-MM-DD",
        "期间格式应为2026、2026-03、2026-Q1或2026-H1",
    ]
    assert (filters.status, filters.period, filters.day, filters.kind) == ("", "", None, "")


def test_period_bounds():
    assert selectors.period_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert selectors.period_bounds("2026-Q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert selectors.period_bounds("2026-H1") == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    assert selectors.period_bounds("2026") == (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    with pytest.raises(ValueError, match="期间格式"):
        selectors.period_bounds("2026-13")


def test_a_department_officer_sees_only_its_department(city):
    build(city)
    overview = selectors.overview_for(actor=city.handler, today=TODAY)
    assert [d.code for d in overview.departments] == ["SCJGJ"]
    assert (overview.running, overview.overdue, overview.near, overview.alerts_today) == (
        5,
        2,
        1,
        0,
    )
    health = selectors.overview_for(actor=city.health_handler, today=TODAY)
    assert [d.code for d in health.departments] == ["WJW"]
    assert (health.running, health.alerts_today) == (1, 1)
    assert listed(city.health_handler) == ["H1", "H2", "H3"]
    # asking for the other department's cases gives nothing
    assert listed(city.health_handler, department=str(city.market.pk)) == []
    trend = selectors.trend_for(actor=city.health_handler, today=TODAY)
    assert sum(trend.received) == 3


def test_no_grant_no_figures(city):
    build(city)
    nobody = factories.staff("nobody", city.market_unit)
    overview = selectors.overview_for(actor=nobody, today=TODAY)
    assert (overview.running, overview.departments, overview.alerts_today) == (0, [], 0)


# ---------------------------------------------------------------------------------------
# pages (the real "today": data placed relative to it)


def recent_city(city: City) -> None:
    """Running cases around the real today: R1 past its promise, R2 on time; one in
    health, near its limit."""
    from tongban.platform.calendar.services import get_calendar

    calendar = get_calendar()
    today = timezone.localdate()
    start = timezone.now() - dt.timedelta(days=20)
    city.ingest(
        *accepted("R1", "SCJGJ", start, today - dt.timedelta(days=3), today + dt.timedelta(40)),
        *accepted("R2", "SCJGJ", start, today + dt.timedelta(days=30), today + dt.timedelta(40)),
        *accepted(
            "R3", "WJW", start, calendar.add_working_days(today, 1), today + dt.timedelta(40)
        ),
        event("step_started", "R2", start + dt.timedelta(hours=1), step_name="审查"),
        now=timezone.now(),
    )


def figure(html: str, name: str) -> int:
    match = re.search(
        rf'data-figure="{name}">\s*<span class="sv-tile-label">[^<]*</span>'
        r'<span class="sv-tile-value">(\d+)</span>',
        html,
    )
    assert match, name
    return int(match.group(1))


def test_the_monitoring_page_shows_the_figures_and_links_them(client, city):
    recent_city(city)
    client.force_login(city.supervisor)
    response = client.get(reverse("supervision:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert (figure(html, "running"), figure(html, "overdue"), figure(html, "near")) == (3, 1, 1)
    assert 'href="/supervision/cases/?status=running&amp;overdue=1"' in html
    assert 'href="/supervision/cases/?near=1"' in html
    assert re.search(r'<tr class="sv-row-red" data-department="SCJGJ">', html)
    assert re.search(r'<tr class="sv-row-yellow" data-department="WJW">', html)
    assert 'id="monitor-trend"' in html
    assert 'id="monitor-trend-data"' in html
    assert 'hx-trigger="every 60s"' in html
    # the sub-navigation: the supervisor may open rules but not the intake systems
    assert 'href="/supervision/"' in html
    assert 'aria-current="page">监控</a>' in html
    assert "规则设置" in html
    assert "接入系统" not in html

    figures = client.get(reverse("supervision:home_figures"))
    assert figures.status_code == 200
    assert figures.content.decode().lstrip().startswith('<div id="monitor-figures"')


def test_the_case_list_page_drills_down(client, city):
    recent_city(city)
    client.force_login(city.supervisor)
    response = client.get(reverse("supervision:cases"), {"status": "running", "overdue": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="1"' in html
    assert ">R1</a>" in html
    assert ">R2</a>" not in html
    assert 'class="sv-overdue"' in html
    assert 'class="sv-badge sv-yellow">黄牌 1</span>' in html  # R1's yellow card
    response = client.get(reverse("supervision:cases"), {"period": "2026-Q9"})
    assert "期间格式应为" in response.content.decode()


def test_the_case_page_shows_projection_events_and_alerts(client, city):
    recent_city(city)
    case = SupervisedCase.objects.get(key="R1")
    client.force_login(city.supervisor)
    response = client.get(reverse("supervision:case", args=[case.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "示范市市场监督管理局" in html
    assert html.index("<strong>收件</strong>") < html.index("<strong>受理</strong>")
    assert f'href="/supervision/alerts/{case.alerts.get(kind="yellow_card").pk}/"' in html
    assert f'href="/supervision/alerts/new/?case={case.pk}"' in html  # ALERT_OPEN


def test_the_manual_alert_button_needs_alert_open(client, city):
    recent_city(city)
    case = SupervisedCase.objects.get(key="R1")
    client.force_login(city.handler)
    response = client.get(reverse("supervision:case", args=[case.pk]))
    assert response.status_code == 200
    assert "/supervision/alerts/new/" not in response.content.decode()


def test_another_departments_case_is_a_404_and_its_figures_are_hidden(client, city):
    recent_city(city)
    market_case = SupervisedCase.objects.get(key="R1")
    client.force_login(city.health_handler)
    assert client.get(reverse("supervision:case", args=[market_case.pk])).status_code == 404
    assert client.get(reverse("supervision:case", args=[999999])).status_code == 404
    html = client.get(reverse("supervision:home")).content.decode()
    assert "示范市市场监督管理局" not in html
    assert figure(html, "running") == 1
    listing = client.get(reverse("supervision:cases")).content.decode()
    assert ">R3</a>" in listing
    assert ">R1</a>" not in listing


@pytest.mark.parametrize("name", ["home", "home_figures", "cases"])
def test_pages_need_monitor_view(client, city, name):
    client.force_login(factories.staff("nobody", city.market_unit))
    assert client.get(reverse(f"supervision:{name}")).status_code == 403


def test_the_case_page_needs_monitor_view(client, city):
    recent_city(city)
    case = SupervisedCase.objects.get(key="R1")
    client.force_login(factories.staff("nobody", city.market_unit))
    assert client.get(reverse("supervision:case", args=[case.pk])).status_code == 403
    client.logout()
    response = client.get(reverse("supervision:case", args=[case.pk]))
    assert response.status_code == 302
