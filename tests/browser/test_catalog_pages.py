"""The service catalogue in a real browser: 我要办 routing, the guide, the online form."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.conftest import screenshot
from tongban.apps.catalog.tests import builders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_citizen_finds_the_item_reads_the_guide_and_checks_the_form(page):
    catalogue = builders.small_catalogue()
    factories.citizen("zhangsan")

    page.goto("/services/")
    page.get_by_label("我要办").fill("我想开一家奶茶店")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_selector("#search-results >> text=建议您找这些部门")
    first = page.locator(".hit").first
    assert "食品经营许可证核发（新办）" in first.inner_text()
    assert "示范市市场监督管理局" in page.locator(".department-route").inner_text()
    assert "奶茶店" in first.locator(".reasons").inner_text()
    screenshot(page, "catalog-route")

    first.locator("a.hit-title").click()
    page.wait_for_url(f"**/services/items/{catalogue['food'].item_id}/")
    assert page.get_by_role("heading", name="申请材料").is_visible()
    assert page.get_by_text("食品经营许可申请书").is_visible()
    screenshot(page, "catalog-guide")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "catalog-guide-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    page.goto(f"/services/items/{catalogue['birth'].item_id}/")
    page.get_by_role("link", name="在线申请").click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("用户名").fill("zhangsan")
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    # the catalogue hands online applications to the approvals app
    page.wait_for_url(f"**/cases/apply/{catalogue['birth'].item_id}/")
    page.get_by_role("button", name="提交申请").click()
    alert = page.get_by_role("alert")
    assert "新生儿姓名" in alert.inner_text()
    screenshot(page, "catalog-apply-errors")
    page.get_by_label("新生儿姓名").fill("张小宝")
    pdf = {"name": "材料.pdf", "mimeType": "application/pdf", "buffer": PDF}
    for upload in page.locator("input[type=file]").all():
        upload.set_input_files(pdf)
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url("**/cases/*/")
    page.wait_for_selector("text=已收件")
    screenshot(page, "approvals-submitted")
