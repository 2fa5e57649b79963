"""Official documents in a real browser: the leader signs a notice off from the workbench on
a phone-sized screen; the office's 文书 numbers and seals it and sends it to a unit picked
in the organisation tree; the unit's 文书 signs for it from the inbox, and the sender's
status page shows the signature."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import log_in, screenshot
from tongban.apps.documents import permissions as p
from tongban.apps.documents import seals
from tongban.apps.documents.models import Delivery, DeliveryState, Document, DocumentState
from tongban.apps.documents.tests.fixtures_drafting import (  # noqa: F401  (fixture)
    City,
    advance_to_sign,
    city_fixture,
)
from tongban.platform.access.models import RoleAssignment, Scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def log_out(page: Any) -> None:
    page.context.clear_cookies()


def test_sign_off_on_a_phone_then_number_seal_send_and_sign_for_it(page, city: City) -> None:
    document = advance_to_sign(city, city.draft())
    seals.ensure_seal(city.office)
    receiver = factories.staff("civil_clerk", city.civil.units.first(), name="民政文书")
    RoleAssignment.objects.create(
        user=receiver,
        role=factories.role("browser_receive", [p.RECEIVE]),
        scope=Scope.DEPARTMENT,
        department=city.civil,
    )

    # the leader, on a phone: the workbench lists the pending sign-off
    page.set_viewport_size(PHONE)
    log_in(page, "leader")
    page.goto("/workbench/")
    page.get_by_role("link", name=document.title).first.click()
    page.get_by_role("button", name="同意签发").click()
    page.wait_for_url(lambda url: url.endswith(f"/documents/drafts/{document.pk}/"))
    screenshot(page, "documents-sign-off-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, "the page scrolls sideways on a phone"
    document.refresh_from_db()
    assert document.state == DocumentState.NUMBERING

    # the office's 文书 numbers, seals and sends it to 民政局 picked in the tree
    log_out(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, "clerk")
    page.goto(f"/documents/drafts/{document.pk}/")
    page.get_by_role("button", name="编号").click()
    page.get_by_role("button", name="用印").click()
    page.get_by_role("link", name="分发").first.click()
    page.get_by_label("查找单位").fill("民政")  # among thousands: the others are hidden
    # the filter script may still be starting: wait for it (Playwright retries the check)
    expect(page.get_by_label("示范市财政局")).to_be_hidden()
    page.get_by_label("示范市民政局").check()
    page.get_by_role("button", name="确认分发").click()
    document.refresh_from_db()
    assert document.state == DocumentState.DISTRIBUTED
    assert document.number.startswith("示范府办〔")
    delivery = Delivery.objects.get(document=document)
    assert delivery.recipient == city.civil

    # the unit's 文书 signs for it from the inbox
    log_out(page)
    log_in(page, "civil_clerk")
    page.goto("/documents/inbox/")
    page.get_by_role("link", name=document.title).click()
    page.get_by_role("button", name="签收").click()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SIGNED
    screenshot(page, "documents-inbox-signed")

    # the sender sees the signature on the status page
    log_out(page)
    log_in(page, "clerk")
    page.goto(f"/documents/dispatches/{delivery.dispatch_id}/")
    row = page.locator("tr", has_text="示范市民政局")
    assert "已签收" in row.inner_text()
    screenshot(page, "documents-dispatch-status")
    assert Document.objects.get(pk=document.pk).sealed_pdf_id is not None
