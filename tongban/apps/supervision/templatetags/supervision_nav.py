"""The supervision sub-navigation: which areas the viewer may open and which one is current.

Used by ``supervision/_subnav.html`` (every supervision page includes it), so each link is
shown only to holders of the permission its target page requires.
"""

from __future__ import annotations

from typing import Any

from django import template

from tongban.apps.supervision.permissions import (
    CORRECTION_RESPOND,
    CORRECTION_REVIEW,
    EVALUATION_VIEW,
    MONITOR_VIEW,
    RULES_MANAGE,
    SOURCE_MANAGE,
)
from tongban.platform.access.services import has_permission

register = template.Library()

# URL name (in the "supervision" namespace) → sub-navigation area
AREA_OF_URL = {
    "home": "monitor",
    "cases": "monitor",
    "case": "monitor",
    "alerts": "alerts",
    "alert": "alerts",
    "alert_new": "alerts",
    "corrections": "alerts",
    "evaluation": "evaluation",
    "evaluation_export": "evaluation",
    "evaluation_department": "evaluation",
    "ranking": "evaluation",
    "rules": "rules",
    "sources": "sources",
}


def current_area(request: Any) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None or "supervision" not in getattr(match, "namespaces", []):
        return ""
    name = match.url_name or ""
    if name in AREA_OF_URL:
        return AREA_OF_URL[name]
    for prefix, area in (
        ("alert", "alerts"),
        ("correction", "alerts"),
        ("evaluation", "evaluation"),
        ("rule", "rules"),
        ("source", "sources"),
    ):
        if name.startswith(prefix):
            return area
    return "monitor"


@register.simple_tag(takes_context=True)
def supervision_nav(context: template.Context) -> dict[str, Any]:
    """``{% supervision_nav as nav %}``: ``nav.monitor`` … ``nav.sources`` (may see),
    ``nav.corrections_only`` (a department officer without the alert list: the 预警纠错
    link goes to the correction inbox) and ``nav.active``."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    monitor = has_permission(user, MONITOR_VIEW)
    respond = has_permission(user, CORRECTION_RESPOND)
    review = has_permission(user, CORRECTION_REVIEW)
    return {
        "monitor": monitor,
        "alerts": monitor or respond or review,
        "corrections_only": not monitor and (respond or review),
        "evaluation": has_permission(user, EVALUATION_VIEW),
        "rules": has_permission(user, RULES_MANAGE),
        "sources": has_permission(user, SOURCE_MANAGE),
        "active": current_area(request),
    }
