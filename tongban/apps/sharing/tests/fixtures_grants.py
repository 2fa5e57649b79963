"""A small city for the grants tests: a provider (公安局) with a conditional and an
unconditional resource and one not shared, a consumer (民政局) with a system, and a third
department (人社局) with its own officers. Import the fixture into a test module:

    from tongban.apps.sharing.tests import fixtures_grants
    grants_city = fixtures_grants.grants_city
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tongban.apps.sharing import grants, permissions
from tongban.apps.sharing.models import (
    ConsumerSystem,
    InfoItem,
    Resource,
    ResourceVersion,
    ShareType,
    VersionStatus,
)
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.calendar import services as calendar_services
from tongban.platform.orgs.models import Department

ITEMS = [
    ("id_number", "公民身份号码", "personal"),
    ("name", "姓名", "sensitive"),
    ("gender", "性别", "internal"),
    ("household_address", "户籍地址", "personal"),
]


def make_resource(
    provider: Department, code: str, name: str, share_type: str, author: User
) -> Resource:
    resource = Resource.objects.create(
        code=code, resource_class="base", provider=provider, service_code="basedata.person"
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.PUBLISHED,
        classification="1-01-001",
        name=name,
        summary=name,
        format="database",
        share_type=share_type,
        share_conditions="《中华人民共和国居民身份证法》"
        if share_type != ShareType.UNCONDITIONAL
        else "",
        update_cycle="realtime",
        published_on=timezone.localdate(),
        created_by=author,
    )
    for order, (item_code, item_name, sensitivity) in enumerate(ITEMS):
        InfoItem.objects.create(
            version=version,
            order=order,
            code=item_code,
            name=item_name,
            data_type="string",
            sensitivity=sensitivity,
        )
    resource.current = version
    resource.save(update_fields=["current"])
    return resource


@dataclass
class GrantsCity:
    provider: Department
    consumer: Department
    other: Department
    reviewer: User  # provider: REQUEST_REVIEW + GRANT_MANAGE
    officer: User  # consumer: REQUEST_CREATE
    other_officer: User  # other department: all sharing request permissions
    sysadmin: User  # consumer: SYSTEM_MANAGE
    city_admin: User  # everything, city-wide
    conditional: Resource
    unconditional: Resource
    not_shared: Resource
    system: ConsumerSystem
    other_system: ConsumerSystem
    secret: str

    def request(self, resource: Resource | None = None, **overrides: Any) -> Any:
        today = timezone.localdate()
        fields: dict[str, Any] = {
            "actor": self.officer,
            "resource": resource or self.conditional,
            "system": self.system,
            "items": ["id_number", "name", "gender"],
            "purpose": "最低生活保障资格核查",
            "legal_basis": "《社会救助暂行办法》第十一条",
            "period_start": today,
            "period_end": today + dt.timedelta(days=365),
        }
        fields.update(overrides)
        return grants.request_create(**fields)


@pytest.fixture
def grants_city(db: Any) -> GrantsCity:
    calendar_services.invalidate()
    division = factories.division()
    provider = factories.department(division, "GAJ", "示范市公安局")
    provider_unit = factories.unit(provider, "GAJ-HZ", "户政科")
    consumer = factories.department(division, "MZJ", "示范市民政局")
    consumer_unit = factories.unit(consumer, "MZJ-JZ", "社会救助科")
    other = factories.department(division, "RSJ", "示范市人力资源和社会保障局")
    other_unit = factories.unit(other, "RSJ-JY", "就业科")
    review = factories.role(
        "sharing_review", [permissions.REQUEST_REVIEW, permissions.GRANT_MANAGE]
    )
    create = factories.role("sharing_create", [permissions.REQUEST_CREATE])
    officer_all = factories.role(
        "sharing_officer",
        [
            permissions.REQUEST_CREATE,
            permissions.REQUEST_REVIEW,
            permissions.GRANT_MANAGE,
            permissions.SYSTEM_MANAGE,
        ],
    )
    manage = factories.role("sharing_systems", [permissions.SYSTEM_MANAGE])
    reviewer = factories.staff("gaj_review", provider_unit, role_obj=review, scope=Scope.DEPARTMENT)
    officer = factories.staff("mzj_officer", consumer_unit, role_obj=create, scope=Scope.DEPARTMENT)
    other_officer = factories.staff(
        "rsj_officer", other_unit, role_obj=officer_all, scope=Scope.DEPARTMENT
    )
    sysadmin = factories.staff("mzj_admin", consumer_unit, role_obj=manage, scope=Scope.DEPARTMENT)
    city_admin = factories.staff(
        "city_admin", role_obj=factories.role("sharing_city", None), scope=Scope.ALL
    )
    conditional = make_resource(
        provider, "1010010001", "人口基本信息", ShareType.CONDITIONAL, reviewer
    )
    unconditional = make_resource(
        provider, "1010010002", "户籍地址信息", ShareType.UNCONDITIONAL, reviewer
    )
    not_shared = make_resource(provider, "1010010003", "在逃人员信息", ShareType.NONE, reviewer)
    system, secret = grants.system_create(
        actor=sysadmin, department=consumer, code="mzj-dibao", name="低保审批系统"
    )
    other_system, _secret = grants.system_create(
        actor=other_officer, department=other, code="rsj-jiuye", name="就业服务系统"
    )
    return GrantsCity(
        provider=provider,
        consumer=consumer,
        other=other,
        reviewer=reviewer,
        officer=officer,
        other_officer=other_officer,
        sysadmin=sysadmin,
        city_admin=city_admin,
        conditional=conditional,
        unconditional=unconditional,
        not_shared=not_shared,
        system=system,
        other_system=other_system,
        secret=secret,
    )
