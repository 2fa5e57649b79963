"""Supervision in a real browser: the supervisor opens the monitoring screen (figures,
department lights, the ECharts trend drawn on a canvas), drills down to the overdue cases
and opens one case with its event log and alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.browser.conftest import log_in, screenshot
from tongban.apps.supervision.models import SupervisedCase
from tongban.apps.supervision.tests.conftest import City, event
from tongban.apps.supervision.tests.conftest import city as city  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def a_month_of_cases(city: City) -> None:
    """About forty cases over the last four weeks in both departments: most closed on
    time, a few still running past their promise, one near its limit, one badly rated."""
    now = timezone.now()
    today = timezone.localdate()
    events: list[dict[str, Any]] = []
    for n in range(40):
        department, unit, handler = (
            ("SCJGJ", "SCJGJ-XK", "zhang") if n % 3 else ("WJW", "WJW-YZ", "li")
        )
        opened = now - dt.timedelta(days=27 - (n * 2) % 27, hours=n % 5)
        key = f"SV2026{n:04d}"
        promised = opened.date() + dt.timedelta(days=7 if n % 7 else 3)
        legal = opened.date() + dt.timedelta(days=28)
        deadlines = {"promised_deadline": promised.isoformat(), "legal_deadline": legal.isoformat()}
        events += [
            event(
                "opened",
                key,
                opened,
                department=department,
                unit=unit,
                handler=handler,
                item_code=f"ITEM-{n % 4}",
                item_name=["食品经营许可", "药品零售许可", "医疗机构执业登记", "个体工商户登记"][
                    n % 4
                ],
                case_type="promised",
                legal_limit_days=20,
                promised_limit_days=5,
                **deadlines,
            ),
            event("accepted", key, opened + dt.timedelta(minutes=30), **deadlines),
        ]
        finished = opened + dt.timedelta(days=2 + n % 6)
        if n % 5 and finished < now:
            events += [
                event("decided", key, finished, outcome="approved"),
                event("closed", key, finished + dt.timedelta(hours=1)),
            ]
            if n % 9 == 0:
                events.append(event("rated", key, finished + dt.timedelta(hours=2), rating=2))
    near = today + dt.timedelta(days=1)
    events += [
        event(
            "opened",
            "SV-NEAR",
            now - dt.timedelta(days=3),
            department="WJW",
            unit="WJW-YZ",
            handler="li",
            item_name="医疗机构执业登记",
            promised_deadline=near.isoformat(),
            legal_deadline=(today + dt.timedelta(days=20)).isoformat(),
        ),
        event("accepted", "SV-NEAR", now - dt.timedelta(days=3)),
    ]
    city.ingest(*events, now=now)


def test_the_supervisor_watches_and_drills_down(page, city):  # noqa: F811
    a_month_of_cases(city)
    log_in(page, "jiancha")
    page.goto("/supervision/")
    page.wait_for_selector("#monitor-trend canvas")
    assert page.get_by_role("heading", name="实时监控").is_visible()
    assert page.locator('tr[data-department="SCJGJ"].sv-row-red').is_visible()
    assert page.locator("#monitor-trend canvas").count() >= 1
    screenshot(page, "supervision-monitor")

    page.locator('[data-figure="overdue"]').click()
    page.wait_for_url("**/supervision/cases/?status=running&overdue=1")
    overdue = page.locator("table.sv-cases tbody tr")
    expected = SupervisedCase.objects.filter(
        status__in=["received", "correction", "accepted"],
        promised_deadline__lt=timezone.localdate(),
    ).count()
    assert expected > 0
    assert overdue.count() == expected
    screenshot(page, "supervision-cases-overdue")

    overdue.first.get_by_role("link").first.click()
    page.wait_for_url("**/supervision/cases/*/")
    assert page.get_by_role("heading", name="事件记录").is_visible()
    assert page.locator("#case-alerts").get_by_text("黄牌").first.is_visible()
    screenshot(page, "supervision-case")
