"""Builders for the licence tests: a small city and a licence issued in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests import factories
from tongban.apps.licences import permissions, services
from tongban.apps.licences.models import Licence
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department


@dataclass
class City:
    market: Department
    health: Department
    officer: User  # issue, view and revoke at the market regulator
    viewer: User  # view only, at the market regulator
    health_officer: User  # every licence permission, but at the health commission
    citizen: User
    other_citizen: User


def small_city() -> City:
    division = factories.division()
    market = factories.department(division, "SCJG", "示范市市场监督管理局")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    market_unit = factories.unit(market, "SCJG-XK", "行政许可科")
    health_unit = factories.unit(health, "WJW-XK", "行政许可科")
    all_licence = factories.role(
        "licence_officer",
        [
            permissions.LICENCE_ISSUE,
            permissions.LICENCE_VIEW,
            permissions.LICENCE_REVOKE,
            permissions.TYPE_MANAGE,
        ],
    )
    view_only = factories.role("licence_viewer", [permissions.LICENCE_VIEW])
    return City(
        market=market,
        health=health,
        officer=factories.staff(
            "officer", market_unit, role_obj=all_licence, scope=Scope.DEPARTMENT
        ),
        viewer=factories.staff("viewer", market_unit, role_obj=view_only, scope=Scope.DEPARTMENT),
        health_officer=factories.staff(
            "health_officer", health_unit, role_obj=all_licence, scope=Scope.DEPARTMENT
        ),
        citizen=factories.citizen("citizen", "张三丰"),
        other_citizen=factories.citizen("other", "李四"),
    )


def issue(city: City, **overrides: Any) -> Licence:
    """A food business licence for the first citizen, issued by the market regulator."""
    values: dict[str, Any] = {
        "actor": city.officer,
        "type_code": "SPJY",
        "name": "食品经营许可证",
        "holder_name": city.citizen.person.name,
        "holder_id_type": "resident_id",
        "holder_id_number": city.citizen.person.id_number,
        "issuer_department_id": city.market.pk,
        "valid_until": None,
        "fields": {"经营场所": "示范市中山路1号", "主体业态": "餐饮服务经营者"},
        "source": "",
    }
    values.update(overrides)
    return services.licence_issue(**values)
