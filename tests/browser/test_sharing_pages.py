"""Data sharing in a real browser: a citizen finds, from the personal space, which
department read their data and reports one use as improper (the report goes on to
supervision); a city data administrator browses the resource catalogue and the statistics
page draws its ECharts."""

from __future__ import annotations

import datetime as dt

import pytest

from tests import factories
from tests.browser.conftest import log_in, screenshot
from tongban.apps.sharing import permissions, stats
from tongban.apps.sharing.models import AccessReport, ReportStatus
from tongban.apps.sharing.tests.fixtures_calls import (  # noqa: F401  (fixture)
    SharingCity,
    id_of,
    local,
    sharing_city_fixture,
)
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.events.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _a_month_of_calls(city: SharingCity) -> None:
    citizen = id_of(city.citizen_a)
    for days_ago in range(0, 28, 3):
        city.call(
            at=local(city.today - dt.timedelta(days=days_ago), 9 + days_ago % 8),
            resource=city.person_resource if days_ago % 2 else city.licence_resource,
            system=city.health_system if days_ago % 2 else city.civil_system,
            subjects=[citizen] if days_ago in (0, 9) else [id_of(city.citizen_b)],
            purpose="办理出生医学证明" if days_ago % 2 else "婚姻登记身份核验",
            case_number=f"2026{days_ago:04d}",
        )


def test_a_citizen_sees_who_used_their_data_and_reports_one_use(page, sharing_city):
    city = sharing_city
    _a_month_of_calls(city)
    log_in(page, "citizen_a")
    page.goto("/me/")
    page.get_by_role("link", name="谁使用了我的数据").click()
    rows = page.locator("section[aria-labelledby=uses-heading] table tbody tr")
    assert rows.count() == 2  # citizen B's uses are not shown
    assert "婚姻登记系统" in rows.first.inner_text()
    assert "示范市民政局" in rows.first.inner_text()
    rows.first.get_by_role("link", name="举报不当使用").click()
    page.get_by_label("举报理由").fill("我近期没有办理婚姻登记，不应查询我的信息。")
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_url(lambda url: url.endswith("/sharing/my-data/"))
    assert "已举报" in rows.first.inner_text()
    reports = page.locator("section[aria-labelledby=reports-heading] table tbody tr")
    assert "已转电子监察" in reports.first.inner_text()
    screenshot(page, "sharing-my-data")
    report = AccessReport.objects.get()
    assert report.reporter == city.citizen_a
    assert report.status == ReportStatus.FORWARDED
    assert Event.objects.filter(name="sharing.access.reported").count() == 1


def test_the_data_administrator_browses_the_catalogue_and_the_statistics(page, sharing_city):
    city = sharing_city
    _a_month_of_calls(city)
    for days_ago in range(0, 30):
        stats.daily_stats_rollup(day=city.today - dt.timedelta(days=days_ago))
    RoleAssignment.objects.create(
        user=city.city_viewer,
        role=factories.role("catalogue_viewer", [permissions.CATALOGUE_VIEW]),
        scope=Scope.ALL,
    )
    log_in(page, "tongji")
    page.goto("/sharing/catalogue/")
    page.get_by_role("link", name="人口基础信息").first.click()
    assert "1010010001" in page.content()
    assert "示范市公安局" in page.content()
    page.goto("/sharing/stats/")
    page.locator("#sharing-trend canvas").wait_for()
    page.locator("#sharing-top-resources canvas").wait_for()
    assert "人口基础信息" in page.content()
    screenshot(page, "sharing-statistics")
