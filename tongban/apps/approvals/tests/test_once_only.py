"""Once-only materials: a material marked "from shared data" with a sharing resource is
fetched through the gateway under the handling department's grant when the citizen
applies; nothing is uploaded for it, the record is stored encrypted with its source, the
clerk sees it, the call is logged with the case number. Without a grant the case still
goes in and the applicant is asked to upload the material."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from tongban.apps.approvals import once_only, services
from tongban.apps.approvals.models import (
    Case,
    CaseMaterial,
    CaseSharedMaterial,
    CaseState,
    MaterialSource,
)
from tongban.apps.approvals.tests.conftest import City, make_city, upload
from tongban.apps.catalog import services as catalog_services
from tongban.apps.catalog.tests import builders
from tongban.apps.sharing.models import (
    ConsumerSystem,
    GatewayCall,
    Grant,
    InfoItem,
    Resource,
    ResourceClass,
    ResourceVersion,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.apps.sharing.providers import (
    Parameter,
    Provider,
    ProviderResult,
    register_provider,
)
from tongban.platform.audit.models import AuditEntry
from tongban.platform.orgs.models import Department

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PROVIDER = "test.onceonly.household"
RESOURCE = "1010020099"
HOUSEHOLD = "居民户口簿"
HOUSEHOLD_ADDRESS = "示范市东湖区幸福路8号"
PEOPLE: dict[str, dict[str, str]] = {}


def _fetch(parameters: Mapping[str, str]) -> ProviderResult:
    found = PEOPLE.get(parameters["id_number"])
    if found is None:
        return ProviderResult(records=[])
    return ProviderResult(records=[dict(found)], subjects=[found["id_number"]])


register_provider(
    Provider(
        code=PROVIDER,
        label="测试户籍",
        parameters=(Parameter("id_number", "公民身份号码"),),
        fetch=_fetch,
    )
)


def _resource(provider_department, author) -> Resource:
    resource = Resource.objects.create(
        code=RESOURCE,
        resource_class=ResourceClass.BASE,
        provider=provider_department,
        service_code=PROVIDER,
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status=VersionStatus.PUBLISHED,
        classification="1-01-002",
        name="户籍登记信息",
        summary="居民户籍登记信息",
        format="database",
        share_type=ShareType.UNCONDITIONAL,
        update_cycle=UpdateCycle.REALTIME,
        published_on=dt.date(2026, 1, 1),
        created_by=author,
    )
    for order, (code, name) in enumerate(
        [
            ("id_number", "公民身份号码"),
            ("name", "姓名"),
            ("household_number", "户号"),
            ("household_address", "户籍地址"),
            ("phone", "联系电话"),
        ],
        start=1,
    ):
        InfoItem.objects.create(
            version=version, order=order, code=code, name=name, data_type="string"
        )
    resource.current = version
    resource.save(update_fields=["current"])
    return resource


@pytest.fixture
def once(db) -> City:
    cache.clear()
    city = make_city(
        materials=(
            catalog_services.MaterialInput(name="食品经营许可申请书"),
            catalog_services.MaterialInput(
                name=HOUSEHOLD, source="shared", shared_resource_code=RESOURCE
            ),
        )
    )
    person = city.citizen.person
    assert person is not None
    number = str(person.id_number)
    PEOPLE.clear()
    PEOPLE[number] = {
        "id_number": number,
        "name": person.name,
        "household_number": "990102000123",
        "household_address": HOUSEHOLD_ADDRESS,
        "phone": "13900001234",
    }
    police = Department.objects.get(code="GAJ")
    _resource(police, city.leader)
    return city


def _system(city: City) -> ConsumerSystem:
    return ConsumerSystem.objects.create(
        code="scjg-platform",
        name="示范市市场监督管理局网上审批系统",
        department=city.market,
        client_id="tbc_onceonly",
        is_platform=True,
    )


def _grant(city: City) -> Grant:
    system = _system(city)
    now = timezone.now()
    return Grant.objects.create(
        resource=Resource.objects.get(code=RESOURCE),
        consumer_system=system,
        consumer_department=city.market,
        items=["id_number", "name", "household_address"],
        masked_items=["id_number"],
        purpose="行政审批受理审查",
        valid_from=now - dt.timedelta(days=1),
        expires_at=now + dt.timedelta(days=365),
        created_by=city.leader,
    )


def _submit(city: City) -> Case:
    return services.case_submit(
        actor=city.citizen,
        item_id=city.item_id,
        materials=[
            services.MaterialInput(name="食品经营许可申请书", file_id=upload(city.citizen).pk)
        ],
    )


def test_a_shared_material_is_fetched_not_uploaded(once):
    _grant(once)
    case = _submit(once)
    assert case.state == CaseState.SUBMITTED
    material = CaseMaterial.objects.get(case=case, name=HOUSEHOLD, is_current=True)
    assert material.source == MaterialSource.SHARED
    assert material.file_id is None
    shared = CaseSharedMaterial.objects.get(case=case)
    assert shared.is_fetched
    assert shared.resource_code == RESOURCE
    assert shared.resource_name == "户籍登记信息"
    assert shared.provider_name == "示范市公安局"
    assert shared.fetched_at is not None
    # granted items only, masked as granted
    assert [code for code, _ in shared.items] == ["id_number", "name", "household_address"]
    rows = shared.rows()
    assert len(rows) == 1
    values = dict(rows[0])
    assert values["户籍地址"] == HOUSEHOLD_ADDRESS
    assert "联系电话" not in values
    full_id = str(once.citizen.person.id_number)  # type: ignore[union-attr]
    assert values["公民身份号码"] != full_id
    assert "*" in values["公民身份号码"]
    # the call is logged with the case number and the purpose
    assert shared.call_id is not None
    call = GatewayCall.objects.get(pk=shared.call_id)
    assert call.case_number == case.number
    assert call.purpose == f"办件{case.number}受理审查：{HOUSEHOLD}"
    assert call.consumer_department_id == once.market.pk
    assert call.result == "ok"
    # the record is encrypted at rest
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT record FROM {CaseSharedMaterial._meta.db_table} WHERE id = %s", [shared.pk]
        )
        raw = bytes(cursor.fetchone()[0])
    assert HOUSEHOLD_ADDRESS.encode() not in raw
    assert AuditEntry.objects.filter(
        action="approvals.case.shared_material_fetched", object_id=str(case.pk)
    ).exists()
    assert once_only.failure_messages(case) == []


def test_the_clerk_sees_the_fetched_record_on_the_case_page(client, once):
    _grant(once)
    case = _submit(once)
    client.force_login(once.clerk)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "通过数据共享获取的材料" in html
    assert "户籍登记信息" in html
    assert HOUSEHOLD_ADDRESS in html
    assert str(once.citizen.person.id_number) not in html  # type: ignore[union-attr]
    # the applicant sees where it came from, not the record
    client.force_login(once.citizen)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "户籍登记信息" in html
    assert HOUSEHOLD_ADDRESS not in html


def test_the_apply_page_shows_no_upload_field_for_a_shared_material(client, once):
    _grant(once)
    client.force_login(once.citizen)
    html = client.get(f"/cases/apply/{once.item_id}/").content.decode()
    assert "由共享数据获取" in html
    assert 'name="material_0"' in html
    assert 'name="material_1"' not in html
    post = {
        "idempotency_key": "once-only-page-1",
        "applicant": "self",
        "material_0": SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf"),
    }
    response = client.post(f"/cases/apply/{once.item_id}/", post)
    assert response.status_code == 302
    case = Case.objects.get()
    assert CaseSharedMaterial.objects.get(case=case).is_fetched


def test_without_a_grant_the_case_goes_in_and_the_upload_is_asked(client, once):
    _system(once)  # the department's platform system holds no grant on the resource
    client.force_login(once.citizen)
    post = {
        "idempotency_key": "once-only-page-2",
        "applicant": "self",
        "material_0": SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf"),
    }
    response = client.post(f"/cases/apply/{once.item_id}/", post, follow=True)
    case = Case.objects.get()
    assert case.state == CaseState.SUBMITTED
    html = response.content.decode()
    assert f"未能通过共享数据获取“{HOUSEHOLD}”" in html
    assert "请上传该材料" in html
    shared = CaseSharedMaterial.objects.get(case=case)
    assert not shared.is_fetched
    assert shared.failure_reason
    assert shared.record is None
    material = CaseMaterial.objects.get(case=case, name=HOUSEHOLD, is_current=True)
    assert material.source == MaterialSource.APPLICANT
    assert material.file_id is None
    assert AuditEntry.objects.filter(action="approvals.case.shared_material_failed").exists()
    # the denied call is in the gateway log too
    assert GatewayCall.objects.filter(case_number=case.number).exclude(result="ok").exists()
    # the case page offers the upload; the applicant hands the file in
    assert "请补充上传以下材料" in html
    form = {
        "material": HOUSEHOLD,
        "item_id": str(case.item_id),
        "file": SimpleUploadedFile("户口簿.pdf", PDF, content_type="application/pdf"),
    }
    client.post(f"/cases/{case.pk}/act/case_shared_material_upload/", form)
    current = CaseMaterial.objects.get(case=case, name=HOUSEHOLD, is_current=True)
    assert current.file is not None
    assert once_only.materials_to_upload(case) == []
    assert AuditEntry.objects.filter(action="approvals.case.shared_material_uploaded").exists()


def test_an_unknown_person_is_asked_to_upload(once):
    _grant(once)
    PEOPLE.clear()
    case = _submit(once)
    shared = CaseSharedMaterial.objects.get(case=case)
    assert not shared.is_fetched
    assert shared.call_id is None or GatewayCall.objects.filter(pk=shared.call_id).exists()
    assert [line for line in once_only.failure_messages(case) if HOUSEHOLD in line]


def test_only_a_waiting_material_may_be_uploaded_afterwards(once):
    _grant(once)
    case = _submit(once)
    with pytest.raises(ValidationError):
        once_only.case_shared_material_upload(
            actor=once.citizen,
            case=case,
            material_name=HOUSEHOLD,
            file_id=upload(once.citizen).pk,
        )


def test_the_catalogue_checks_the_resource_code():
    market = builders.department()
    with pytest.raises(ValidationError):
        builders.published_item(
            market,
            materials=(
                catalog_services.MaterialInput(
                    name="申请书", source="applicant", shared_resource_code=RESOURCE
                ),
            ),
        )
    with pytest.raises(ValidationError):
        builders.published_item(
            market,
            materials=(
                catalog_services.MaterialInput(
                    name="户口簿", source="shared", shared_resource_code="12AB"
                ),
            ),
        )


def test_only_the_applicant_may_upload_and_a_refusal_stores_no_file(client, once):
    from tongban.platform.files.models import StoredFile

    _system(once)
    case = _submit(once)
    files = StoredFile.objects.count()
    client.force_login(once.clerk)
    form = {
        "material": HOUSEHOLD,
        "file": SimpleUploadedFile("户口簿.pdf", PDF, content_type="application/pdf"),
    }
    response = client.post(f"/cases/{case.pk}/act/case_shared_material_upload/", form)
    assert response.status_code in (403, 404)
    assert StoredFile.objects.count() == files
    assert once_only.materials_to_upload(case)
