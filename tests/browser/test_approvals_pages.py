"""Approvals in a real browser: the window accepts from its queue, the officer finds the
task in the inbox, the case page draws the BPMN diagram with the current step marked."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in, screenshot
from tongban.apps.approvals.tests.conftest import make_city
from tongban.apps.approvals.tests.test_cases import submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_out(page) -> None:
    page.get_by_role("button", name="退出").click()


def test_window_accepts_and_the_officer_sees_the_diagram(page):
    city = make_city(for_legal_persons=True)
    case = submit(city)

    log_in(page, "clerk")
    page.goto("/cases/queue/")
    page.get_by_role("link", name=case.number).click()
    page.wait_for_url(f"**/cases/{case.pk}/")
    page.locator("#accept-form").get_by_label("食品经营许可申请书").check()
    screenshot(page, "approvals-window-accept")
    page.get_by_role("button", name="受理", exact=True).click()
    page.wait_for_selector("text=已受理，办理时限开始计算")
    page.get_by_role("link", name="受理通知书").wait_for(state="visible")
    log_out(page)

    log_in(page, "officer")
    page.goto("/cases/inbox/")
    assert page.get_by_role("link", name=case.number).is_visible()
    screenshot(page, "approvals-inbox")
    page.get_by_role("link", name=case.number).click()
    # bpmn-js draws the process and marks the step waiting for the officer
    page.wait_for_selector(".workflow-diagram-canvas svg")
    page.wait_for_selector(".workflow-diagram-canvas .djs-element.workflow-active")
    screenshot(page, "approvals-case-officer")
    page.get_by_label("审查意见").fill("材料齐全，符合法定条件")
    page.get_by_role("button", name="同意，转下一环节").click()
    page.wait_for_selector("text=本环节已办理完毕，已转下一环节")
