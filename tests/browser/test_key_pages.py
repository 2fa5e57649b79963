"""Key pages in a real browser: each kind of user logs in; screenshots for review."""

from __future__ import annotations

import pytest
from django_otp.oath import totp

from tests.browser.conftest import log_in, screenshot
from tongban.demo.loader import DEMO_PASSWORD, DEMO_TOTP_KEY, load_demo_city

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def pass_totp(page) -> None:
    page.wait_for_url("**/accounts/mfa/**")
    page.get_by_label("动态验证码").fill(f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}")
    page.get_by_role("button", name="验证").click()


def test_staff_log_in_to_their_workbench(page):
    load_demo_city()
    for username, expected in (
        ("clerk", "窗口受理员"),
        ("officer", "部门经办人"),
        ("leader", "部门领导"),
    ):
        log_in(page, username, DEMO_PASSWORD)
        page.wait_for_url("**/workbench/")
        assert page.get_by_role("heading", name="工作台", exact=True).is_visible()
        assert page.get_by_text(expected).first.is_visible()
        screenshot(page, f"workbench-{username}")
        page.get_by_role("tab", name="消息").click()
        page.wait_for_selector("#tab-panel >> text=欢迎使用示范市一体化政务服务平台")
        assert page.get_by_role("tab", name="消息").get_attribute("aria-selected") == "true"
        page.get_by_role("button", name="退出").click()
        page.wait_for_url("**/accounts/login/")


def test_supervisor_and_administrators_need_their_second_factor(page):
    load_demo_city()
    log_in(page, "supervisor", DEMO_PASSWORD)
    pass_totp(page)
    page.wait_for_url("**/workbench/")
    assert page.get_by_text("电子监察员").first.is_visible()
    screenshot(page, "workbench-supervisor")
    page.get_by_role("button", name="退出").click()

    log_in(page, "auditor", DEMO_PASSWORD)
    pass_totp(page)
    page.wait_for_url("**/workbench/")
    page.goto("/admin/audit/auditentry/")
    assert page.get_by_text("accounts.login").first.is_visible()
    screenshot(page, "admin-audit-log")


def test_citizen_and_enterprise_agent_personal_space(page):
    load_demo_city()
    log_in(page, "citizen", DEMO_PASSWORD)
    page.wait_for_url("**/me/")
    masked = page.get_by_test_id("masked-id").inner_text()
    assert "**********" in masked
    assert len(masked) == 18
    screenshot(page, "personal-citizen")
    page.get_by_role("button", name="退出").click()

    log_in(page, "agent", DEMO_PASSWORD)
    page.wait_for_url("**/me/")
    page.get_by_role("link", name="切换办事身份").click()
    page.get_by_label("示范市东湖智能科技有限公司", exact=False).check()
    page.get_by_role("button", name="确定").click()
    assert page.get_by_text("已切换为代理").is_visible()
    screenshot(page, "act-for-agent")


def test_english_interface_and_keyboard_use(page):
    load_demo_city()
    page.goto("/accounts/login/")
    page.select_option("#lang-select", "en")  # submits the language form
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("document.activeElement.name") == "username"  # autofocus
    page.goto("/")  # a page without autofocus: keyboard focus starts at the top
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/workbench/")
    assert page.get_by_role("heading", name="Workbench", exact=True).is_visible()
    screenshot(page, "workbench-english")


def test_a_wrong_password_shows_a_clear_error(page):
    load_demo_city()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("clerk")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    assert page.get_by_role("alert").get_by_text("用户名或密码错误").is_visible()
