"""A small city for supervision tests: two departments with a unit each, a handler and a
leader in each, a city-wide supervisor, and an intake source with its key."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories
from tongban.apps.supervision import permissions, services, sources
from tongban.apps.supervision.models import Source
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.calendar import services as calendar_services
from tongban.platform.orgs.models import Department, Position, Unit

TZ = dt.timezone(dt.timedelta(hours=8))
_ids = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A moment in Beijing time."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def event(kind: str, case: str, when: dt.datetime, **fields: Any) -> dict[str, Any]:
    """One canonical intake event (JSON-ready)."""
    return {
        "id": fields.pop("id", f"e{next(_ids)}"),
        "kind": kind,
        "case": case,
        "occurred_at": when.isoformat(),
        **fields,
    }


def opened_and_accepted(case: str, when: dt.datetime, **extra: Any) -> list[dict[str, Any]]:
    """A promised case of the market regulator (10 of 20 working days) opened and
    accepted at ``when``."""
    base = {
        "department": "SCJGJ",
        "unit": "SCJGJ-XK",
        "handler": "zhang",
        "item_code": "ITEM-1",
        "item_name": "食品经营许可",
        "case_type": "promised",
        "legal_limit_days": 20,
        "promised_limit_days": 10,
        **extra,
    }
    return [event("opened", case, when, **base), event("accepted", case, when)]


@dataclass
class City:
    market: Department
    market_unit: Unit
    health: Department
    health_unit: Unit
    handler: User
    leader: User
    health_handler: User
    supervisor: User
    admin: User
    source: Source
    key: str

    def ingest(self, *events: dict[str, Any], now: dt.datetime | None = None) -> Any:
        """Ingest as if it were a minute after the last event (unless ``now`` says)."""
        if now is None:
            moments = [
                dt.datetime.fromisoformat(e["occurred_at"])
                for e in events
                if isinstance(e, dict)
                and isinstance(e.get("occurred_at"), str)
                and e["occurred_at"][-6:-5] in "+-"
            ]
            now = max(moments) + dt.timedelta(minutes=1) if moments else None
        return services.events_ingest(source=self.source, raw_events=list(events), now=now)


@pytest.fixture
def city(db: Any) -> City:
    calendar_services.invalidate()
    services.forget_org_cache()
    division = factories.division()
    market = factories.department(division, "SCJGJ", "示范市市场监督管理局")
    market_unit = factories.unit(market, "SCJGJ-XK", "行政许可科")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    health_unit = factories.unit(health, "WJW-YZ", "医政科")
    Position.objects.get_or_create(code="局长", defaults={"name": "局长", "is_leader": True})
    respond = factories.role(
        "supervision_respond",
        [permissions.CORRECTION_RESPOND, permissions.EVALUATION_VIEW, permissions.MONITOR_VIEW],
    )
    handler = factories.staff("zhang", market_unit, role_obj=respond, scope=Scope.DEPARTMENT)
    leader = factories.staff(
        "wang", market_unit, role_obj=respond, scope=Scope.DEPARTMENT, position="局长"
    )
    health_handler = factories.staff("li", health_unit, role_obj=respond, scope=Scope.DEPARTMENT)
    supervise = factories.role(
        "supervisor",
        [
            permissions.MONITOR_VIEW,
            permissions.ALERT_OPEN,
            permissions.CORRECTION_REVIEW,
            permissions.RULES_MANAGE,
            permissions.EVALUATION_VIEW,
        ],
    )
    supervisor = factories.staff("jiancha", market_unit, role_obj=supervise, scope=Scope.DIVISION)
    admin = factories.staff(
        "sysadmin",
        role_obj=factories.role("source_admin", [permissions.SOURCE_MANAGE]),
        scope=Scope.ALL,
    )
    source, key = sources.source_create(actor=admin, code="hotline", name="12345热线")
    return City(
        market,
        market_unit,
        health,
        health_unit,
        handler,
        leader,
        health_handler,
        supervisor,
        admin,
        source,
        key,
    )
