"""A small city for exchange tests: a provider (市场监管局), two consumer departments
(卫健委 holds a live grant on the resource, 民政局 none), their officers, a city-wide
monitor, a citizen, and a local HTTP server for webhook deliveries."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tongban.apps.exchange import permissions, services
from tongban.apps.exchange.models import ExchangeJob
from tongban.apps.sharing.models import (
    ConsumerSystem,
    Grant,
    Resource,
    ResourceClass,
    ResourceVersion,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department

RESOURCE_CODE = "2010010001"
COLUMNS = ["uscc", "name", "licence_no"]


@dataclass
class City:
    market: Department
    health: Department
    civil: Department
    provider: User
    health_officer: User
    civil_officer: User
    monitor: User
    citizen: User
    resource: Resource
    health_system: ConsumerSystem
    civil_system: ConsumerSystem

    def grant(self, system: ConsumerSystem, **fields: Any) -> Grant:
        now = timezone.now()
        values: dict[str, Any] = {
            "resource": self.resource,
            "consumer_system": system,
            "consumer_department": system.department,
            "items": ["uscc", "name"],
            "valid_from": now - dt.timedelta(days=1),
            "expires_at": now + dt.timedelta(days=30),
            "created_by": self.provider,
            **fields,
        }
        return Grant.objects.create(**values)

    def job(self, **fields: Any) -> ExchangeJob:
        values: dict[str, Any] = {
            "actor": self.provider,
            "provider_id": self.market.pk,
            "name": "食品经营许可信息",
            "resource_code": RESOURCE_CODE,
            "direction": "push",
            "data_format": "csv",
            "columns": COLUMNS,
            "schedule_kind": "daily",
            "interval_hours": None,
            "daily_at": dt.time(2, 0),
            "consumer_ids": [self.health.pk, self.civil.pk],
            **fields,
        }
        return services.job_create(**values)


@pytest.fixture
def city(db: Any) -> City:
    division = factories.division()
    market = factories.department(division, "SCJGJ", "示范市市场监督管理局")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    civil = factories.department(division, "MZJ", "示范市民政局")
    market_unit = factories.unit(market, "SCJGJ-XK", "行政许可科")
    health_unit = factories.unit(health, "WJW-YZ", "医政科")
    civil_unit = factories.unit(civil, "MZJ-HY", "婚姻登记科")
    manage = factories.role("exchange_provider", [permissions.JOB_MANAGE])
    receive = factories.role("exchange_consumer", [permissions.DELIVERY_RECEIVE])
    watch = factories.role("exchange_monitor", [permissions.MONITOR_VIEW])
    provider = factories.staff("scj", market_unit, role_obj=manage, scope=Scope.DEPARTMENT)
    health_officer = factories.staff("wjw", health_unit, role_obj=receive, scope=Scope.DEPARTMENT)
    civil_officer = factories.staff("mzj", civil_unit, role_obj=receive, scope=Scope.DEPARTMENT)
    monitor = factories.staff("dsj", market_unit, role_obj=watch, scope=Scope.DIVISION)
    citizen = factories.citizen()
    resource = Resource.objects.create(
        code=RESOURCE_CODE, resource_class=ResourceClass.DEPARTMENTAL, provider=market
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.PUBLISHED,
        classification="2-01-001",
        name="食品经营许可信息",
        summary="食品经营许可证照信息",
        format="spreadsheet",
        share_type=ShareType.CONDITIONAL,
        share_method=ShareMethod.EXCHANGE,
        update_cycle=UpdateCycle.DAILY,
        created_by=provider,
    )
    resource.current = version
    resource.save(update_fields=["current"])
    health_system = ConsumerSystem.objects.create(
        code="wjw-platform",
        name="一网通办（卫健委）",
        department=health,
        client_id="client-wjw-platform",
        is_platform=True,
    )
    civil_system = ConsumerSystem.objects.create(
        code="mzj-platform",
        name="一网通办（民政局）",
        department=civil,
        client_id="client-mzj-platform",
        is_platform=True,
    )
    city = City(
        market,
        health,
        civil,
        provider,
        health_officer,
        civil_officer,
        monitor,
        citizen,
        resource,
        health_system,
        civil_system,
    )
    city.grant(health_system)
    return city


@dataclass
class Receiver:
    url: str
    fail_first: int = 0
    status_on_failure: int = 503
    bodies: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    calls: int = 0


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that fails ``fail_first`` times, then accepts."""
    settings.TONGBAN_EXCHANGE_ALLOW_HTTP_LOOPBACK = True
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            state.calls += 1
            if state.calls <= state.fail_first:
                self.send_response(state.status_on_failure)
                self.end_headers()
                return
            state.bodies.append((dict(self.headers.items()), body))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()
