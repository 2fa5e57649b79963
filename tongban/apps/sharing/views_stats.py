"""Sharing statistics pages: the overview with its charts, the filterable table with its
CSV export, and the gateway call log. Each view parses the request, asks ``stats`` (scoped
to the viewer) and renders."""

from __future__ import annotations

from typing import cast

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from tongban.apps.sharing import stats
from tongban.apps.sharing.models import CallResult
from tongban.apps.sharing.permissions import LOG_VIEW, STATISTICS_VIEW
from tongban.platform.access.decorators import permission
from tongban.platform.accounts.models import User
from tongban.platform.audit.services import audit_record

TABLE_PAGE_SIZE = 50
LOG_PAGE_SIZE = 50
NAV = "sharing"


def _user(request: HttpRequest) -> User:
    """The signed-in viewer (the access decorators guarantee one)."""
    return cast(User, request.user)


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@permission(STATISTICS_VIEW)
def stats_home(request: HttpRequest) -> HttpResponse:
    overview = stats.overview_for(actor=request.user)
    return render(
        request,
        "sharing/stats/home.html",
        {
            "overview": overview,
            "chart_data": stats.chart_data(overview),
            "trend_rows": list(
                zip(
                    overview.trend_days,
                    overview.trend_calls,
                    overview.trend_ok,
                    overview.trend_records,
                    strict=True,
                )
            ),
            "nav_active": NAV,
        },
    )


@permission(STATISTICS_VIEW)
def stats_table(request: HttpRequest) -> HttpResponse:
    filters = stats.StatFilters.from_query(request.GET)
    rows = stats.stat_rows_for(actor=request.user, filters=filters)
    page = Paginator(rows, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "sharing/stats/table.html",
        {
            "filters": filters,
            "choices": stats.filter_choices(actor=request.user),
            "page": page,
            "rows": [
                (row, stats.resource_name(row.resource), stats.average_latency(row))
                for row in page.object_list
            ],
            "query": _query_without_page(request),
            "nav_active": NAV,
        },
    )


@permission(STATISTICS_VIEW)
def stats_export(request: HttpRequest) -> HttpResponse:
    filters = stats.StatFilters.from_query(request.GET)
    rows = stats.stat_rows_for(actor=request.user, filters=filters)
    audit_record(
        action="sharing.statistics.export",
        actor=_user(request),
        detail={"filters": request.GET.dict()},
    )
    body = "\ufeff" + stats.stats_csv(rows.iterator())
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="sharing-stats-{stamp}.csv"'
    return response


@permission(LOG_VIEW)
def call_log(request: HttpRequest) -> HttpResponse:
    filters = stats.CallFilters.from_query(request.GET)
    calls = stats.call_log_for(actor=request.user, filters=filters)
    page = Paginator(calls, LOG_PAGE_SIZE).get_page(request.GET.get("page"))
    show_query = stats.may_see_query(request.user)
    rows = [
        (
            call,
            stats.resource_name(call.resource) if call.resource else "",
            stats.masked_query(call) if show_query else "",
        )
        for call in page.object_list
    ]
    if show_query and rows:
        audit_record(
            action="sharing.log.view_query",
            actor=_user(request),
            detail={"call_ids": [call.pk for call, _name, _query in rows]},
        )
    return render(
        request,
        "sharing/stats/log.html",
        {
            "filters": filters,
            "results": CallResult.choices,
            "resources": stats.log_resource_choices(actor=request.user),
            "page": page,
            "rows": rows,
            "show_query": show_query,
            "query": _query_without_page(request),
            "nav_active": NAV,
        },
    )
