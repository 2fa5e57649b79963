"""Sharing statistics: the daily roll-up (correct, idempotent), the overview, table, CSV
export and call log pages, each scoped to the viewer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from tongban.apps.sharing import stats, tasks
from tongban.apps.sharing.models import CallResult, DailyStat, GatewayCall, Grant
from tongban.apps.sharing.tests.fixtures_calls import (  # noqa: F401
    SharingCity,
    local,
    sharing_city_fixture,
    sign_in,
)
from tongban.platform.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _calls(city: SharingCity) -> dict[str, GatewayCall]:
    yesterday = city.today - dt.timedelta(days=1)
    person, licence = city.person_resource, city.licence_resource
    return {
        "a": city.call(
            at=local(city.today, 9),
            resource=person,
            system=city.health_system,
            records=1,
            latency_ms=10,
        ),
        "b": city.call(
            at=local(city.today, 10),
            resource=person,
            system=city.health_system,
            records=0,
            result=CallResult.NOT_FOUND,
            latency_ms=20,
        ),
        "c": city.call(
            at=local(city.today, 11),
            resource=person,
            system=city.health_system,
            records=0,
            result=CallResult.DENIED,
            latency_ms=30,
        ),
        "d": city.call(
            at=local(city.today, 12),
            resource=licence,
            system=city.civil_system,
            records=3,
            latency_ms=40,
        ),
        "e": city.call(
            at=local(yesterday, 23, 59),
            resource=licence,
            system=city.civil_system,
            records=2,
            latency_ms=50,
        ),
    }


def _row(day: dt.date, city: SharingCity, system) -> DailyStat:
    return DailyStat.objects.get(day=day, consumer_system=system)


def test_rollup_sums_a_day_per_resource_and_system(sharing_city):
    city = sharing_city
    _calls(city)
    # a call with no resource (an unauthenticated one) is counted nowhere
    GatewayCall.objects.create(
        at=local(city.today, 8), result=CallResult.UNAUTHENTICATED, digest="0" * 64
    )

    kept = stats.daily_stats_rollup(day=city.today)

    assert kept == 2
    health = _row(city.today, city, city.health_system)
    assert (health.calls, health.ok_calls, health.denied_calls, health.records) == (3, 1, 1, 1)
    assert health.latency_ms_total == pytest.approx(60)
    assert health.provider_department == city.police
    assert health.consumer_department == city.health
    civil = _row(city.today, city, city.civil_system)
    assert (civil.calls, civil.ok_calls, civil.records) == (1, 1, 3)
    assert not DailyStat.objects.filter(day=city.today - dt.timedelta(days=1)).exists()


def test_rollup_is_idempotent_and_follows_the_log(sharing_city):
    city = sharing_city
    calls = _calls(city)
    stats.daily_stats_rollup(day=city.today)
    first = list(DailyStat.objects.order_by("pk").values("pk", "calls", "records"))

    stats.daily_stats_rollup(day=city.today)
    assert list(DailyStat.objects.order_by("pk").values("pk", "calls", "records")) == first

    # the civil system's only call of the day disappears from the log: its row goes too
    calls["d"].delete()
    city.call(at=local(city.today, 13), resource=city.person_resource, system=city.health_system)
    stats.daily_stats_rollup(day=city.today)
    assert DailyStat.objects.filter(day=city.today).count() == 1
    assert _row(city.today, city, city.health_system).calls == 4


def test_refresh_recomputes_yesterday_only_just_after_midnight(sharing_city):
    city = sharing_city
    _calls(city)
    yesterday = city.today - dt.timedelta(days=1)

    stats.daily_stats_refresh(now=local(city.today, 12))
    assert not DailyStat.objects.filter(day=yesterday).exists()

    stats.daily_stats_refresh(now=local(city.today, 0, 10))
    assert _row(yesterday, city, city.civil_system).records == 2
    assert tasks.daily_stats_refresh() >= 0  # the scheduled wrapper runs


def test_overview_figures(sharing_city):
    city = sharing_city
    _calls(city)
    stats.daily_stats_rollup(day=city.today)
    stats.daily_stats_rollup(day=city.today - dt.timedelta(days=1))

    overview = stats.overview_for(actor=city.city_viewer, today=city.today)

    # two active systems of two departments
    assert overview.departments_connected == 2
    assert overview.resources_published == 2
    assert ("基础信息资源", 2) in overview.resources_by_class
    assert overview.calls_today == 4
    assert overview.calls_total == 5
    assert overview.records_total == 6
    assert overview.success_rate == pytest.approx(60.0)
    assert overview.average_latency_ms == pytest.approx(30.0)
    assert overview.trend_calls[-1] == 4
    assert overview.trend_calls[-2] == 1
    assert len(overview.trend_days) == stats.TREND_DAYS
    assert overview.top_resources[0].label == "人口基础信息"
    assert [row.label for row in overview.by_provider] == ["示范市公安局"]


def test_departments_connected_counts_live_grants_and_active_systems(sharing_city):
    city = sharing_city
    city.civil_system.is_active = False
    city.civil_system.save()
    assert stats.departments_connected() == 1
    now = local(city.today, 12)
    Grant.objects.create(
        resource=city.licence_resource,
        consumer_system=city.civil_system,
        consumer_department=city.civil,
        valid_from=now - dt.timedelta(days=1),
        expires_at=now + dt.timedelta(days=30),
        created_by=city.city_viewer,
    )
    assert stats.departments_connected(now=now) == 2


def test_department_sees_rows_where_it_is_provider_or_consumer(sharing_city):
    city = sharing_city
    _calls(city)
    stats.daily_stats_rollup(day=city.today)

    assert stats.stats_for(actor=city.police_viewer).count() == 2
    assert set(
        stats.stats_for(actor=city.health_viewer).values_list("consumer_system", flat=True)
    ) == {city.health_system.pk}
    assert stats.overview_for(actor=city.civil_viewer).calls_total == 1
    assert stats.stats_for(actor=city.plain_staff).count() == 0


def test_pages_render_for_allowed_users(client, sharing_city):
    city = sharing_city
    _calls(city)
    stats.daily_stats_rollup(day=city.today)
    sign_in(client, city.health_viewer)

    home = client.get(reverse("sharing:stats"))
    assert home.status_code == 200
    assert 'id="sharing-stats-data"' in home.text
    assert "supervision/vendor/echarts/echarts.min.js" in home.text
    assert "<script>" not in home.text
    assert "style=" not in home.text

    table = client.get(reverse("sharing:stats_table"))
    assert table.status_code == 200
    assert 'data-count="1"' in table.text
    assert "出生医学证明系统" in table.text
    assert "婚姻登记系统" not in table.text

    log = client.get(reverse("sharing:call_log"))
    assert log.status_code == 200
    assert 'data-count="3"' in log.text
    assert "查询参数" not in log.text


def test_table_filters_and_csv_export(client, sharing_city):
    city = sharing_city
    _calls(city)
    stats.daily_stats_rollup(day=city.today)
    stats.daily_stats_rollup(day=city.today - dt.timedelta(days=1))
    sign_in(client, city.city_viewer)

    by_consumer = client.get(reverse("sharing:stats_table"), {"consumer": city.civil.pk})
    assert 'data-count="2"' in by_consumer.text
    one_day = client.get(
        reverse("sharing:stats_table"),
        {
            "from": city.today.isoformat(),
            "to": city.today.isoformat(),
            "resource": city.licence_resource.pk,
        },
    )
    assert 'data-count="1"' in one_day.text

    export = client.get(reverse("sharing:stats_export"), {"consumer": city.civil.pk})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    lines = export.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("日期,资源代码,资源名称")
    assert len(lines) == 3
    assert all("婚姻登记系统" in line for line in lines[1:])
    assert AuditEntry.objects.filter(action="sharing.statistics.export").count() == 1


def test_pages_refuse_users_without_the_permission(client, sharing_city):
    city = sharing_city
    _calls(city)
    sign_in(client, city.plain_staff)
    for name in (
        "sharing:stats",
        "sharing:stats_table",
        "sharing:stats_export",
        "sharing:call_log",
    ):
        assert client.get(reverse(name)).status_code == 403, name
    sign_in(client, city.citizen_a)
    assert client.get(reverse("sharing:stats")).status_code == 403
    client.logout()
    assert client.get(reverse("sharing:call_log")).status_code == 302


def test_call_log_is_scoped_filtered_and_paginated(client, sharing_city):
    city = sharing_city
    _calls(city)
    sign_in(client, city.civil_viewer)
    page = client.get(reverse("sharing:call_log"))
    assert 'data-count="2"' in page.text
    assert "出生医学证明系统" not in page.text

    sign_in(client, city.city_viewer)
    assert 'data-count="5"' in client.get(reverse("sharing:call_log")).text
    denied = client.get(reverse("sharing:call_log"), {"result": "denied"})
    assert 'data-count="1"' in denied.text
    for minute in range(55):
        city.call(
            at=local(city.today, 14, minute),
            resource=city.person_resource,
            system=city.health_system,
        )
    first = client.get(reverse("sharing:call_log"))
    assert first.text.count("data-call=") == 50
    second = client.get(reverse("sharing:call_log"), {"page": 2})
    assert second.text.count("data-call=") == 10


def test_auditor_sees_the_query_masked_others_never(client, sharing_city):
    city = sharing_city
    number = "990102199001011234"
    city.call(
        at=local(city.today, 9),
        resource=city.person_resource,
        system=city.health_system,
        query={"id_number": number},
    )

    sign_in(client, city.city_viewer)
    page = client.get(reverse("sharing:call_log"))
    assert number not in page.text
    assert "9901**********1234" not in page.text

    sign_in(client, city.auditor)
    page = client.get(reverse("sharing:call_log"))
    assert "id_number=9901**********1234" in page.text
    assert number not in page.text
    assert AuditEntry.objects.filter(action="sharing.log.view_query").exists()
