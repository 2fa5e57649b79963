"""Shell pages: home, staff workbench, personal space, health and metrics."""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_prometheus.exports import ExportToDjangoView

from tongban.platform.access.decorators import permission, public, signed_in
from tongban.platform.access.permissions import WORKBENCH
from tongban.platform.ui import selectors
from tongban.platform.ui.health import health_report
from tongban.platform.ui.navigation import personal_links

WORKBENCH_TABS = ("todo", "done", "messages")


@public
def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("ui:workbench" if request.user.kind == "staff" else "ui:personal")
    return render(request, "ui/home.html")


@permission(WORKBENCH)
def workbench(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "todo")
    if tab not in WORKBENCH_TABS:
        tab = "todo"
    context = {
        "nav_active": "workbench",
        "tab": tab,
        "profile": selectors.staff_profile(request.user),
        "summary": selectors.workbench_summary(request.user),
        **selectors.workbench_tab(request.user, tab),
    }
    return render(request, "ui/workbench.html", context)


@permission(WORKBENCH)
def workbench_tab(request: HttpRequest, tab: str) -> HttpResponse:
    if tab not in WORKBENCH_TABS:
        raise Http404
    context = {"tab": tab, **selectors.workbench_tab(request.user, tab)}
    return render(request, "ui/_workbench_tab.html", context)


@signed_in
def personal(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    if user.kind == "staff":
        return redirect("ui:workbench")
    context = {
        "nav_active": "personal",
        "personal_links": personal_links(request.user),
        **selectors.personal_space(request.user),
    }
    return render(request, "ui/personal.html", context)


@public
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    return JsonResponse(
        report.as_dict(),
        status=200 if report.ok else 503,
        json_dumps_params={"ensure_ascii": False},
    )


@public
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics. With TONGBAN_METRICS_TOKEN set, a bearer token is required;
    otherwise restrict /metrics at the reverse proxy (docs/DEPLOY.md)."""
    token = getattr(settings, "TONGBAN_METRICS_TOKEN", "")
    if token:
        supplied = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ")
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return HttpResponse(status=401)
    response: HttpResponse = ExportToDjangoView(request)
    return response
