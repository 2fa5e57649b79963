"""Evaluation pages (绩效评估): the indicator table for a period and level, the ranking with
grades and charts, one department's score term by term, and the xlsx/PDF exports.

Scoping (docs/decisions/0016): a viewer sees the indicator rows of the departments their
``EVALUATION_VIEW`` grant covers, and the whole ranking (positions, scores and grades) of
the departments of those divisions; only the covered departments can be opened."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.supervision import evaluation, exports
from tongban.apps.supervision.evaluation import (
    LEVEL_LABELS,
    LEVELS,
    Period,
    PeriodInvalid,
    ReportRow,
    display,
    period_choices,
    period_parse,
)
from tongban.apps.supervision.models import AlertKind, Dimension
from tongban.apps.supervision.permissions import EVALUATION_VIEW
from tongban.platform.access.decorators import permission


def _url(name: str, **query: Any) -> str:
    """A supervision URL with a query ('' while another area has not defined it)."""
    try:
        base = reverse(f"supervision:{name}")
    except NoReverseMatch:
        return ""
    clean = {key: value for key, value in query.items() if value not in (None, "")}
    return f"{base}?{urlencode(clean)}" if clean else base


def default_period(today: dt.date) -> Period:
    """The last full month: monthly evaluation is the published rhythm."""
    first = today.replace(day=1) - dt.timedelta(days=1)
    return Period(first.year, "month", first.month)


def _period_and_level(request: HttpRequest) -> tuple[Period, str, list[str]]:
    errors: list[str] = []
    today = timezone.localdate()
    raw = request.GET.get("period", "").strip()
    period = default_period(today)
    if raw:
        try:
            period = period_parse(raw)
        except PeriodInvalid as error:
            errors.append(error.message)
    level = request.GET.get("level", "department").strip() or "department"
    if level not in LEVELS:
        errors.append(_("统计层级无效：%(value)s") % {"value": level[:20]})
        level = "department"
    return period, level, errors


def _row_links(row: ReportRow, period: Period) -> dict[str, str]:
    """Drill-down links from a row's counts to the case list (supervision:cases)."""
    where = {
        "department": row.department_id,
        "unit": row.unit_id,
        "handler": row.handler,
        "period": period.key,
    }
    done = {**where, "status": "completed"}
    return {
        "received": _url("cases", **where),
        "completed": _url("cases", **done),
        "instant": _url("cases", **done, type="instant"),
        "early": _url("cases", **done, early="1"),
        "overdue": _url("cases", **done, overdue="1"),
        "alerts": _url("alerts", department=row.department_id),
    }


def _shown(figures: evaluation.Indicators) -> dict[str, Any]:
    """The rates of one row, rounded for display (two decimals)."""
    return {
        "completion_rate": display(figures.completion_rate, percent=True),
        "early_rate": display(figures.early_rate, percent=True),
        "overdue_rate": display(figures.overdue_rate, percent=True),
        "average_days": display(figures.average_days),
        "satisfaction_rate": display(figures.satisfaction_rate, percent=True),
        "shortened_mean": display(figures.shortened_mean, percent=True),
        "incomplete_rate": display(figures.incomplete_rate, percent=True),
        "corrections_rate": display(figures.corrections_on_time_rate, percent=True),
    }


def _chart_number(value: Any) -> float | None:
    shown = display(value)
    return float(shown) if shown is not None else None


@permission(EVALUATION_VIEW)
def evaluation_page(request: HttpRequest) -> HttpResponse:
    period, level, errors = _period_and_level(request)
    report = evaluation.report_for(actor=request.user, period=period, level=level)
    rows = [
        {
            "row": row,
            "shown": _shown(row.figures),
            "score": display(row.score.total) if row.score else None,
            "links": _row_links(row, period),
            "detail_url": reverse("supervision:evaluation_department", args=[row.department_id])
            + "?"
            + urlencode({"period": period.key}),
        }
        for row in report.rows
    ]
    ranking = [
        {
            "entry": entry,
            "score": display(entry.score.total) if entry.score else None,
            "detail_url": reverse("supervision:evaluation_department", args=[entry.department_id])
            + "?"
            + urlencode({"period": period.key})
            if entry.department_id in report.visible
            else "",
        }
        for entry in report.ranking
    ]
    scored = [entry for entry in report.ranking if entry.score is not None]
    chart = {
        "ranking": {
            "names": [entry.name for entry in scored],
            "scores": [_chart_number(entry.score.total) for entry in scored if entry.score],
            "grades": [entry.score.grade_label for entry in scored if entry.score],
            "label": _("得分"),
        },
        "trend": {
            "months": [point.month.key for point in report.trend],
            "completion": [
                _chart_number(point.completion_rate * 100)
                if point.completion_rate is not None
                else None
                for point in report.trend
            ],
            "overdue": [
                _chart_number(point.overdue_rate * 100) if point.overdue_rate is not None else None
                for point in report.trend
            ],
            "completionLabel": _("办结率(%)"),
            "overdueLabel": _("超期率(%)"),
        },
    }
    query = {"period": period.key, "level": level}
    context = {
        "report": report,
        "rows": rows,
        "totals_shown": _shown(report.totals),
        "ranking": ranking,
        "chart": chart,
        "errors": errors,
        "period": period,
        "level": level,
        "levels": [(key, LEVEL_LABELS[key]) for key in LEVELS],
        "periods": period_choices(timezone.localdate()),
        "xlsx_url": _url("evaluation_export", **query, format="xlsx"),
        "pdf_url": _url("evaluation_export", **query, format="pdf"),
        "trend_rows": [
            {
                "month": point.month,
                "received": point.received,
                "completed": point.completed,
                "completion": display(point.completion_rate, percent=True),
                "overdue": display(point.overdue_rate, percent=True),
            }
            for point in report.trend
        ],
        "nav_active": "supervision",
    }
    return render(request, "supervision/reports/evaluation.html", context)


@permission(EVALUATION_VIEW)
def evaluation_department(request: HttpRequest, department_id: int) -> HttpResponse:
    period, _level, errors = _period_and_level(request)
    try:
        detail = evaluation.department_report_for(
            actor=request.user, period=period, department_id=department_id
        )
    except evaluation.NotVisible:
        raise Http404 from None
    score = detail.score
    params = detail.params
    dimensions = [
        {
            "label": label,
            "weight": params.weights.get(value),
            "deduction": display(score.deductions[value]) if score else None,
            "points": display(score.dimensions[value]) if score else None,
        }
        for value, label in Dimension.choices
    ]
    terms = []
    if score is not None:
        terms = [
            (_("九项维度合计"), display(score.base)),
            (_("连续提醒扣分"), display(-score.warnings_penalty)),
            (_("黄牌扣分"), display(-score.yellow_penalty)),
            (_("红牌扣分"), display(-score.red_penalty)),
            (_("数据不完整扣分"), display(-score.incomplete_penalty)),
            (_("提前办结加分"), display(score.early_bonus)),
            (_("压缩承诺时限加分"), display(score.shortened_bonus)),
        ]
    figures = detail.figures
    row = ReportRow(detail.name, detail.department_id, detail.name, None, "", figures, score)
    context = {
        "detail": detail,
        "score": score,
        "dimensions": dimensions,
        "terms": terms,
        "months": [
            {"period": month, "total": display(month_score.total), "grade": month_score.grade_label}
            for month, month_score in (score.months if score else [])
        ],
        "alert_rows": [
            {"kind": label, "count": figures.alerts.get(value, 0)}
            for value, label in AlertKind.choices
            if figures.alerts.get(value)
        ],
        "links": _row_links(row, period),
        "units": [
            {"row": unit, "shown": _shown(unit.figures), "links": _row_links(unit, period)}
            for unit in detail.units
        ],
        "figures": figures,
        "shown": _shown(figures),
        "total": display(score.total) if score else None,
        "errors": errors,
        "period": period,
        "periods": period_choices(timezone.localdate()),
        "back_url": reverse("supervision:evaluation") + "?" + urlencode({"period": period.key}),
        "nav_active": "supervision",
    }
    return render(request, "supervision/reports/department.html", context)


@permission(EVALUATION_VIEW)
def evaluation_export(request: HttpRequest) -> HttpResponse:
    period, level, errors = _period_and_level(request)
    if errors:
        return HttpResponseBadRequest("；".join(errors), content_type="text/plain; charset=utf-8")
    kind = request.GET.get("format", "xlsx")
    if kind not in ("xlsx", "pdf"):
        return HttpResponseBadRequest(
            _("导出格式应为xlsx或pdf"), content_type="text/plain; charset=utf-8"
        )
    report = evaluation.report_for(actor=request.user, period=period, level=level)
    filename = f"evaluation-{period.key}-{level}.{kind}"
    if kind == "xlsx":
        response = HttpResponse(
            exports.report_xlsx(report),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(exports.report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
