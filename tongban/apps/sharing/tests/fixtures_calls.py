"""A small sharing city for the statistics, call log and transparency tests: a provider
(public security) and two consumer departments with a system each, two published
resources, a few gateway calls with their subjects, and the people who look at them.

Import the ``sharing_city`` fixture into a test module:
``from tongban.apps.sharing.tests.fixtures_calls import sharing_city_fixture  # noqa: F401``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tests import factories
from tongban.apps.sharing import permissions
from tongban.apps.sharing.models import (
    CallResult,
    ConsumerSystem,
    GatewayCall,
    GatewayCallSubject,
    Resource,
    ResourceClass,
    ResourceVersion,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import AgentAuthorisation, LegalPerson, User
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department

SUBJECT_PURPOSE = "sharing.subject"


def local(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timezone.get_current_timezone())


@dataclass
class SharingCity:
    police: Department
    health: Department
    civil: Department
    person_resource: Resource
    licence_resource: Resource
    health_system: ConsumerSystem
    civil_system: ConsumerSystem
    city_viewer: User  # statistics + log, city-wide
    police_viewer: User  # statistics + log, public security (provider)
    health_viewer: User  # statistics + log, health commission (consumer)
    civil_viewer: User  # statistics + log, civil affairs (consumer of licences only)
    plain_staff: User  # no sharing permission
    auditor: User  # admin role auditor holding LOG_VIEW city-wide
    citizen_a: User
    citizen_b: User
    agent: User  # citizen acting for ``enterprise``
    enterprise: LegalPerson
    today: dt.date

    def call(
        self,
        *,
        at: dt.datetime,
        resource: Resource,
        system: ConsumerSystem,
        subjects: list[str] = (),  # type: ignore[assignment]
        result: str = CallResult.OK,
        records: int = 1,
        latency_ms: float = 10.0,
        purpose: str = "办理出生登记",
        case_number: str = "",
        query: dict[str, str] | None = None,
    ) -> GatewayCall:
        call = GatewayCall.objects.create(
            at=at,
            consumer_system=system,
            consumer_department=system.department,
            resource=resource,
            provider_department=resource.provider,
            purpose=purpose,
            query=json.dumps(query or {}, ensure_ascii=False),
            records=records,
            result=result,
            latency_ms=latency_ms,
            case_number=case_number,
            digest="0" * 64,
        )
        GatewayCallSubject.objects.bulk_create(
            GatewayCallSubject(call=call, subject_hash=lookup_hmac(number, purpose=SUBJECT_PURPOSE))
            for number in subjects
        )
        return call


def id_of(user: User) -> str:
    """The user's resident ID in clear."""
    assert user.person is not None
    return str(user.person.id_number)


def sign_in(client: Client, user: User) -> Client:
    """Sign ``user`` in; a user who must use a second factor gets a verified session."""
    client.logout()
    return factories.sign_in_verified(client, user)


def _resource(code: str, name: str, provider: Department, author: User) -> Resource:
    resource = Resource.objects.create(
        code=code, resource_class=ResourceClass.BASE, provider=provider, service_code="x"
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.PUBLISHED,
        classification="1-01-001",
        name=name,
        summary=name,
        format="database",
        share_type=ShareType.CONDITIONAL,
        share_conditions="依法履职",
        update_cycle=UpdateCycle.REALTIME,
        created_by=author,
    )
    resource.current = version
    resource.save(update_fields=["current"])
    return resource


def _system(code: str, name: str, department: Department) -> ConsumerSystem:
    return ConsumerSystem.objects.create(
        code=code, name=name, department=department, client_id=f"client-{code}"
    )


@pytest.fixture(name="sharing_city")
def sharing_city_fixture(db: Any) -> SharingCity:
    division = factories.division()
    police = factories.department(division, "GAJ", "示范市公安局")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    civil = factories.department(division, "MZJ", "示范市民政局")
    police_unit = factories.unit(police, "GAJ-RK", "人口管理科")
    health_unit = factories.unit(health, "WJW-FY", "妇幼科")
    civil_unit = factories.unit(civil, "MZJ-HY", "婚姻登记科")
    role = factories.role("sharing_viewer", [permissions.STATISTICS_VIEW, permissions.LOG_VIEW])
    city_viewer = factories.staff("tongji", police_unit, role_obj=role, scope=Scope.ALL)
    police_viewer = factories.staff("gaj", police_unit, role_obj=role, scope=Scope.DEPARTMENT)
    health_viewer = factories.staff("wjw", health_unit, role_obj=role, scope=Scope.DEPARTMENT)
    civil_viewer = factories.staff("mzj", civil_unit, role_obj=role, scope=Scope.DEPARTMENT)
    plain_staff = factories.staff("keyuan", health_unit, role_obj=factories.role("none", []))
    auditor = factories.staff("shenji", admin_role="auditor", role_obj=role, scope=Scope.ALL)
    person_resource = _resource("1010010001", "人口基础信息", police, city_viewer)
    licence_resource = _resource("1010020001", "居民身份证电子证照", police, city_viewer)
    citizen_a = factories.citizen("citizen_a", "王小明")
    citizen_b = factories.citizen("citizen_b", "李小红")
    agent = factories.citizen("agent", "赵经办")
    enterprise = factories.enterprise()
    AgentAuthorisation.objects.create(
        agent=agent, legal_person=enterprise, valid_from=timezone.localdate() - dt.timedelta(days=1)
    )
    return SharingCity(
        police=police,
        health=health,
        civil=civil,
        person_resource=person_resource,
        licence_resource=licence_resource,
        health_system=_system("wjw-birth", "出生医学证明系统", health),
        civil_system=_system("mzj-marriage", "婚姻登记系统", civil),
        city_viewer=city_viewer,
        police_viewer=police_viewer,
        health_viewer=health_viewer,
        civil_viewer=civil_viewer,
        plain_staff=plain_staff,
        auditor=auditor,
        citizen_a=citizen_a,
        citizen_b=citizen_b,
        agent=agent,
        enterprise=enterprise,
        today=timezone.localdate(),
    )
