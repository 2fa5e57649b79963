"""Monitoring pages (监控): the overview with its department lights and trend charts, the
case list every figure drills down to, and one case with its event log and alerts. Each
view parses the request, calls a selector (scoped to the viewer) and renders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from tongban.apps.supervision import selectors
from tongban.apps.supervision.models import AlertKind, CaseStatus, CaseType, Severity
from tongban.apps.supervision.permissions import ALERT_OPEN, MONITOR_VIEW
from tongban.platform.access.decorators import permission
from tongban.platform.access.services import has_permission

PAGE_SIZE = 20
EVENT_LABELS = {
    "opened": _lazy("收件"),
    "correction_requested": _lazy("要求补正"),
    "correction_answered": _lazy("补正完成"),
    "accepted": _lazy("受理"),
    "not_accepted": _lazy("不予受理"),
    "paused": _lazy("暂停计时"),
    "resumed": _lazy("恢复计时"),
    "extended": _lazy("延长期限"),
    "step_started": _lazy("环节开始"),
    "step_finished": _lazy("环节完成"),
    "decided": _lazy("作出决定"),
    "closed": _lazy("办结"),
    "delivered": _lazy("送达"),
    "withdrawn": _lazy("撤回"),
    "fee_charged": _lazy("收费"),
    "rated": _lazy("评价"),
}
OUTCOME_LABELS = {
    "approved": _lazy("准予"),
    "refused": _lazy("不予许可"),
    "partial": _lazy("部分准予"),
    "not_accepted": _lazy("不予受理"),
    "other": _lazy("其他"),
}


@dataclass(frozen=True)
class EventRow:
    occurred_at: Any
    kind: str
    kind_label: str
    summary: str
    source_event_id: str


def _event_summary(payload: dict[str, Any]) -> str:
    """The few payload fields worth a glance in the log (the full payload is kept)."""
    parts: list[str] = []
    if payload.get("step_name"):
        parts.append(_("环节：%(name)s") % {"name": payload["step_name"]})
    if payload.get("outcome"):
        parts.append(str(OUTCOME_LABELS.get(payload["outcome"], payload["outcome"])))
    if payload.get("handler"):
        parts.append(_("承办人：%(name)s") % {"name": payload["handler"]})
    if payload.get("extension_days"):
        parts.append(_("延长%(n)s个工作日") % {"n": payload["extension_days"]})
    if payload.get("pause_planned_days"):
        parts.append(_("计划暂停%(n)s个工作日") % {"n": payload["pause_planned_days"]})
    if payload.get("fee_amount") is not None:
        parts.append(_("实收%(amount)s元") % {"amount": payload["fee_amount"]})
    if payload.get("rating") is not None:
        parts.append(_("评价%(n)s星") % {"n": payload["rating"]})
    if payload.get("reasons"):
        parts.append(str(payload["reasons"])[:200])
    return "；".join(parts)


def _url(name: str) -> str:
    """A supervision URL that another area may not have defined yet ('' until it has)."""
    try:
        return reverse(f"supervision:{name}")
    except NoReverseMatch:
        return ""


def _figures_context(request: HttpRequest) -> dict[str, Any]:
    overview = selectors.overview_for(actor=request.user)
    return {
        "overview": overview,
        "alerts_url": _url("alerts"),
    }


@permission(MONITOR_VIEW)
def home(request: HttpRequest) -> HttpResponse:
    context = _figures_context(request)
    trend = selectors.trend_for(actor=request.user, today=context["overview"].today)
    context["chart_data"] = {
        "days": [day.isoformat() for day in trend.days],
        "received": trend.received,
        "completed": trend.completed,
        "alerts": trend.alerts,
        "casesUrl": reverse("supervision:cases"),
        "alertsUrl": context["alerts_url"],
        "labels": {
            "received": _("收件"),
            "completed": _("办结"),
            "alerts": _("预警"),
            "cases": _("件数"),
            "alertsAxis": _("预警数"),
        },
    }
    context["trend_rows"] = list(
        zip(trend.days, trend.received, trend.completed, trend.alerts, strict=True)
    )
    context["nav_active"] = "supervision"
    return render(request, "supervision/monitor/home.html", context)


@permission(MONITOR_VIEW)
def home_figures(request: HttpRequest) -> HttpResponse:
    """The figures block alone: htmx swaps it in every 60 seconds."""
    return render(request, "supervision/monitor/_figures.html", _figures_context(request))


@permission(MONITOR_VIEW)
def cases(request: HttpRequest) -> HttpResponse:
    filters = selectors.CaseFilters.from_query(request.GET)
    queryset = selectors.case_list_for(actor=request.user, filters=filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    badges = selectors.alert_badges([case.pk for case in page.object_list])
    today = selectors.today_local()
    labels = dict(Severity.choices)
    rows = [
        (
            case,
            [
                (severity, labels[severity], badges[case.pk][severity])
                for severity in Severity.values
                if severity in badges.get(case.pk, {})
            ],
            selectors.is_late(case, today),
        )
        for case in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    departments = selectors.monitor_departments(request.user).only("pk", "name")
    return render(
        request,
        "supervision/monitor/cases.html",
        {
            "filters": filters,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "statuses": [
                ("running", _("在办（全部）")),
                ("completed", _("已办结（含已送达）")),
                *CaseStatus.choices,
            ],
            "kinds": AlertKind.choices,
            "case_types": CaseType.choices,
            "departments": departments,
            "nav_active": "supervision",
        },
    )


@permission(MONITOR_VIEW)
def case(request: HttpRequest, case_id: int) -> HttpResponse:
    supervised = selectors.case_get_for(actor=request.user, case_id=case_id)
    alert_new = _url("alert_new")
    return render(
        request,
        "supervision/monitor/case.html",
        {
            "case": supervised,
            "events": [
                EventRow(
                    event.occurred_at,
                    event.kind,
                    str(EVENT_LABELS.get(event.kind, event.kind)),
                    _event_summary(event.payload if isinstance(event.payload, dict) else {}),
                    event.source_event_id,
                )
                for event in selectors.case_events(supervised)
            ],
            "late": selectors.is_late(supervised, selectors.today_local()),
            "alerts": selectors.case_alerts(supervised),
            "can_open_alert": bool(alert_new) and has_permission(request.user, ALERT_OPEN),
            "alert_new_url": alert_new,
            "alerts_url": _url("alerts"),
            "nav_active": "supervision",
        },
    )
