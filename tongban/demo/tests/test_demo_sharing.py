"""The demo city's data sharing: the catalogue, systems, grants for the once-only bundle,
requests, thirty days of correctly digested calls (some on the demo citizen), and a second
load that creates nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from tongban.apps.approvals import services as approvals
from tongban.apps.approvals.models import Case, CaseSharedMaterial
from tongban.apps.approvals.tests.conftest import upload
from tongban.apps.catalog import public as catalog
from tongban.apps.sharing import gateway_log
from tongban.apps.sharing.models import (
    ConsumerSystem,
    GatewayCall,
    GatewayCallSubject,
    Grant,
    Resource,
    ResourceVersion,
    SharingRequest,
    VersionStatus,
)
from tongban.demo import sharing
from tongban.demo.approvals import _form_value
from tongban.demo.loader import load_demo_city
from tongban.demo.tests.conftest import wrapping_transaction
from tongban.platform.accounts.models import User
from tongban.platform.crypto.sm import lookup_hmac
from tongban.platform.orgs.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict[str, int]]:
    media = tmp_path_factory.mktemp("media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media), wrapping_transaction():
        load_demo_city()
        # the base databases the once-only fetches read (helper area basedata), small
        from tongban.demo import basedata

        basedata.load(residents=200, births=20)
        counts = sharing.load()
        yield counts
        transaction.set_rollback(True)


def test_the_catalogue_has_published_entries_of_every_class(city):
    published = Resource.objects.filter(current__status=VersionStatus.PUBLISHED)
    assert published.count() >= 40
    assert {"base", "thematic", "departmental"} <= set(
        published.values_list("resource_class", flat=True)
    )
    services = set(published.values_list("service_code", flat=True))
    assert {
        "basedata.person",
        "basedata.household",
        "basedata.birth",
        "basedata.legal_person",
        "licences.by_holder",
        "basedata.address",
    } <= services
    assert ResourceVersion.objects.filter(status=VersionStatus.SUPERSEDED).count() >= 3
    none = ResourceVersion.objects.filter(status=VersionStatus.PUBLISHED, share_type="none")
    assert none.exists()
    assert all(version.share_conditions for version in none)
    birth = Resource.objects.get(code=sharing.BIRTH)
    assert birth.provider.code == "WJW"
    assert birth.current is not None
    assert birth.current.items.filter(code="mother_id_number").exists()
    assert Resource.objects.get(code=sharing.LEGAL_PERSON).provider.code == "SCJ"


def test_every_department_has_a_platform_system_and_some_systems_have_keys(city):
    departments = Department.objects.filter(is_active=True).exclude(code="JW")
    platform = ConsumerSystem.objects.filter(is_platform=True)
    assert set(platform.values_list("department_id", flat=True)) >= set(
        departments.values_list("pk", flat=True)
    )
    scj = platform.get(department__code="SCJ")
    assert scj.name == "示范市市场监督管理局网上审批系统"
    keyed = ConsumerSystem.objects.filter(is_platform=False).exclude(public_key_pem="")
    assert keyed.count() >= 10
    assert all(system.secret_hash and system.secret_prefix for system in keyed)


def test_the_bundle_departments_hold_grants_for_their_shared_materials(city):
    found = catalog.bundle("newborn")
    assert found is not None
    checked = 0
    for item_id in found.item_ids:
        version = catalog.item_current(item_id)
        assert version is not None
        for material in version.materials:
            if not material.shared_resource_code:
                continue
            checked += 1
            assert Grant.objects.filter(
                consumer_system__department_id=version.department_id,
                consumer_system__is_platform=True,
                resource__code=material.shared_resource_code,
                revoked_at__isnull=True,
                expires_at__gt=timezone.now(),
            ).exists(), (version.name, material.name)
    assert checked >= 6
    names = {
        material.name
        for item_id in found.item_ids
        for material in catalog.item_current(item_id).materials  # type: ignore[union-attr]
        if material.shared_resource_code
    }
    assert {"出生医学证明", "父母双方居民户口簿", "居民户口簿"} <= names


def test_requests_pending_overdue_and_refused(city):
    pending = SharingRequest.objects.filter(status="submitted")
    assert pending.count() >= 3
    assert pending.filter(due_at__lt=timezone.now()).exists()
    refused = SharingRequest.objects.filter(status="refused")
    assert refused.count() >= 2
    assert all(request.decision_reasons for request in refused)


def test_the_call_history_is_digested_and_shows_the_citizen(city):
    calls = GatewayCall.objects.filter(request_id__startswith=sharing.REQUEST_PREFIX)
    assert calls.count() >= 3000
    oldest = calls.order_by("at").first()
    assert oldest is not None
    assert (timezone.now() - oldest.at).days >= 29
    for call in calls.order_by("?")[:50]:
        assert gateway_log.call_digest(call) == call.digest
    citizen = User.objects.get(username="citizen")
    assert citizen.person is not None
    digest = lookup_hmac(str(citizen.person.id_number), purpose="sharing.subject")
    mine = GatewayCall.objects.filter(
        pk__in=GatewayCallSubject.objects.filter(subject_hash=digest).values("call_id")
    )
    assert mine.count() >= 10
    assert mine.values("consumer_department").distinct().count() >= 5
    assert gateway_log.log_verify().ok


def test_a_second_load_creates_nothing(city):
    before = (
        Resource.objects.count(),
        ResourceVersion.objects.count(),
        ConsumerSystem.objects.count(),
        Grant.objects.count(),
        SharingRequest.objects.count(),
        GatewayCall.objects.count(),
        GatewayCallSubject.objects.count(),
    )
    again = sharing.load()
    after = (
        Resource.objects.count(),
        ResourceVersion.objects.count(),
        ConsumerSystem.objects.count(),
        Grant.objects.count(),
        SharingRequest.objects.count(),
        GatewayCall.objects.count(),
        GatewayCallSubject.objects.count(),
    )
    assert before == after
    assert again == city


def test_the_newborn_bundle_asks_no_birth_or_household_upload(city):
    citizen = User.objects.get(username="citizen")
    assert citizen.person is not None
    found = catalog.bundle("newborn")
    assert found is not None
    materials = []
    for item_id in found.item_ids:
        version = catalog.item_current(item_id)
        assert version is not None
        for material in version.materials:
            if material.is_required and not material.shared_resource_code:
                assert material.source != "shared" or "户口" not in material.name
                if material.source in ("shared", "elicence"):
                    continue
                materials.append(
                    approvals.MaterialInput(
                        name=material.name, file_id=upload(citizen).pk, item_id=item_id
                    )
                )
    context = {
        "date": (timezone.localdate() - dt.timedelta(days=10)).isoformat(),
        "id_number": str(citizen.person.id_number),
        "uscc": "",
        "mobile": "13800000000",
        "enterprise": "",
        "name": citizen.display_name,
    }
    forms = {}
    for item_id in found.item_ids:
        version = catalog.item_current(item_id)
        assert version is not None
        if version.form_schema:
            forms[item_id] = _form_value("", version.form_schema, context)
    parent = approvals.case_submit_bundle(
        actor=citizen,
        bundle_code="newborn",
        idempotency_key="demo-sharing-newborn-1",
        forms=forms,
        materials=materials,
    )
    children = list(Case.objects.filter(parent=parent))
    assert children
    fetched = CaseSharedMaterial.objects.filter(case__in=children)
    assert fetched.count() >= 6
    # the demo citizen is a parent in the birth register and a resident with a household:
    # nothing had to be uploaded for the birth, household and identity materials
    failed = [
        (s.case.item_name, s.material_name, s.failure_reason) for s in fetched if not s.is_fetched
    ]
    assert failed == []
    # every once-only material went through the gateway under the child's department
    for shared in fetched:
        if shared.call_id is not None:
            call = GatewayCall.objects.get(pk=shared.call_id)
            assert call.case_number == shared.case.number
            assert call.consumer_department_id == shared.case.department_id
