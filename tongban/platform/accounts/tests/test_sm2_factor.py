"""The SM2 key of a UKey (智能密码钥匙) as a second factor (GB/T 39786 level 3: identity
checked with cryptography): binding the public key, signing in with a signature of a
one-time challenge, refusals (another key, a replayed or stale signature) audited."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone

from tests import factories
from tongban.platform.accounts.models import SM2Device, User
from tongban.platform.audit.models import AuditEntry, Outcome
from tongban.platform.crypto import sm2

pytestmark = pytest.mark.django_db

KEY = sm2.generate_private_key_pem()
OTHER_KEY = sm2.generate_private_key_pem()


@pytest.fixture(autouse=True)
def _no_throttle(settings):
    settings.OTP_SM2_THROTTLE_FACTOR = 0  # django-otp delays retries after a failure


def _sign(key: bytes, text: str, *, as_base64: bool = False) -> str:
    signature = sm2.sign(key, text.encode("utf-8"))
    return base64.b64encode(signature).decode() if as_base64 else signature.hex()


def _sign_in(client, username: str) -> None:
    response = client.post(
        "/accounts/login/", {"username": username, "password": factories.PASSWORD}
    )
    assert response.status_code == 302


def _bind(client, user: User) -> SM2Device:
    page = client.post(
        "/accounts/mfa/sm2/",
        {
            "action": "key",
            "key-name": "张三的UKey",
            "key-public_key_pem": sm2.public_key_pem(KEY).decode(),
        },
    )
    assert page.status_code == 200
    device = SM2Device.objects.get(user=user, confirmed=False)
    assert device.challenge_text().encode() in page.content
    done = client.post(
        "/accounts/mfa/sm2/",
        {"action": "confirm", "sm2-signature": _sign(KEY, device.challenge_text())},
    )
    assert done.status_code == 302, done.content.decode()[:2000]
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_an_administrator_binds_a_ukey_and_signs_in_with_it(client):
    admin = factories.staff("sm2_admin", admin_role="system_admin")
    _sign_in(client, "sm2_admin")
    assert client.get("/accounts/security/")["Location"].startswith("/accounts/mfa/")
    device = _bind(client, admin)
    admin.refresh_from_db()
    assert admin.mfa_enabled
    assert device.fingerprint
    assert "BEGIN PUBLIC KEY" in device.public_key_pem
    assert AuditEntry.objects.filter(
        action="accounts.mfa.sm2.enable", actor_id=admin.pk, outcome=Outcome.SUCCESS
    ).exists()

    client.post("/accounts/logout/")
    _sign_in(client, "sm2_admin")
    assert client.get("/admin/")["Location"].startswith("/accounts/mfa/")
    page = client.get("/accounts/mfa/")
    device.refresh_from_db()
    text = device.challenge_text()
    assert text.startswith("tongban-login:sm2_admin:")
    assert text.encode() in page.content
    passed = client.post(
        "/accounts/mfa/", {"method": "sm2", "sm2-signature": _sign(KEY, text, as_base64=True)}
    )
    assert passed.status_code == 302
    assert not passed["Location"].startswith("/accounts/mfa/")
    assert client.get("/accounts/security/").status_code == 200
    verified = AuditEntry.objects.filter(action="accounts.mfa.verify", actor_id=admin.pk).last()
    assert verified is not None
    assert verified.outcome == Outcome.SUCCESS


def test_another_key_a_replay_and_a_stale_challenge_are_refused_and_audited(client):
    admin = factories.staff("sm2_guard", admin_role="security_admin")
    _sign_in(client, "sm2_guard")
    device = _bind(client, admin)
    client.post("/accounts/logout/")
    _sign_in(client, "sm2_guard")

    client.get("/accounts/mfa/")
    device.refresh_from_db()
    text = device.challenge_text()
    wrong = client.post(
        "/accounts/mfa/", {"method": "sm2", "sm2-signature": _sign(OTHER_KEY, text)}
    )
    assert wrong.status_code == 200
    assert "签名验证失败".encode() in wrong.content
    # the right signature of the challenge already tried is refused too: used once
    replay = client.post("/accounts/mfa/", {"method": "sm2", "sm2-signature": _sign(KEY, text)})
    assert replay.status_code == 200
    # a challenge older than five minutes
    client.get("/accounts/mfa/")
    device.refresh_from_db()
    device.challenge_valid_until = timezone.now() - dt.timedelta(seconds=1)
    device.save(update_fields=["challenge_valid_until"])
    stale = client.post(
        "/accounts/mfa/", {"method": "sm2", "sm2-signature": _sign(KEY, device.challenge_text())}
    )
    assert stale.status_code == 200
    garbage = client.post("/accounts/mfa/", {"method": "sm2", "sm2-signature": "不是签名"})
    assert garbage.status_code == 200
    assert client.get("/accounts/security/")["Location"].startswith("/accounts/mfa/")
    failures = AuditEntry.objects.filter(
        action="accounts.mfa.verify", actor_id=admin.pk, outcome=Outcome.FAILURE
    )
    assert failures.count() == 4


def test_a_key_that_is_not_sm2_is_refused_and_nothing_is_saved(client):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    user = factories.staff("sm2_typo")
    _sign_in(client, "sm2_typo")
    p256 = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for text, message in (
        (
            "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----",
            "不是有效的PEM格式公钥",
        ),
        (p256.decode(), "公钥不是SM2算法的公钥"),
    ):
        page = client.post("/accounts/mfa/sm2/", {"action": "key", "key-public_key_pem": text})
        assert page.status_code == 200
        assert message.encode() in page.content
    assert not SM2Device.objects.filter(user=user).exists()


def test_a_second_factor_must_be_passed_before_binding_another_key(client):
    admin = factories.staff("sm2_owner", admin_role="auditor")
    _sign_in(client, "sm2_owner")
    _bind(client, admin)
    client.post("/accounts/logout/")
    _sign_in(client, "sm2_owner")  # password only: a thief with the password
    response = client.get("/accounts/mfa/sm2/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/mfa/"
    client.post(
        "/accounts/mfa/sm2/",
        {"action": "key", "key-public_key_pem": sm2.public_key_pem(OTHER_KEY).decode()},
    )
    assert SM2Device.objects.filter(user=admin).count() == 1


def test_sm2_only_sends_administrators_to_the_ukey_not_to_an_authenticator(client, settings):
    settings.TONGBAN_MFA_SM2_ONLY = True
    admin = factories.staff("sm2_only", admin_role="system_admin")
    _sign_in(client, "sm2_only")
    assert client.get("/accounts/mfa/")["Location"] == "/accounts/mfa/sm2/"
    assert client.get("/accounts/mfa/setup/")["Location"] == "/accounts/mfa/sm2/"
    _bind(client, admin)
    client.post("/accounts/logout/")
    _sign_in(client, "sm2_only")
    page = client.get("/accounts/mfa/")
    assert b"sm2-challenge" in page.content
    assert b'name="otp_token"' not in page.content


def test_the_software_stand_in_makes_a_key_and_signs_what_the_platform_accepts(tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from tongban.platform.accounts.services import sm2_device_enrol

    user = factories.staff("sm2_dev")
    out = StringIO()
    call_command("sm2_key", "new", str(tmp_path / "k.pem"), stdout=out)
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    device = sm2_device_enrol(actor=user, public_key_pem=out.getvalue())
    signed = StringIO()
    call_command("sm2_key", "sign", str(tmp_path / "k.pem"), device.challenge_text(), stdout=signed)
    assert device.verify_token(signed.getvalue().strip())


def test_two_requests_racing_with_one_signature_pass_once():
    """Each request loads the device; the first to clear the challenge wins, the other
    (holding the same challenge in memory) is refused."""
    from tongban.platform.accounts.services import sm2_device_enrol

    user = factories.staff("sm2_race")
    device = sm2_device_enrol(actor=user, public_key_pem=sm2.public_key_pem(KEY).decode())
    first = SM2Device.objects.get(pk=device.pk)
    second = SM2Device.objects.get(pk=device.pk)
    signature = _sign(KEY, first.challenge_text())
    assert first.verify_token(signature)
    assert not second.verify_token(signature)
