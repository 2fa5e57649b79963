"""Sharing statistics: the daily roll-up of the gateway log and the reads behind the
statistics pages and the call log.

``daily_stats_rollup(day=...)`` recomputes one day's ``DailyStat`` rows from the
``GatewayCall`` log (an upsert of every (resource, consumer system) pair seen that day,
then the removal of pairs no longer seen), so it can run any number of times, concurrently,
with the same result. The periodic job recomputes today every few minutes and, in the
first hour after midnight, yesterday as well (calls of the day's last minutes).

The readers are scoped to the viewer: a city-wide grant sees everything, a department
grant the rows where the department is the provider or the consumer.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.sharing.models import (
    CALL_SCOPE_CONSUMER,
    CALL_SCOPE_PROVIDER,
    CallResult,
    ConsumerSystem,
    DailyStat,
    GatewayCall,
    Grant,
    Resource,
    ResourceClass,
)
from tongban.apps.sharing.permissions import LOG_VIEW, STATISTICS_VIEW
from tongban.platform.access.services import scope_queryset
from tongban.platform.crypto.masking import mask_id_number, mask_middle
from tongban.platform.orgs.models import Department

TREND_DAYS = 30
TOP = 10
#: until this local hour the job also recomputes yesterday
YESTERDAY_UNTIL_HOUR = 1
DENIED_RESULTS = (CallResult.DENIED, CallResult.RATE_LIMITED, CallResult.UNAUTHENTICATED)


# -- the roll-up ------------------------------------------------------------------------


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def daily_stats_rollup(*, day: dt.date) -> int:
    """Recompute ``day``'s statistics from the log; returns the number of rows kept."""
    start, end = _day_bounds(day)
    groups = (
        GatewayCall.objects.filter(
            at__gte=start,
            at__lt=end,
            resource__isnull=False,
            consumer_system__isnull=False,
        )
        .values("resource_id", "consumer_system_id")
        .annotate(
            provider_id=F("resource__provider_id"),
            system_department_id=F("consumer_system__department_id"),
            calls=Count("id"),
            ok_calls=Count("id", filter=Q(result=CallResult.OK)),
            denied_calls=Count("id", filter=Q(result__in=DENIED_RESULTS)),
            records=Sum("records"),
            latency=Sum("latency_ms"),
        )
        .order_by()
    )
    rows = [
        DailyStat(
            day=day,
            resource_id=group["resource_id"],
            consumer_system_id=group["consumer_system_id"],
            provider_department_id=group["provider_id"],
            consumer_department_id=group["system_department_id"],
            calls=group["calls"],
            ok_calls=group["ok_calls"],
            denied_calls=group["denied_calls"],
            records=group["records"] or 0,
            latency_ms_total=group["latency"] or 0.0,
        )
        for group in groups
    ]
    with transaction.atomic():
        if rows:
            DailyStat.objects.bulk_create(
                rows,
                update_conflicts=True,
                unique_fields=["day", "resource", "consumer_system"],
                update_fields=[
                    "provider_department",
                    "consumer_department",
                    "calls",
                    "ok_calls",
                    "denied_calls",
                    "records",
                    "latency_ms_total",
                ],
            )
        stale = DailyStat.objects.filter(day=day)
        for row in rows:
            stale = stale.exclude(
                resource_id=row.resource_id, consumer_system_id=row.consumer_system_id
            )
        stale.delete()
    return len(rows)


def daily_stats_refresh(*, now: dt.datetime | None = None) -> int:
    """The periodic job: today, and yesterday too in the first hour after midnight."""
    local = timezone.localtime(now or timezone.now())
    kept = daily_stats_rollup(day=local.date())
    if local.hour < YESTERDAY_UNTIL_HOUR:
        kept += daily_stats_rollup(day=local.date() - dt.timedelta(days=1))
    return kept


# -- scoping ----------------------------------------------------------------------------


def stats_for(*, actor: Any) -> QuerySet[DailyStat]:
    """The statistics rows the actor may see (as provider or consumer department)."""
    base = DailyStat.objects.all()
    as_provider = scope_queryset(actor, base, STATISTICS_VIEW, CALL_SCOPE_PROVIDER)
    as_consumer = scope_queryset(actor, base, STATISTICS_VIEW, CALL_SCOPE_CONSUMER)
    return as_provider | as_consumer


def calls_for(*, actor: Any) -> QuerySet[GatewayCall]:
    """The log rows the actor may see under LOG_VIEW (provider or consumer department)."""
    base = GatewayCall.objects.all()
    as_provider = scope_queryset(actor, base, LOG_VIEW, CALL_SCOPE_PROVIDER)
    as_consumer = scope_queryset(actor, base, LOG_VIEW, CALL_SCOPE_CONSUMER)
    return as_provider | as_consumer


# -- the overview -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    label: str
    calls: int
    records: int


@dataclass
class Overview:
    today: dt.date
    departments_connected: int
    resources_published: int
    resources_by_class: list[tuple[str, int]]
    calls_today: int
    calls_month: int
    calls_total: int
    records_total: int
    success_rate: float | None  # percent
    average_latency_ms: float | None
    trend_days: list[dt.date] = field(default_factory=list)
    trend_calls: list[int] = field(default_factory=list)
    trend_ok: list[int] = field(default_factory=list)
    trend_records: list[int] = field(default_factory=list)
    top_resources: list[Ranked] = field(default_factory=list)
    top_consumers: list[Ranked] = field(default_factory=list)
    by_provider: list[Ranked] = field(default_factory=list)


def departments_connected(*, now: dt.datetime | None = None) -> int:
    """Departments with an active system or a live grant (the Xiamen "56 部门接入")."""
    moment = now or timezone.now()
    with_system = set(
        ConsumerSystem.objects.filter(is_active=True).values_list("department_id", flat=True)
    )
    with_grant = set(
        Grant.objects.filter(
            revoked_at__isnull=True, valid_from__lte=moment, expires_at__gt=moment
        ).values_list("consumer_department_id", flat=True)
    )
    return len(with_system | with_grant)


def _published() -> QuerySet[Resource]:
    return Resource.objects.filter(current__isnull=False, is_withdrawn=False)


def _total(queryset: QuerySet[DailyStat], name: str) -> int:
    return int(queryset.aggregate(total=Sum(name))["total"] or 0)


def _ranked(queryset: QuerySet[DailyStat], key: str, label: str, limit: int) -> list[Ranked]:
    rows = (
        queryset.values(key)
        .annotate(label=F(label), total_calls=Sum("calls"), total_records=Sum("records"))
        .order_by("-total_calls", key)[:limit]
    )
    return [
        Ranked(
            str(row["label"] or ""), int(row["total_calls"] or 0), int(row["total_records"] or 0)
        )
        for row in rows
    ]


def _resource_names(resource_ids: Iterable[int]) -> dict[int, str]:
    return {
        row["pk"]: row["current__name"] or row["code"]
        for row in Resource.objects.filter(pk__in=list(resource_ids)).values(
            "pk", "code", "current__name"
        )
    }


def overview_for(*, actor: Any, today: dt.date | None = None) -> Overview:
    day = today or timezone.localdate()
    scoped = stats_for(actor=actor)
    totals = scoped.aggregate(
        calls=Sum("calls"),
        ok=Sum("ok_calls"),
        records=Sum("records"),
        latency=Sum("latency_ms_total"),
    )
    calls_total = int(totals["calls"] or 0)
    class_counts = dict(
        _published().values_list("resource_class").annotate(count=Count("id")).order_by()
    )
    first = day - dt.timedelta(days=TREND_DAYS - 1)
    per_day = {
        row["day"]: row
        for row in scoped.filter(day__gte=first, day__lte=day)
        .values("day")
        .annotate(total_calls=Sum("calls"), total_ok=Sum("ok_calls"), total_records=Sum("records"))
        .order_by()
    }
    days = [first + dt.timedelta(days=offset) for offset in range(TREND_DAYS)]
    top_resource_rows = (
        scoped.values("resource_id")
        .annotate(total_calls=Sum("calls"), total_records=Sum("records"))
        .order_by("-total_calls", "resource_id")[:TOP]
    )
    names = _resource_names(row["resource_id"] for row in top_resource_rows)
    return Overview(
        today=day,
        departments_connected=departments_connected(),
        resources_published=sum(class_counts.values()),
        resources_by_class=[
            (str(label), class_counts.get(value, 0)) for value, label in ResourceClass.choices
        ],
        calls_today=_total(scoped.filter(day=day), "calls"),
        calls_month=_total(scoped.filter(day__gte=day.replace(day=1), day__lte=day), "calls"),
        calls_total=calls_total,
        records_total=int(totals["records"] or 0),
        success_rate=round(100.0 * (totals["ok"] or 0) / calls_total, 1) if calls_total else None,
        average_latency_ms=round(float(totals["latency"] or 0) / calls_total, 1)
        if calls_total
        else None,
        trend_days=days,
        trend_calls=[int(per_day[d]["total_calls"]) if d in per_day else 0 for d in days],
        trend_ok=[int(per_day[d]["total_ok"]) if d in per_day else 0 for d in days],
        trend_records=[int(per_day[d]["total_records"]) if d in per_day else 0 for d in days],
        top_resources=[
            Ranked(
                names.get(row["resource_id"], ""),
                int(row["total_calls"]),
                int(row["total_records"]),
            )
            for row in top_resource_rows
        ],
        top_consumers=_ranked(scoped, "consumer_department_id", "consumer_department__name", TOP),
        by_provider=_ranked(scoped, "provider_department_id", "provider_department__name", TOP),
    )


def chart_data(overview: Overview) -> dict[str, Any]:
    """What the charts' script reads (json_script)."""
    return {
        "days": [day.isoformat() for day in overview.trend_days],
        "calls": overview.trend_calls,
        "ok": overview.trend_ok,
        "records": overview.trend_records,
        "topResources": [[row.label, row.calls] for row in overview.top_resources],
        "topConsumers": [[row.label, row.calls] for row in overview.top_consumers],
        "byProvider": [[row.label, row.calls] for row in overview.by_provider],
        "labels": {
            "calls": _("调用次数"),
            "ok": _("成功次数"),
            "records": _("返回记录数"),
        },
    }


# -- the table and its export -------------------------------------------------------------


@dataclass(frozen=True)
class StatFilters:
    resource_id: int | None = None
    provider_id: int | None = None
    consumer_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @staticmethod
    def _number(value: str | None) -> int | None:
        return int(value) if value and value.isdigit() else None

    @staticmethod
    def _date(value: str | None) -> dt.date | None:
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            return None

    @classmethod
    def from_query(cls, query: Any) -> StatFilters:
        return cls(
            resource_id=cls._number(query.get("resource")),
            provider_id=cls._number(query.get("provider")),
            consumer_id=cls._number(query.get("consumer")),
            date_from=cls._date(query.get("from")),
            date_to=cls._date(query.get("to")),
        )


def stat_rows_for(*, actor: Any, filters: StatFilters) -> QuerySet[DailyStat]:
    rows = stats_for(actor=actor)
    if filters.resource_id:
        rows = rows.filter(resource_id=filters.resource_id)
    if filters.provider_id:
        rows = rows.filter(provider_department_id=filters.provider_id)
    if filters.consumer_id:
        rows = rows.filter(consumer_department_id=filters.consumer_id)
    if filters.date_from:
        rows = rows.filter(day__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(day__lte=filters.date_to)
    return rows.select_related(
        "resource__current", "provider_department", "consumer_department", "consumer_system"
    ).order_by("-day", "resource__code", "consumer_system__code")


def filter_choices(*, actor: Any) -> dict[str, list[tuple[int, str]]]:
    """The resources and departments the viewer's rows mention (for the filter form)."""
    scoped = stats_for(actor=actor)
    resource_ids = set(scoped.values_list("resource_id", flat=True))
    provider_ids = set(scoped.values_list("provider_department_id", flat=True))
    consumer_ids = set(scoped.values_list("consumer_department_id", flat=True))
    names = _resource_names(resource_ids)
    departments = dict(
        Department.objects.filter(pk__in=provider_ids | consumer_ids).values_list("pk", "name")
    )
    return {
        "resources": sorted(names.items(), key=lambda pair: pair[1]),
        "providers": sorted(((pk, departments[pk]) for pk in provider_ids), key=lambda p: p[1]),
        "consumers": sorted(((pk, departments[pk]) for pk in consumer_ids), key=lambda p: p[1]),
    }


def average_latency(row: DailyStat) -> float:
    return round(row.latency_ms_total / row.calls, 1) if row.calls else 0.0


def resource_name(resource: Resource) -> str:
    return resource.current.name if resource.current else resource.code


def stats_csv(rows: Iterable[DailyStat]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            _("日期"),
            _("资源代码"),
            _("资源名称"),
            _("提供部门"),
            _("使用部门"),
            _("使用系统"),
            _("调用次数"),
            _("成功次数"),
            _("拒绝次数"),
            _("返回记录数"),
            _("平均耗时（毫秒）"),
        ]
    )
    for row in rows:
        writer.writerow(
            [
                row.day.isoformat(),
                row.resource.code,
                resource_name(row.resource),
                row.provider_department.name,
                row.consumer_department.name,
                row.consumer_system.name,
                row.calls,
                row.ok_calls,
                row.denied_calls,
                row.records,
                average_latency(row),
            ]
        )
    return buffer.getvalue()


# -- the call log -----------------------------------------------------------------------


@dataclass(frozen=True)
class CallFilters:
    resource_id: int | None = None
    result: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def from_query(cls, query: Any) -> CallFilters:
        result = query.get("result") or ""
        return cls(
            resource_id=StatFilters._number(query.get("resource")),
            result=result if result in CallResult.values else "",
            date_from=StatFilters._date(query.get("from")),
            date_to=StatFilters._date(query.get("to")),
        )


def call_log_for(*, actor: Any, filters: CallFilters) -> QuerySet[GatewayCall]:
    calls = calls_for(actor=actor)
    if filters.resource_id:
        calls = calls.filter(resource_id=filters.resource_id)
    if filters.result:
        calls = calls.filter(result=filters.result)
    if filters.date_from:
        calls = calls.filter(at__gte=_day_bounds(filters.date_from)[0])
    if filters.date_to:
        calls = calls.filter(at__lt=_day_bounds(filters.date_to)[1])
    return calls.select_related(
        "consumer_system", "consumer_department", "provider_department", "resource__current"
    ).order_by("-at", "-id")


def log_resource_choices(*, actor: Any) -> list[tuple[int, str]]:
    ids = set(
        calls_for(actor=actor)
        .filter(resource__isnull=False)
        .values_list("resource_id", flat=True)
        .order_by()
    )
    return sorted(_resource_names(ids).items(), key=lambda pair: pair[1])


def may_see_query(actor: Any) -> bool:
    """Only auditors see a call's query parameters, and then masked."""
    return getattr(actor, "admin_role", "") == "auditor"


def _mask(value: Any) -> str:
    text = str(value)
    if len(text) == 18 and text[:17].isalnum():
        return mask_id_number(text)
    if len(text) <= 2:
        return "*" * len(text)
    return mask_middle(text, keep_start=1, keep_end=1)


def masked_query(call: GatewayCall) -> str:
    """The query parameters with every value masked (for auditors)."""
    if not call.query:
        return ""
    try:
        parameters = json.loads(str(call.query))
    except ValueError:
        return _mask(str(call.query))
    if not isinstance(parameters, dict):
        return _mask(str(call.query))
    return "；".join(f"{name}={_mask(value)}" for name, value in sorted(parameters.items()))
