"""Login, logout, idle sessions, second factor and password change, through the pages."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.hashers import identify_hasher
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def _no_otp_throttle(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp delays retries after a wrong code


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key):06d}"


@pytest.mark.django_db
def test_staff_land_on_the_workbench_and_a_safe_next_is_respected(client):
    division = factories.division()
    unit = factories.unit(factories.department(division, "D1", "民政局"), "D1-U1", "办公室")
    factories.staff("clerk", unit, role_obj=factories.role("wb", ["ui.workbench"]))
    response = client.post(
        "/accounts/login/", {"username": "clerk", "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/workbench/"
    client.post("/accounts/logout/")
    response = client.post(
        "/accounts/login/?next=/accounts/security/",
        {"username": "clerk", "password": factories.PASSWORD, "next": "/accounts/security/"},
    )
    assert response["Location"] == "/accounts/security/"


@pytest.mark.django_db
def test_an_offsite_next_is_ignored(client):
    factories.citizen("li")
    response = client.post(
        "/accounts/login/",
        {"username": "li", "password": factories.PASSWORD, "next": "https://evil.example/x"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/me/"


@pytest.mark.django_db
def test_a_failed_login_is_audited_with_the_username_and_never_the_password(client):
    factories.citizen("li")
    response = client.post("/accounts/login/", {"username": "li", "password": "Secret#999"})
    assert response.status_code == 200
    assert "用户名或密码错误".encode() in response.content
    entry = AuditEntry.objects.get(action="accounts.login")
    assert entry.outcome == "failure"
    assert entry.actor_id is None
    assert json.loads(entry.detail) == {"username": "li"}
    assert "Secret#999" not in str(entry.detail)
    assert "Secret#999" not in entry.object_label


@pytest.mark.django_db
def test_the_lockout_page_is_a_proper_page(client):
    factories.citizen("zhao")
    for _ in range(5):
        response = client.post("/accounts/login/", {"username": "zhao", "password": "bad"})
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "账号已锁定".encode() in response.content
    locked = AuditEntry.objects.filter(action="accounts.login.locked").first()
    assert locked is not None
    assert locked.outcome == "denied"
    assert json.loads(locked.detail) == {"username": "zhao"}


@pytest.mark.django_db
def test_the_login_page_explains_an_expired_session(client):
    assert "已自动退出".encode() not in client.get("/accounts/login/").content
    response = client.get("/accounts/login/?expired=1")
    assert response.status_code == 200
    assert "您长时间未操作，已自动退出，请重新登录。".encode() in response.content


@pytest.mark.django_db
def test_logout_is_post_only_and_audited(client):
    user = factories.citizen()
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/accounts/login/"
    assert AuditEntry.objects.filter(action="accounts.logout", actor_id=user.pk).count() == 1
    assert client.get("/accounts/security/").status_code == 302  # signed out


@pytest.mark.django_db
def test_idle_staff_session_is_logged_out_but_a_fresh_one_is_not(client, settings):
    settings.TONGBAN_STAFF_IDLE_SECONDS = 30 * 60
    division = factories.division()
    unit = factories.unit(factories.department(division, "D1", "民政局"), "D1-U1", "办公室")
    user = factories.staff("idle2", unit, role_obj=factories.role("wb", ["ui.workbench"]))
    client.force_login(user)
    client.get("/accounts/security/")
    session = client.session
    session["tongban_last_seen"] -= 29 * 60
    session.save()
    assert client.get("/accounts/security/").status_code == 200  # 29 minutes: still in
    session = client.session
    session["tongban_last_seen"] -= 31 * 60
    session.save()
    response = client.get("/accounts/security/")
    assert response["Location"] == "/accounts/login/?expired=1"
    assert "_auth_user_id" not in client.session
    assert (
        AuditEntry.objects.filter(action="accounts.session.expire", actor_id=user.pk).count() == 1
    )


@pytest.mark.django_db
def test_enrolment_shows_a_qr_code_and_secret_and_a_wrong_code_is_audited(client):
    user = factories.citizen()
    client.force_login(user)
    page = client.get("/accounts/mfa/setup/")
    assert page.status_code == 200
    assert b"<svg" in page.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.context["secret"].encode() in page.content
    assert len(page.context["secret"]) == 32  # 20-byte key in base32
    wrong = client.post("/accounts/mfa/setup/", {"otp_token": "000000"})
    assert "验证码不正确或已过期".encode() in wrong.content
    failed = AuditEntry.objects.get(action="accounts.mfa.enable")
    assert failed.outcome == "failure"
    device.refresh_from_db()
    assert not device.confirmed
    response = client.post("/accounts/mfa/setup/", {"otp_token": _code(device)})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.mfa_enabled
    assert AuditEntry.objects.filter(action="accounts.mfa.enable", outcome="success").count() == 1


@pytest.mark.django_db
def test_once_enabled_the_second_factor_is_asked_at_every_login(client):
    user = factories.citizen("opt")
    device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    User.objects.filter(pk=user.pk).update(mfa_enabled=True)
    response = client.post(
        "/accounts/login/",
        {"username": "opt", "password": factories.PASSWORD, "next": "/accounts/security/"},
    )
    assert response["Location"] == "/accounts/mfa/?next=%2Faccounts%2Fsecurity%2F"
    assert client.get("/accounts/security/")["Location"] == "/accounts/mfa/"
    # With a confirmed device, enrolling a new one needs the old one first.
    assert client.get("/accounts/mfa/setup/")["Location"] == "/accounts/mfa/"
    wrong = client.post("/accounts/mfa/?next=/accounts/security/", {"otp_token": "000000"})
    assert wrong.status_code == 200
    failure = AuditEntry.objects.get(action="accounts.mfa.verify")
    assert (failure.outcome, failure.actor_id) == ("failure", user.pk)
    right = client.post(
        "/accounts/mfa/", {"otp_token": _code(device), "next": "/accounts/security/"}
    )
    assert right["Location"] == "/accounts/security/"
    assert client.get("/accounts/security/").status_code == 200


@pytest.mark.django_db
def test_supervisor_roles_require_the_second_factor_and_no_device_means_enrolment(client):
    division = factories.division()
    unit = factories.unit(factories.department(division, "D9", "监察局"), "D9-U1", "监察科")
    supervisor_role = factories.role("supervisor", ["ui.workbench"], requires_mfa=True)
    user = factories.staff("sup", unit, role_obj=supervisor_role, scope=Scope.UNIT)
    assert user.mfa_required
    response = client.post("/accounts/login/", {"username": "sup", "password": factories.PASSWORD})
    assert response["Location"] == "/accounts/mfa/"
    assert client.get("/accounts/mfa/")["Location"] == "/accounts/mfa/setup/"
    assert client.get("/workbench/")["Location"] == "/accounts/mfa/"


@pytest.mark.django_db
def test_a_plain_citizen_is_not_asked_for_a_second_factor(client):
    user = factories.citizen()
    assert not user.mfa_required
    client.force_login(user)
    assert client.get("/accounts/security/").status_code == 200


@pytest.mark.django_db
def test_password_change_enforces_the_policy_and_is_audited(client):
    user = factories.citizen("pw")
    client.force_login(user)
    assert client.get("/accounts/password/").status_code == 200
    weak = client.post(
        "/accounts/password/", {"old_password": factories.PASSWORD, "new_password": "abcdefgh"}
    )
    assert weak.status_code == 200
    assert "密码至少包含大写字母、小写字母、数字、符号中的3种".encode() in weak.content
    short = client.post(
        "/accounts/password/", {"old_password": factories.PASSWORD, "new_password": "Ab1!"}
    )
    assert short.status_code == 200
    wrong_old = client.post(
        "/accounts/password/", {"old_password": "Nope#1234", "new_password": "Better#2026"}
    )
    assert "原密码不正确".encode() in wrong_old.content
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)
    assert user.password_changed_at is None
    assert not AuditEntry.objects.filter(action="accounts.password.change").exists()
    ok = client.post(
        "/accounts/password/", {"old_password": factories.PASSWORD, "new_password": "Better#2026"}
    )
    assert ok["Location"] == "/accounts/security/"
    user.refresh_from_db()
    assert user.check_password("Better#2026")
    assert user.password_changed_at is not None
    assert (
        AuditEntry.objects.filter(action="accounts.password.change", actor_id=user.pk).count() == 1
    )
    assert client.get("/accounts/security/").status_code == 200  # session kept


@pytest.mark.django_db
def test_passwords_are_stored_with_the_first_configured_hasher(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = factories.citizen("argon")
    assert identify_hasher(user.password).algorithm == "argon2"
