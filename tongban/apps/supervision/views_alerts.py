"""Warning and correction pages (预警纠错): the alert list and page with the correction
item's actions (htmx), the manual alert form, the department's correction inbox, the rule
and scoring configuration and the intake systems. Each view parses the request, calls one
service or read of ``corrections``/``config``/``sources`` and renders."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tongban.apps.supervision import config, corrections, permissions, sources
from tongban.apps.supervision.models import (
    AlertKind,
    AlertState,
    Dimension,
    RuleSetVersion,
    ScoringVersion,
    Severity,
    Source,
)
from tongban.apps.supervision.rules import (
    RuleParams,
    ScoringParams,
    params_to_dict,
)
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import deny, has_permission
from tongban.platform.api.errors import ServiceError
from tongban.platform.orgs.models import Department, Unit
from tongban.platform.ui.forms import date_or_none as _day
from tongban.platform.ui.forms import error_lines as _error_lines
from tongban.platform.ui.forms import int_or_none as _number

PAGE_SIZE = 20
NAV = "supervision"
GRADE_LABELS = {
    "excellent": gettext_lazy("优秀"),
    "good": gettext_lazy("良好"),
    "pass": gettext_lazy("合格"),
}


# --------------------------------------------------------------------------- alerts


@permission(permissions.MONITOR_VIEW)
def alert_list(request: HttpRequest) -> HttpResponse:
    """Alerts in the viewer's scope, filtered by kind, severity, department, state, date."""
    query = request.GET
    filters = corrections.AlertFilters(
        kind=query.get("kind", "") if query.get("kind") in AlertKind.values else "",
        severity=query.get("severity", "") if query.get("severity") in Severity.values else "",
        department=_number(query.get("department")),
        state=query.get("state", "") if query.get("state") in AlertState.values else "",
        date=_day(query.get("date")),
    )
    alerts = corrections.alert_list_for(actor=request.user, filters=filters)
    page = Paginator(alerts, PAGE_SIZE).get_page(query.get("page"))
    rest = query.copy()
    rest.pop("page", None)
    departments = corrections.scope_queryset(
        request.user,
        Department.objects.order_by("code"),
        permissions.MONITOR_VIEW,
        corrections.DEPARTMENT_SCOPE,
    )
    context = {
        "nav_active": NAV,
        "page": page,
        "filters": filters,
        "kinds": AlertKind.choices,
        "severities": Severity.choices,
        "states": AlertState.choices,
        "departments": departments,
        "querystring": rest.urlencode(),
        "may_open": has_permission(request.user, permissions.ALERT_OPEN),
    }
    return render(request, "supervision/alerts/list.html", context)


def _alert_context(request: HttpRequest, alert_id: int) -> dict[str, Any]:
    alert = corrections.access_alert_by_id(request.user, alert_id)
    correction = corrections.correction_of(alert)
    return {
        "nav_active": NAV,
        "alert": alert,
        "correction": correction,
        "entries": list(corrections.correction_entries(correction)) if correction else [],
        "actions": corrections.correction_actions(request.user, correction),
        "escalations": list(alert.escalations.all()),
    }


@signed_in
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    """One alert: its case, the correction item's full history and the viewer's actions."""
    return render(request, "supervision/alerts/detail.html", _alert_context(request, alert_id))


def _explain(request: HttpRequest, item: Any) -> str:
    corrections.correction_explain(
        actor=request.user,
        correction=item,
        text=request.POST.get("text", ""),
        rectified=request.POST.get("rectified") == "1",
    )
    return _("已提交，等待监察人员审核")


def _accept(request: HttpRequest, item: Any) -> str:
    corrections.correction_accept(
        actor=request.user, correction=item, note=request.POST.get("note", "")
    )
    return _("已采纳，纠错单办结")


def _reject(request: HttpRequest, item: Any) -> str:
    corrections.correction_reject(
        actor=request.user, correction=item, reason=request.POST.get("reason", "")
    )
    return _("已退回，部门须重新说明或整改")


def _remind(request: HttpRequest, item: Any) -> str:
    corrections.correction_remind(
        actor=request.user, correction=item, text=request.POST.get("text", "")
    )
    return _("已催办")


ACTIONS: dict[str, Callable[[HttpRequest, Any], str]] = {
    "explain": _explain,
    "accept": _accept,
    "reject": _reject,
    "remind": _remind,
}


@signed_in
@require_POST
def alert_act(request: HttpRequest, alert_id: int, action: str) -> HttpResponse:
    """One action on the alert's correction item; an htmx request gets the refreshed
    correction panel back, a plain form post the page."""
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404
    alert = corrections.access_alert_by_id(request.user, alert_id)
    item = corrections.correction_of(alert)
    if item is None:
        raise Http404
    errors: list[str] = []
    done = ""
    try:
        done = handler(request, item)
    except ValidationError as error:
        errors = list(dict.fromkeys(_error_lines(error)))
    if request.htmx:  # type: ignore[attr-defined]
        context = _alert_context(request, alert_id)
        context.update({"errors": errors, "done": done, "posted": request.POST})
        status = 422 if errors else 200
        return render(request, "supervision/alerts/_correction.html", context, status=status)
    for line in errors:
        messages.error(request, line)
    if done:
        messages.success(request, done)
    return redirect("supervision:alert", alert_id=alert.pk)


@permission(permissions.ALERT_OPEN)
def alert_new(request: HttpRequest) -> HttpResponse:
    """The manual alert form (人工督办); ``?case=<id>`` prefills the case's department."""
    actor = request.user
    departments = list(corrections.departments_for_manual_alert(actor))
    source = request.POST if request.method == "POST" else request.GET
    case_id = _number(source.get("case"))
    case = corrections.case_for_manual_alert(actor, case_id) if case_id else None
    if case_id and case is None:
        raise Http404
    errors: list[str] = []
    if request.method == "POST":
        department = next(
            (d for d in departments if d.pk == _number(request.POST.get("department"))), None
        )
        unit = None
        unit_id = _number(request.POST.get("unit"))
        if unit_id:
            unit = Unit.objects.filter(pk=unit_id).first()
        if department is None:
            errors.append(_("请选择责任部门"))
        else:
            try:
                alert = corrections.alert_open_manual(
                    actor=actor,
                    department=department,
                    case=case,
                    dimension=request.POST.get("dimension", ""),
                    detail=request.POST.get("detail", ""),
                    unit=unit,
                    handler=request.POST.get("handler", ""),
                )
            except ValidationError as error:
                errors = list(dict.fromkeys(_error_lines(error)))
            else:
                messages.success(request, _("已发起督办，纠错单已送达责任部门"))
                return redirect("supervision:alert", alert_id=alert.pk)
    selected = _number(source.get("department")) or (case.department_id if case else None)
    units = Unit.objects.filter(department__in=departments).order_by("department_id", "code")
    context = {
        "nav_active": NAV,
        "case": case,
        "departments": departments,
        "units": units,
        "dimensions": Dimension.choices,
        "selected_department": selected,
        "selected_unit": _number(source.get("unit")) or (case.unit_id if case else None),
        "selected_dimension": source.get("dimension", Dimension.INSPECTION),
        "detail": source.get("detail", ""),
        "handler": source.get("handler", case.handler if case else ""),
        "errors": errors,
    }
    return render(request, "supervision/alerts/new.html", context, status=422 if errors else 200)


# --------------------------------------------------------------------------- corrections


@signed_in
def correction_inbox(request: HttpRequest) -> HttpResponse:
    """The department's items to explain or rectify, and the items awaiting the
    supervisor's verdict, with the recently closed ones."""
    actor = request.user
    respond = has_permission(actor, permissions.CORRECTION_RESPOND)
    review = has_permission(actor, permissions.CORRECTION_REVIEW)
    if not respond and not review:
        deny(actor, permissions.CORRECTION_RESPOND)
    context = {
        "nav_active": NAV,
        "respond": respond,
        "review": review,
        "to_respond": list(corrections.corrections_to_respond(actor)[:200]) if respond else [],
        "to_review": list(corrections.corrections_to_review(actor)[:200]) if review else [],
        "supervised": list(corrections.corrections_supervised(actor)[:200]) if review else [],
        "closed": corrections.corrections_closed(actor),
        "today": timezone.localdate(),
    }
    return render(request, "supervision/alerts/corrections.html", context)


# --------------------------------------------------------------------------- rules


RULE_NUMBERS = [
    ("prompt_days_before", gettext_lazy("临近承诺期限提前提醒（工作日，0为关闭）")),
    ("prompt_elapsed_ratio", gettext_lazy("已用时限比例提醒（如0.80）")),
    ("correction_days", gettext_lazy("纠错说明或整改期限（工作日）")),
    ("red_card_after_days", gettext_lazy("黄牌逾期多少个工作日后升级红牌")),
    ("max_corrections", gettext_lazy("允许的补正次数")),
    ("max_pause_days", gettext_lazy("未约定时暂停计时上限（工作日）")),
    ("fee_tolerance", gettext_lazy("收费允许误差（元）")),
]
SCORING_NUMBERS = [
    ("overdue_points_per_percent", gettext_lazy("期限合法：每1%超期扣分")),
    ("late_correction_points", gettext_lazy("监督检查：每件未按期整改扣分")),
    ("satisfied_min_level", gettext_lazy("满意度：计为满意的最低评价等级")),
    ("warnings_run", gettext_lazy("连续提醒次数（每满此数扣分）")),
    ("warnings_run_penalty", gettext_lazy("连续提醒扣分")),
    ("yellow_card_penalty", gettext_lazy("黄牌扣分")),
    ("red_card_penalty", gettext_lazy("红牌扣分")),
    ("early_bonus_step", gettext_lazy("提前办结加分步长（比例）")),
    ("early_bonus_points", gettext_lazy("提前办结每步加分")),
    ("shortened_threshold", gettext_lazy("承诺时限压缩门槛（比例）")),
    ("shortened_bonus", gettext_lazy("压缩达到门槛加分")),
    ("shortened_bonus_step", gettext_lazy("压缩每进一步（比例）")),
    ("shortened_bonus_points", gettext_lazy("压缩每进一步加分")),
    ("incomplete_points_per_percent", gettext_lazy("数据不完整每1%扣分")),
    ("incomplete_penalty_max", gettext_lazy("数据不完整最多扣分")),
]


def _rules_from_post(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: post.get(name, "").strip() for name, _label in RULE_NUMBERS}
    data["enabled"] = [kind for kind in post.getlist("enabled") if kind in AlertKind.values]
    minutes: dict[str, str] = {}
    for line in post.get("min_handling_minutes", "").splitlines():
        if not line.strip():
            continue
        code, _sep, value = line.partition("=")
        minutes[code.strip()] = value.strip()
    data["min_handling_minutes"] = minutes
    return data


def _scoring_from_post(post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {name: post.get(name, "").strip() for name, _label in SCORING_NUMBERS}
    data["weights"] = {key: post.get(f"weight_{key}", "").strip() for key in Dimension.values}
    data["alert_points"] = {
        key: post.get(f"points_{key}", "").strip() for key in ScoringParams().alert_points
    }
    data["grades"] = {key: post.get(f"grade_{key}", "").strip() for key in GRADE_LABELS}
    return data


def _rules_context(
    rule_values: dict[str, Any] | None = None, scoring_values: dict[str, Any] | None = None
) -> dict[str, Any]:
    rule_version, rule_params = config.rules_current()
    scoring_version, scoring_params = config.scoring_current()
    rules = rule_values or params_to_dict(rule_params)
    scoring = scoring_values or params_to_dict(scoring_params)
    minutes = rules.get("min_handling_minutes") or {}
    labels = dict(AlertKind.choices)
    dimension_labels = dict(Dimension.choices)
    total = sum((Decimal(str(v or 0)) for v in scoring["weights"].values()), Decimal(0))
    return {
        "nav_active": NAV,
        "rule_version": rule_version,
        "scoring_version": scoring_version,
        "rule_fields": [(name, label, rules.get(name, "")) for name, label in RULE_NUMBERS],
        "kinds": [
            (kind, labels[kind], kind in rules.get("enabled", []))
            for kind in AlertKind.values
            if kind != AlertKind.MANUAL
        ],
        "minutes_text": "\n".join(f"{code}={value}" for code, value in minutes.items()),
        "scoring_fields": [(name, label, scoring.get(name, "")) for name, label in SCORING_NUMBERS],
        "weights": [
            (key, dimension_labels[key], scoring["weights"].get(key, ""))
            for key in Dimension.values
        ],
        "weights_total": total,
        "alert_points": [
            (key, labels[key], scoring["alert_points"].get(key, ""))
            for key in ScoringParams().alert_points
        ],
        "grades": [
            (key, label, scoring["grades"].get(key, "")) for key, label in GRADE_LABELS.items()
        ],
        "rule_history": RuleSetVersion.objects.select_related("created_by").order_by("-number")[
            :50
        ],
        "scoring_history": ScoringVersion.objects.select_related("created_by").order_by("-number")[
            :50
        ],
        "defaults_rules": params_to_dict(RuleParams()),
    }


@permission(permissions.RULES_MANAGE)
def rules_page(request: HttpRequest) -> HttpResponse:
    """Rule thresholds and scoring weights: the current version, a form writing a new one
    (nothing saved when any value is bad) and the version history."""
    from tongban.apps.supervision.rules import ParamsError

    errors: dict[str, list[str]] = {}
    rule_values = scoring_values = None
    if request.method == "POST":
        which = request.POST.get("which")
        note = request.POST.get("note", "").strip()
        try:
            if which == "rules":
                rule_values = _rules_from_post(request.POST)
                version: Any = config.rules_update(actor=request.user, data=rule_values, note=note)
                messages.success(request, _("已保存为规则第%(n)d版") % {"n": version.number})
            elif which == "scoring":
                scoring_values = _scoring_from_post(request.POST)
                version = config.scoring_update(actor=request.user, data=scoring_values, note=note)
                messages.success(request, _("已保存为评分权重第%(n)d版") % {"n": version.number})
            else:
                raise Http404
        except ParamsError as error:
            errors[which or ""] = error.errors
        else:
            return redirect("supervision:rules")
    context = _rules_context(
        rule_values if errors.get("rules") else None,
        scoring_values if errors.get("scoring") else None,
    )
    context["errors"] = errors
    return render(request, "supervision/alerts/rules.html", context, status=422 if errors else 200)


# --------------------------------------------------------------------------- sources


def _sources_render(
    request: HttpRequest, *, key: str = "", key_for: Source | None = None, errors: list[str]
) -> HttpResponse:
    context = {
        "nav_active": NAV,
        "sources": Source.objects.select_related("department").order_by("code"),
        "departments": Department.objects.order_by("code"),
        "key": key,
        "key_for": key_for,
        "errors": errors,
        "posted": request.POST if errors else {},
    }
    response = render(
        request, "supervision/alerts/sources.html", context, status=422 if errors else 200
    )
    if key:
        response["Cache-Control"] = "no-store"
    return response


@permission(permissions.SOURCE_MANAGE)
def sources_page(request: HttpRequest) -> HttpResponse:
    """The intake systems: list and register one (its key is shown once)."""
    if request.method != "POST":
        return _sources_render(request, errors=[])
    department = None
    department_id = _number(request.POST.get("department"))
    if department_id:
        department = Department.objects.filter(pk=department_id).first()
    try:
        source, key = sources.source_create(
            actor=request.user,
            code=request.POST.get("code", ""),
            name=request.POST.get("name", ""),
            department=department,
        )
    except ServiceError as error:
        return _sources_render(request, errors=[error.message])
    return _sources_render(request, key=key, key_for=source, errors=[])


@permission(permissions.SOURCE_MANAGE)
@require_POST
def source_act(request: HttpRequest, source_id: int, action: str) -> HttpResponse:
    """Rotate a system's key (shown once) or switch it on or off."""
    source = get_object_or_404(Source, pk=source_id)
    try:
        if action == "rotate":
            key = sources.source_rotate_key(actor=request.user, source=source)
            return _sources_render(request, key=key, key_for=source, errors=[])
        if action in ("activate", "deactivate"):
            sources.source_set_active(
                actor=request.user, source=source, active=action == "activate"
            )
            messages.success(
                request,
                _("已启用：%(name)s") % {"name": source.name}
                if action == "activate"
                else _("已停用：%(name)s") % {"name": source.name},
            )
            return redirect("supervision:sources")
    except ServiceError as error:
        return _sources_render(request, errors=[error.message])
    raise Http404
