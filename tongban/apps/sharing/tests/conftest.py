"""A small city for sharing tests: the city big-data bureau (catalogue administrators),
public security and health as provider/consumer departments, an officer of each with
department-scoped sharing roles, a plain staff member and a citizen.

Kept generic on purpose: each sharing area builds its own data in
``tests/fixtures_<area>.py`` on top of ``sharing_org``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories
from tongban.apps.sharing import permissions
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department, Division, Unit


@dataclass
class SharingOrg:
    division: Division
    bureau: Department  # 大数据管理局: reviews and publishes the catalogue
    police: Department
    police_unit: Unit
    health: Department
    health_unit: Unit
    reviewer: User  # CATALOGUE_REVIEW + VIEW, city (division) scope
    police_officer: User  # CATALOGUE_EDIT + VIEW + REQUEST_*, public security
    health_officer: User  # the same role, health commission
    viewer: User  # CATALOGUE_VIEW only (health)
    plain_staff: User  # staff without any sharing permission
    citizen: User


@pytest.fixture
def sharing_org(db: Any) -> SharingOrg:
    division = factories.division()
    bureau = factories.department(division, "DSJJ", "示范市大数据管理局")
    bureau_unit = factories.unit(bureau, "DSJJ-ZY", "数据资源处")
    police = factories.department(division, "GAJ", "示范市公安局")
    police_unit = factories.unit(police, "GAJ-HZ", "户政管理支队")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    health_unit = factories.unit(health, "WJW-XX", "信息中心")
    officer_role = factories.role(
        "sharing_officer",
        [
            permissions.CATALOGUE_VIEW,
            permissions.CATALOGUE_EDIT,
            permissions.REQUEST_CREATE,
            permissions.REQUEST_REVIEW,
        ],
    )
    reviewer_role = factories.role(
        "catalogue_admin", [permissions.CATALOGUE_VIEW, permissions.CATALOGUE_REVIEW]
    )
    viewer_role = factories.role("catalogue_viewer", [permissions.CATALOGUE_VIEW])
    return SharingOrg(
        division=division,
        bureau=bureau,
        police=police,
        police_unit=police_unit,
        health=health,
        health_unit=health_unit,
        reviewer=factories.staff(
            "ml_reviewer", bureau_unit, role_obj=reviewer_role, scope=Scope.DIVISION
        ),
        police_officer=factories.staff(
            "ml_police", police_unit, role_obj=officer_role, scope=Scope.DEPARTMENT
        ),
        health_officer=factories.staff(
            "ml_health", health_unit, role_obj=officer_role, scope=Scope.DEPARTMENT
        ),
        viewer=factories.staff(
            "ml_viewer", health_unit, role_obj=viewer_role, scope=Scope.DEPARTMENT
        ),
        plain_staff=factories.staff("ml_plain", police_unit),
        citizen=factories.citizen("ml_citizen"),
    )
