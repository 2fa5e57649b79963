"""A small gateway city: a provider department (public security) with a published person
resource served by an in-memory test provider, a consumer department (civil affairs)
with an OAuth2/SM2 system, a platform system of the same department, and a grant.

Use it in a test module with
``from tongban.apps.sharing.tests.fixtures_gateway import gateway_city_fixture  # noqa: F401``
(the fixture's name is ``gateway_city``).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.utils import timezone

from tests import factories
from tongban.apps.sharing import gateway, gateway_auth
from tongban.apps.sharing.models import (
    ConsumerSystem,
    Grant,
    InfoItem,
    Resource,
    ResourceClass,
    ResourceVersion,
    Sensitivity,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.apps.sharing.providers import (
    Parameter,
    Provider,
    ProviderError,
    ProviderInvalid,
    ProviderResult,
    register_provider,
)
from tongban.platform.accounts.idnumbers import make_resident_id
from tongban.platform.accounts.models import User
from tongban.platform.crypto import sm2
from tongban.platform.orgs.models import Department

PROVIDER_CODE = "test.gateway.person"
RESOURCE_CODE = "1010010001"
SECRET = "s3cret-Gateway-2026-abcdefghijklmnop"
PERSON_ID = make_resident_id("990102", dt.date(1990, 5, 17), 11)
OTHER_ID = make_resident_id("990102", dt.date(1985, 3, 2), 22)
BROKEN_ID = make_resident_id("990102", dt.date(1970, 1, 1), 33)

ITEMS = [
    ("id_number", "公民身份号码", Sensitivity.PERSONAL),
    ("name", "姓名", Sensitivity.PERSONAL),
    ("gender", "性别", Sensitivity.INTERNAL),
    ("phone", "联系电话", Sensitivity.PERSONAL),
    ("household_address", "户籍地址", Sensitivity.SENSITIVE),
]

PEOPLE = {
    PERSON_ID: {
        "id_number": PERSON_ID,
        "name": "王小明",
        "gender": "男",
        "phone": "13912345678",
        "household_address": "示范市示范区幸福路1号",
    },
    OTHER_ID: {
        "id_number": OTHER_ID,
        "name": "欧阳娜娜",
        "gender": "女",
        "phone": "13800001111",
        "household_address": "示范市示范区和平路2号",
    },
}


def _fetch(parameters: Mapping[str, str]) -> ProviderResult:
    number = parameters["id_number"].strip()
    if len(number) != 18:
        raise ProviderInvalid("公民身份号码应为18位")
    if number == BROKEN_ID:
        raise ProviderError("backend down")
    found = PEOPLE.get(number)
    if found is None:
        return ProviderResult(records=[], subjects=[])
    return ProviderResult(records=[dict(found)], subjects=[number])


def register_test_provider() -> None:
    register_provider(
        Provider(
            code=PROVIDER_CODE,
            label="测试人口信息",
            parameters=(Parameter("id_number", "公民身份号码"),),
            fetch=_fetch,
        )
    )


@dataclass
class GatewayCity:
    police: Department
    civil: Department
    author: User
    resource: Resource
    version: ResourceVersion
    system: ConsumerSystem
    platform_system: ConsumerSystem
    private_key_pem: bytes
    grant: Grant
    platform_grant: Grant

    def token(self, client: Any) -> str:
        response = client.post(
            "/gateway/oauth/token",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION="Basic "
            + base64.b64encode(f"{self.system.client_id}:{SECRET}".encode()).decode(),
        )
        assert response.status_code == 200, response.content
        return str(response.json()["access_token"])

    def grant_for(self, system: ConsumerSystem, **fields: Any) -> Grant:
        now = timezone.now()
        values: dict[str, Any] = {
            "resource": self.resource,
            "consumer_system": system,
            "consumer_department": system.department,
            "items": ["id_number", "name", "gender", "phone"],
            "masked_items": ["id_number", "phone"],
            "rate_limit_per_minute": 600,
            "valid_from": now - dt.timedelta(days=1),
            "expires_at": now + dt.timedelta(days=30),
            "created_by": self.author,
            **fields,
        }
        return Grant.objects.create(**values)


def make_resource(provider: Department, author: User, code: str = RESOURCE_CODE) -> Resource:
    resource = Resource.objects.create(
        code=code,
        resource_class=ResourceClass.BASE,
        provider=provider,
        service_code=PROVIDER_CODE,
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.PUBLISHED,
        classification="1-01-001",
        name="人口基础信息",
        summary="自然人基础信息",
        format="database",
        share_type=ShareType.CONDITIONAL,
        share_conditions="依法履职需要",
        update_cycle=UpdateCycle.REALTIME,
        created_by=author,
    )
    for order, (item_code, name, sensitivity) in enumerate(ITEMS):
        InfoItem.objects.create(
            version=version,
            order=order,
            code=item_code,
            name=name,
            data_type="string",
            sensitivity=sensitivity,
        )
    resource.current = version
    resource.save(update_fields=["current"])
    return resource


@pytest.fixture(name="gateway_city")
def gateway_city_fixture(db: Any) -> GatewayCity:
    register_test_provider()
    cache.clear()
    gateway_auth.token_cache_clear()
    gateway._ITEMS.clear()
    division = factories.division()
    police = factories.department(division, "GAJ", "示范市公安局")
    civil = factories.department(division, "MZJ", "示范市民政局")
    unit = factories.unit(police, "GAJ-RK", "人口管理科")
    author = factories.staff("gaj_author", unit)
    resource = make_resource(police, author)
    private_pem = sm2.generate_private_key_pem()
    system = ConsumerSystem.objects.create(
        code="mzj-marriage",
        name="婚姻登记系统",
        department=civil,
        client_id="client-mzj-marriage",
        secret_hash=make_password(SECRET),
        secret_prefix=SECRET[:8],
        secret_set_at=timezone.now(),
        public_key_pem=sm2.public_key_pem(private_pem).decode("ascii"),
    )
    platform_system = ConsumerSystem.objects.create(
        code="mzj-platform",
        name="一网通办（民政局）",
        department=civil,
        client_id="client-mzj-platform",
        is_platform=True,
    )
    city = GatewayCity(
        police=police,
        civil=civil,
        author=author,
        resource=resource,
        version=resource.current,  # type: ignore[arg-type]
        system=system,
        platform_system=platform_system,
        private_key_pem=private_pem,
        grant=None,  # type: ignore[arg-type]
        platform_grant=None,  # type: ignore[arg-type]
    )
    city.grant = city.grant_for(system)
    city.platform_grant = city.grant_for(platform_system)
    return city
