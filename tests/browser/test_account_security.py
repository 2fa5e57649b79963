"""The UKey second factor in a real browser: a security administrator binds the SM2 key
of their UKey (the software stand-in signs), then signs in with it."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import log_in, screenshot
from tongban.platform.accounts.models import SM2Device
from tongban.platform.crypto import sm2

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_shown_challenge(page, key: bytes) -> None:
    challenge = page.get_by_test_id("sm2-challenge").inner_text().strip()
    assert challenge.startswith("tongban-login:")
    page.get_by_label("证书签名").fill(sm2.sign(key, challenge.encode()).hex())


def test_an_administrator_binds_a_ukey_and_signs_in_with_it(page):
    factories.staff("ukey_admin", admin_role="security_admin", name="安全管理员")
    key = sm2.generate_private_key_pem()

    log_in(page, "ukey_admin")
    page.wait_for_url("**/accounts/mfa/**")
    page.goto("/accounts/mfa/sm2/")
    page.get_by_label("名称").fill("安全管理员的UKey")
    page.get_by_label("SM2公钥（PEM）").fill(sm2.public_key_pem(key).decode())
    page.get_by_role("button", name="提交公钥").click()
    page.wait_for_selector("[data-testid=sm2-challenge]")
    screenshot(page, "account-ukey-bind")
    _sign_shown_challenge(page, key)
    page.get_by_role("button", name="完成绑定").click()
    page.wait_for_url("**/accounts/security/")
    assert page.get_by_text("已绑定SM2证书").is_visible()
    assert SM2Device.objects.get(user__username="ukey_admin").confirmed

    page.get_by_role("button", name="退出").click()
    log_in(page, "ukey_admin")
    page.wait_for_url("**/accounts/mfa/**")
    screenshot(page, "account-ukey-sign-in")
    _sign_shown_challenge(page, key)
    page.get_by_role("button", name="验证签名").click()
    page.wait_for_url(lambda url: "/accounts/mfa/" not in url)
    page.goto("/accounts/security/")
    assert page.get_by_role("heading", name="账号安全").is_visible()
