from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tongban.platform.access.models import Scope
from tongban.platform.access.permissions import PERSON_REVEAL_ID, PERSON_VIEW
from tongban.platform.accounts import services
from tongban.platform.accounts.api_auth import TokenAuth
from tongban.platform.accounts.idnumbers import (
    InvalidIdNumber,
    make_resident_id,
    make_uscc,
    validate_resident_id,
    validate_uscc,
)
from tongban.platform.accounts.models import NaturalPerson, User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import verify_chain


def test_resident_id_check_character():
    number = make_resident_id("440103", dt.date(1988, 2, 29), 123)
    assert validate_resident_id(number) == number
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as error:
        validate_resident_id(wrong)
    assert error.value.code == "check_char"
    assert validate_resident_id("11010519491231002x") == "11010519491231002X"  # GB 11643 sample
    with pytest.raises(InvalidIdNumber) as error:
        validate_resident_id(
            make_resident_id("440103", dt.date(1988, 2, 28), 1)[:10] + "0230" + "0011"
        )
    assert error.value.code in {"birth_date", "check_char"}


def test_uscc_check_character():
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"  # published sample
    built = make_uscc("9", "1", "990100", "MA1234567")
    assert validate_uscc(built) == built
    with pytest.raises(InvalidIdNumber):
        validate_uscc(built[:17] + ("0" if built[17] != "0" else "1"))
    with pytest.raises(InvalidIdNumber) as error:
        validate_uscc("91350100I000100Y43")  # I is not in the alphabet
    assert error.value.code == "format"


@pytest.mark.django_db
def test_a_person_is_encrypted_at_rest_found_by_hmac_and_masked():
    number = make_resident_id("440103", dt.date(1990, 1, 2), 37)
    person = services.person_register(
        actor=None, name="王五", id_number=number, mobile="13800001234"
    )
    assert person.id_number_masked == number[:4] + "*" * 10 + number[-4:]
    assert person.gender == "M"
    assert person.birth_date == dt.date(1990, 1, 2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, mobile FROM accounts_naturalperson WHERE id = %s", [person.pk]
        )
        raw_id, raw_mobile = cursor.fetchone()
    assert number.encode() not in bytes(raw_id)
    assert b"13800001234" not in bytes(raw_mobile)
    assert services.person_find_by_id_number(number.lower()) == person
    assert NaturalPerson.objects.get(pk=person.pk).id_number == number
    with pytest.raises(ValidationError) as error:
        services.person_register(actor=None, name="王五", id_number=number)
    assert "id_number" in error.value.message_dict


@pytest.mark.django_db
def test_revealing_the_full_id_number_needs_its_permission_and_is_audited():
    division = factories.division()
    unit = factories.unit(factories.department(division, "D1", "公安局"), "D1-U1", "户政科")
    clerk = factories.staff(
        "clerk", unit, role_obj=factories.role("viewer", [PERSON_VIEW]), scope=Scope.ALL
    )
    officer = factories.staff(
        "officer", unit, role_obj=factories.role("revealer", [PERSON_REVEAL_ID]), scope=Scope.ALL
    )
    person = factories.person("赵六")
    with pytest.raises(PermissionDenied):
        services.person_reveal_id_number(actor=clerk, person=person)
    denied = AuditEntry.objects.get(actor_id=clerk.pk)
    assert (denied.action, denied.outcome) == (PERSON_REVEAL_ID, "denied")
    assert services.person_reveal_id_number(actor=officer, person=person) == person.id_number
    read = AuditEntry.objects.get(action="accounts.person.reveal_id_number", outcome="success")
    assert read.actor_id == officer.pk
    assert read.object_id == str(person.pk)
    assert verify_chain().ok


@pytest.mark.django_db
def test_an_admin_role_cannot_be_given_to_a_public_user():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(
            "x", "Abcdefg1!", display_name="x", kind="public", admin_role="auditor"
        )


def test_production_hashes_passwords_with_argon2():
    assert django_settings.PASSWORD_HASHERS  # the test fixture swaps them; check the module
    from tongban import settings as module

    assert module.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.django_db
def test_login_is_audited_and_five_failures_lock_the_account(client):
    user = factories.citizen("zhang")
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "zhang", "password": "wrong"})
    assert response.status_code == 429
    assert "已被锁定".encode() in response.content
    response = client.post(
        "/accounts/login/", {"username": "zhang", "password": factories.PASSWORD}
    )
    assert response.status_code == 429  # still locked, even with the right password
    assert AuditEntry.objects.filter(action="accounts.login", outcome="failure").count() >= 4
    assert AuditEntry.objects.filter(action="accounts.login.locked").exists()
    assert not AuditEntry.objects.filter(
        action="accounts.login", outcome="success", actor_id=user.pk
    ).exists()


@pytest.mark.django_db
def test_login_sends_citizens_to_their_space_and_staff_to_the_workbench(client):
    factories.citizen("li")
    response = client.post("/accounts/login/", {"username": "li", "password": factories.PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert AuditEntry.objects.filter(action="accounts.login", outcome="success").count() == 1
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_staff_sessions_end_after_thirty_idle_minutes(client):
    division = factories.division()
    unit = factories.unit(factories.department(division, "D1", "民政局"), "D1-U1", "办公室")
    user = factories.staff(
        "idle", unit, role_obj=factories.role("wb", ["ui.workbench"]), scope=Scope.UNIT
    )
    client.force_login(user)
    assert client.get("/workbench/").status_code == 200
    session = client.session
    session["tongban_last_seen"] -= 31 * 60
    session.save()
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?expired=1"
    assert AuditEntry.objects.filter(action="accounts.session.expire").exists()


@pytest.mark.django_db
def test_citizen_sessions_survive_thirty_idle_minutes(client):
    client.force_login(factories.citizen())
    client.get("/me/")
    session = client.session
    session["tongban_last_seen"] -= 31 * 60
    session.save()
    assert client.get("/me/").status_code == 200


@pytest.mark.django_db
def test_administrators_must_pass_totp(client, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp delays retries after a wrong code
    admin = factories.staff("sys", admin_role="system_admin")
    client.force_login(admin)
    response = client.get("/workbench/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/"
    assert client.get("/accounts/mfa/")["Location"] == "/accounts/mfa/setup/"
    client.get("/accounts/mfa/setup/")
    device = TOTPDevice.objects.get(user=admin)
    wrong = client.post("/accounts/mfa/setup/", {"otp_token": "000000"})
    assert "验证码不正确".encode() in wrong.content
    code = f"{totp(device.bin_key):06d}"
    response = client.post("/accounts/mfa/setup/", {"otp_token": code})
    assert response.status_code == 302
    assert client.get("/workbench/").status_code == 200
    admin.refresh_from_db()
    assert admin.mfa_enabled
    assert AuditEntry.objects.filter(action="accounts.mfa.enable", actor_id=admin.pk).exists()


@pytest.mark.django_db
def test_self_registration_validates_and_creates_person_and_login(client):
    number = make_resident_id("990102", dt.date(1995, 7, 1), 22)
    bad = client.post(
        "/accounts/register/",
        {
            "username": "wang",
            "password": "weakpass",
            "name": "王芳",
            "id_number": number[:17] + "0" if number[17] != "0" else number[:17] + "1",
        },
    )
    assert bad.status_code == 200
    assert "校验码错误".encode() in bad.content or "密码".encode() in bad.content
    assert not User.objects.filter(username="wang").exists()
    assert NaturalPerson.objects.count() == 0  # nothing half-saved
    ok = client.post(
        "/accounts/register/",
        {
            "username": "wang",
            "password": "Strong@2026",
            "name": "王芳",
            "id_number": number,
            "mobile": "13900001111",
        },
    )
    assert ok.status_code == 302
    user = User.objects.get(username="wang")
    assert user.kind == "public"
    assert user.person.id_number == number


@pytest.mark.django_db
def test_agents_act_for_an_enterprise_and_audit_records_both(client):
    agent = factories.citizen("agent", "钱七")
    company = factories.enterprise()
    authorisation = services.agent_authorise(
        actor=None, agent=agent, legal_person=company, valid_from=dt.date(2020, 1, 1)
    )
    client.force_login(agent)
    client.post("/accounts/act-for/", {"authorisation": str(authorisation.pk)})
    client.post("/notifications/read-all/")  # any state change while acting for it
    client.post("/accounts/act-for/", {"authorisation": ""})
    start = AuditEntry.objects.get(action="accounts.act_for.start")
    clear = AuditEntry.objects.get(action="accounts.act_for.clear")
    assert clear.actor_id == agent.pk
    assert clear.acting_for_type == "legal_person"
    assert clear.acting_for_label == company.name
    assert start.actor_id == agent.pk
    services.agent_revoke(actor=None, authorisation=authorisation)
    client.post("/accounts/act-for/", {"authorisation": str(authorisation.pk)})
    assert (
        not AuditEntry.objects.filter(action="accounts.act_for.start").exclude(pk=start.pk).exists()
    )


@pytest.mark.django_db
def test_personal_access_tokens(rf):
    user = factories.citizen()
    token, secret = services.token_create(actor=user, user=user, name="ci")
    assert token.token_hash != secret
    assert secret not in token.token_hash
    auth = TokenAuth()
    assert auth.authenticate(rf.get("/"), secret) == user
    assert auth.authenticate(rf.get("/"), secret + "x") is None
    token.expires_at = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    token.save()
    assert auth.authenticate(rf.get("/"), secret) is None
    token.expires_at = None
    token.save()
    services.token_revoke(actor=user, token=token)
    assert auth.authenticate(rf.get("/"), secret) is None


@pytest.mark.django_db
def test_the_api_accepts_a_token_and_masks_personal_data(client):
    user = factories.citizen()
    _, secret = services.token_create(actor=user, user=user, name="ci")
    response = client.get("/api/platform/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "citizen"
    assert body["masked_id_number"] == user.person.id_number_masked
    assert user.person.id_number not in response.content.decode()
