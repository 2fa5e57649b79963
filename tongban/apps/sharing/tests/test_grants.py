"""Consumer systems, sharing requests and grants: the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tongban.apps.sharing import grants
from tongban.apps.sharing.models import (
    AccessToken,
    ConsumerSystem,
    Grant,
    RequestStatus,
    SharingRequest,
)
from tongban.apps.sharing.tests import fixtures_grants
from tongban.apps.sharing.tests.fixtures_grants import GrantsCity
from tongban.platform.audit.models import AuditEntry
from tongban.platform.calendar import services as calendar_services
from tongban.platform.crypto import sm2
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db
grants_city = fixtures_grants.grants_city


def _counts() -> tuple[int, int, int, int]:
    return (
        SharingRequest.objects.count(),
        Grant.objects.count(),
        Event.objects.filter(name__startswith="sharing.").count(),
        Message.objects.count(),
    )


# --------------------------------------------------------------------------- systems


def test_a_secret_is_stored_hashed_and_shown_once(grants_city: GrantsCity) -> None:
    system = ConsumerSystem.objects.get(pk=grants_city.system.pk)
    secret = grants_city.secret
    assert secret.startswith(grants.SECRET_PREFIX)
    assert secret not in system.secret_hash
    assert system.secret_hash.count("$") >= 2  # algorithm$…salt…$hash
    assert secret.startswith(system.secret_prefix)
    assert grants.system_check_secret(system, secret)
    assert not grants.system_check_secret(system, secret + "x")
    assert grants.system_authenticate(client_id=system.client_id, secret=secret) == system
    # two systems with the same secret would still have different hashes (salted)
    assert system.secret_hash != grants_city.other_system.secret_hash


def test_rotating_the_secret_invalidates_the_old_one_and_its_tokens(
    grants_city: GrantsCity,
) -> None:
    system = grants_city.system
    token = AccessToken.objects.create(
        system=system, token_hash="a" * 64, expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    new = grants.system_rotate_secret(actor=grants_city.sysadmin, system=system)
    assert new != grants_city.secret
    assert not grants.system_check_secret(system, grants_city.secret)
    assert grants.system_check_secret(system, new)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="sharing.system.rotate_secret").exists()


def test_another_departments_admin_cannot_touch_the_system(grants_city: GrantsCity) -> None:
    before = grants_city.system.secret_hash
    with pytest.raises(PermissionDenied):
        grants.system_rotate_secret(actor=grants_city.officer, system=grants_city.system)
    with pytest.raises(PermissionDenied):
        grants.system_create(
            actor=grants_city.sysadmin, department=grants_city.other, code="x", name="越权系统"
        )
    grants_city.system.refresh_from_db()
    assert grants_city.system.secret_hash == before
    assert not ConsumerSystem.objects.filter(code="x").exists()


def test_an_sm2_public_key_is_validated_by_loading_it(grants_city: GrantsCity) -> None:
    pem = sm2.public_key_pem(sm2.generate_private_key_pem()).decode()
    grants.system_set_public_key(
        actor=grants_city.sysadmin, system=grants_city.system, public_key_pem=pem
    )
    grants_city.system.refresh_from_db()
    assert "BEGIN PUBLIC KEY" in grants_city.system.public_key_pem
    for bad in ("", "not a key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"):
        with pytest.raises(ValidationError):
            grants.validate_sm2_public_key(bad)


P256_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELW4x3YlIIvmopfee10SqAtJgJehR
rRZpL1tCihx3qsgUir7SomzSJjpdZMP4RTlvnzIdqG0IpO3oh7tWjgOmNA==
-----END PUBLIC KEY-----
"""


def test_a_non_sm2_key_is_refused() -> None:
    with pytest.raises(ValidationError) as error:
        grants.validate_sm2_public_key(P256_PEM)
    assert "SM2" in str(error.value)


def test_one_platform_system_per_department(grants_city: GrantsCity) -> None:
    grants.system_create(
        actor=grants_city.sysadmin,
        department=grants_city.consumer,
        code="mzj-platform",
        name="网上审批系统",
        is_platform=True,
    )
    with pytest.raises(ValidationError):
        grants.system_create(
            actor=grants_city.sysadmin,
            department=grants_city.consumer,
            code="mzj-platform-2",
            name="网上审批系统二",
            is_platform=True,
        )


def test_deactivating_revokes_tokens(grants_city: GrantsCity) -> None:
    token = AccessToken.objects.create(
        system=grants_city.system,
        token_hash="b" * 64,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    grants.system_set_active(actor=grants_city.sysadmin, system=grants_city.system, active=False)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert (
        grants.system_authenticate(
            client_id=grants_city.system.client_id, secret=grants_city.secret
        )
        is None
    )


# --------------------------------------------------------------------------- requests


def test_an_unconditional_resource_is_granted_at_once(grants_city: GrantsCity) -> None:
    request = grants_city.request(grants_city.unconditional)
    assert request.status == RequestStatus.APPROVED
    assert request.number.startswith("GX")
    assert len(request.number) == 14
    grant = Grant.objects.get(request=request)
    assert grant.items == ["id_number", "name", "gender"]
    # personal and sensitive items are masked unless the provider says otherwise
    assert grant.masked_items == ["id_number", "name"]
    event = Event.objects.get(name="sharing.grant.created")
    assert event.payload == {
        "grant_id": grant.pk,
        "resource_code": "1010010002",
        "consumer_system_code": "mzj-dibao",
        "consumer_department_code": "MZJ",
    }
    assert Message.objects.filter(recipient=grants_city.officer, category="sharing").exists()
    assert Message.objects.filter(recipient=grants_city.reviewer, category="sharing").exists()
    info = grants.grant_lookup(department_id=grants_city.consumer.pk, resource_code="1010010002")
    assert info is not None
    assert info.grant_id == grant.pk


def test_numbers_are_sequential_and_unique(grants_city: GrantsCity) -> None:
    first = grants_city.request()
    second = grants_city.request()
    assert int(second.number[-4:]) == int(first.number[-4:]) + 1
    assert first.number[:10] == second.number[:10]


def test_a_conditional_request_waits_for_the_provider_with_a_working_day_deadline(
    grants_city: GrantsCity, settings
) -> None:
    settings.SHARING_REVIEW_WORKING_DAYS = 3
    request = grants_city.request()
    assert request.status == RequestStatus.SUBMITTED
    assert request.due_at is not None
    due_day = timezone.localtime(request.due_at).date()
    expected = calendar_services.get_calendar().add_working_days(request.requested_at, 3)
    assert due_day == expected
    assert not Grant.objects.exists()
    assert Message.objects.filter(recipient=grants_city.reviewer).exists()


def test_approval_may_narrow_items_and_choose_masks(grants_city: GrantsCity) -> None:
    request = grants_city.request()
    grant = grants.request_approve(
        actor=grants_city.reviewer,
        request=request,
        items=["name", "gender"],
        masked_items=[],
        rate_limit=60,
        expires_on=request.period_end - dt.timedelta(days=30),
    )
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED
    assert request.decided_by == grants_city.reviewer
    assert grant.items == ["name", "gender"]
    assert grant.masked_items == []
    assert grant.rate_limit_per_minute == 60
    assert Message.objects.filter(recipient=grants_city.officer).exists()
    assert AuditEntry.objects.filter(action="sharing.request.approve").exists()


def test_approval_cannot_widen_items_or_outlast_the_period(grants_city: GrantsCity) -> None:
    request = grants_city.request()
    with pytest.raises(ValidationError):
        grants.request_approve(
            actor=grants_city.reviewer, request=request, items=["household_address"]
        )
    with pytest.raises(ValidationError):
        grants.request_approve(
            actor=grants_city.reviewer,
            request=request,
            expires_on=request.period_end + dt.timedelta(days=1),
        )
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED
    assert not Grant.objects.exists()


def test_refusal_needs_reasons(grants_city: GrantsCity) -> None:
    request = grants_city.request()
    with pytest.raises(ValidationError):
        grants.request_refuse(actor=grants_city.reviewer, request=request, reasons="  ")
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED
    grants.request_refuse(actor=grants_city.reviewer, request=request, reasons="用途与资源无关")
    request.refresh_from_db()
    assert request.status == RequestStatus.REFUSED
    assert request.decision_reasons == "用途与资源无关"
    assert not Grant.objects.exists()
    with pytest.raises(ValidationError):  # decided once
        grants.request_approve(actor=grants_city.reviewer, request=request)


def test_another_department_cannot_review_and_nothing_is_written(
    grants_city: GrantsCity,
) -> None:
    request = grants_city.request()
    before = _counts()
    with pytest.raises(PermissionDenied):
        grants.request_approve(actor=grants_city.other_officer, request=request)
    with pytest.raises(PermissionDenied):
        grants.request_refuse(actor=grants_city.officer, request=request, reasons="无")
    assert _counts() == before
    request.refresh_from_db()
    assert request.status == RequestStatus.SUBMITTED
    assert AuditEntry.objects.filter(action="sharing.request.review", outcome="denied").count() == 2


def test_the_consumer_may_withdraw_while_submitted(grants_city: GrantsCity) -> None:
    request = grants_city.request()
    with pytest.raises(PermissionDenied):
        grants.request_withdraw(actor=grants_city.other_officer, request=request)
    grants.request_withdraw(actor=grants_city.officer, request=request)
    request.refresh_from_db()
    assert request.status == RequestStatus.WITHDRAWN
    with pytest.raises(ValidationError):
        grants.request_withdraw(actor=grants_city.officer, request=request)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": []}, "items"),
        ({"items": ["unknown"]}, "items"),
        ({"purpose": ""}, "purpose"),
        ({"legal_basis": " "}, "legal_basis"),
        ({"period_end": dt.date(2000, 1, 1), "period_start": dt.date(1999, 1, 1)}, "period_end"),
        ({"period_start": dt.date(2030, 1, 2), "period_end": dt.date(2030, 1, 1)}, "period_end"),
        ({"period_end": dt.date.max}, "period_end"),
    ],
)
def test_invalid_requests_are_refused_with_the_field(
    grants_city: GrantsCity, overrides: dict, field: str
) -> None:
    before = _counts()
    with pytest.raises(ValidationError) as error:
        grants_city.request(**overrides)
    assert field in error.value.message_dict
    assert _counts() == before


def test_a_resource_not_shared_cannot_be_requested(grants_city: GrantsCity) -> None:
    with pytest.raises(ValidationError) as error:
        grants_city.request(grants_city.not_shared)
    assert "不予共享" in str(error.value)
    assert not SharingRequest.objects.exists()


def test_a_system_of_another_department_cannot_be_used(grants_city: GrantsCity) -> None:
    with pytest.raises(PermissionDenied):
        grants_city.request(system=grants_city.other_system)
    assert not SharingRequest.objects.exists()


# --------------------------------------------------------------------------- overdue


def test_overdue_requests_are_reported_once(grants_city: GrantsCity) -> None:
    request = grants_city.request()
    late = request.due_at + dt.timedelta(minutes=1)
    assert grants.requests_report_overdue(now=request.due_at - dt.timedelta(minutes=1)) == 0
    assert grants.requests_report_overdue(now=late) == 1
    assert grants.requests_report_overdue(now=late + dt.timedelta(hours=1)) == 0
    events = Event.objects.filter(name="sharing.request.overdue")
    assert events.count() == 1
    payload = events.get().payload
    assert payload["request_number"] == request.number
    assert payload["provider_department_code"] == "GAJ"
    assert payload["consumer_department_code"] == "MZJ"
    assert payload["resource_code"] == "1010010001"
    assert payload["resource_name"] == "人口基本信息"
    assert set(payload) == {
        "request_number",
        "resource_code",
        "resource_name",
        "provider_department_code",
        "consumer_department_code",
        "requested_at",
        "due_at",
    }
    request.refresh_from_db()
    assert request.overdue_reported_at == late


def test_decided_requests_are_never_overdue(grants_city: GrantsCity) -> None:
    request = grants_city.request()
    grants.request_refuse(actor=grants_city.reviewer, request=request, reasons="不符合条件")
    assert grants.requests_report_overdue(now=request.due_at + dt.timedelta(days=1)) == 0


# --------------------------------------------------------------------------- grants


def test_revoke_needs_a_reason_and_the_provider(grants_city: GrantsCity) -> None:
    grant = Grant.objects.get(request=grants_city.request(grants_city.unconditional))
    with pytest.raises(PermissionDenied):
        grants.grant_revoke(actor=grants_city.other_officer, grant=grant, reason="越权")
    with pytest.raises(ValidationError):
        grants.grant_revoke(actor=grants_city.reviewer, grant=grant, reason="")
    assert not Event.objects.filter(name="sharing.grant.revoked").exists()
    grants.grant_revoke(actor=grants_city.reviewer, grant=grant, reason="用途已结束")
    grant.refresh_from_db()
    assert grant.revoked_at is not None
    assert grant.revoked_by == grants_city.reviewer
    assert Event.objects.get(name="sharing.grant.revoked").payload["grant_id"] == grant.pk
    assert Message.objects.filter(recipient=grants_city.officer, subject__contains="撤销").exists()
    with pytest.raises(ValidationError):
        grants.grant_revoke(actor=grants_city.reviewer, grant=grant, reason="再次")


def test_grant_lookup_live_expired_revoked(grants_city: GrantsCity) -> None:
    code = grants_city.unconditional.code
    department = grants_city.consumer.pk
    assert grants.grant_lookup(department_id=department, resource_code=code) is None
    grant = Grant.objects.get(request=grants_city.request(grants_city.unconditional))
    info = grants.grant_lookup(department_id=department, resource_code=code)
    assert info is not None
    assert info.consumer_system_code == "mzj-dibao"
    assert info.items == grant.items
    assert info.masked_items == grant.masked_items
    assert info.expires_at == grant.expires_at
    # another department holds nothing
    assert grants.grant_lookup(department_id=grants_city.other.pk, resource_code=code) is None
    # expired
    later = grant.expires_at + dt.timedelta(seconds=1)
    assert grants.grant_lookup(department_id=department, resource_code=code, now=later) is None
    # not yet in force
    earlier = grant.valid_from - dt.timedelta(seconds=1)
    assert grants.grant_lookup(department_id=department, resource_code=code, now=earlier) is None
    # revoked
    grants.grant_revoke(actor=grants_city.city_admin, grant=grant, reason="停止使用")
    assert grants.grant_lookup(department_id=department, resource_code=code) is None


def test_grant_lookup_through_the_public_module(grants_city: GrantsCity) -> None:
    from tongban.apps.sharing import public

    grants_city.request(grants_city.unconditional)
    info = public.grant_lookup(
        department_id=grants_city.consumer.pk, resource_code=grants_city.unconditional.code
    )
    assert isinstance(info, public.GrantInfo)


def test_an_overdue_request_reaches_supervision_as_an_alert(grants_city: GrantsCity) -> None:
    from tongban.apps.supervision.models import Alert, Dimension
    from tongban.platform.events.models import Delivery
    from tongban.platform.events.services import delivery_run

    request = grants_city.request()
    assert grants.requests_report_overdue(now=request.due_at + dt.timedelta(seconds=1)) == 1
    assert grants.requests_report_overdue(now=request.due_at + dt.timedelta(seconds=2)) == 0
    deliveries = Delivery.objects.filter(
        event__name="sharing.request.overdue",
        subscriber="tongban.apps.supervision.handlers_sharing.on_request_overdue",
    )
    assert deliveries.count() == 1
    assert delivery_run(deliveries.get().pk) == "done"
    alert = Alert.objects.get()
    assert alert.department == grants_city.provider
    assert alert.dimension == Dimension.TIMELINESS
    assert request.number in alert.detail
