"""The Content-Security-Policy in a real browser: key pages, including the BPMN diagram
(bpmn-js), the supervision charts (ECharts), an htmx swap, the language switch and
Swagger UI, run without a single CSP violation (the browser's securitypolicyviolation
event and its console).

Chromium is driven from a thread of its own: the browser tests in tests/browser keep a
session-wide Playwright in the main thread, and the sync API allows one per thread."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.security.conftest import CITIZEN_A, OFFICER, SUPERVISOR, World, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push(event.violatedDirective + " " + (event.blockedURI || "inline") + " " +
                    (event.sourceFile || "") + ":" + event.lineNumber);
});
"""

# (session cookie or None, path, selector to wait for, action)
Step = tuple[str | None, str, str | None, str]


def _browse(base_url: str, steps: list[Step]) -> tuple[list[str], list[str]]:
    from playwright.sync_api import sync_playwright

    violations: list[str] = []
    console: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for session, path, wait_for, action in steps:
                context = browser.new_context(locale="zh-CN", base_url=base_url)
                context.set_default_timeout(15_000)
                if session:
                    name = settings.SESSION_COOKIE_NAME
                    context.add_cookies([{"name": name, "value": session, "url": base_url}])
                page = context.new_page()
                page.add_init_script(RECORD_VIOLATIONS)
                page.on(
                    "console",
                    lambda message: (
                        console.append(message.text)
                        if "Content Security Policy" in message.text
                        else None
                    ),
                )
                response = page.goto(path)
                assert response is not None
                assert response.status < 400, path
                csp = response.headers.get("content-security-policy") or ""
                assert "script-src 'self'" in csp, path
                if wait_for:
                    page.wait_for_selector(wait_for)
                if action == "language":
                    page.select_option("#lang-select", "en")
                    page.wait_for_function("document.documentElement.lang === 'en'")
                elif action == "tab":
                    page.get_by_role("tab", name="已办").click()
                    page.wait_for_selector('[role="tab"][aria-selected="true"][href="?tab=done"]')
                page.wait_for_load_state("networkidle")
                violations += [f"{path}: {entry}" for entry in page.evaluate("window.__csp")]
                context.close()
        finally:
            browser.close()
    return violations, console


def _session(user: Any) -> str:
    return str(sign_in(Client(), user).cookies[settings.SESSION_COOKIE_NAME].value)


def test_key_pages_raise_no_csp_violation(live_server: Any, world: World) -> None:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("TONGBAN_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is required (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed")
    citizen = _session(world.users[CITIZEN_A])
    officer = _session(world.users[OFFICER])
    supervisor = _session(world.users[SUPERVISOR])
    steps: list[Step] = [
        (None, "/", None, ""),
        (None, "/accounts/login/", None, "language"),
        (None, "/services/", None, ""),
        (None, "/api/docs", "#swagger-ui .opblock", ""),
        (citizen, "/cases/mine/", None, ""),
        (citizen, f"/cases/{world.case.pk}/", None, ""),
        (officer, f"/cases/{world.case.pk}/", "[data-workflow-diagram] svg", ""),
        (officer, "/workbench/", None, "tab"),
        (supervisor, "/supervision/", "canvas", ""),
        (supervisor, "/supervision/evaluation/", None, ""),
        # official documents: the pages with their own scripts (unit picker, drafting form)
        (officer, f"/documents/drafts/{world.documents.draft.pk}/edit/", None, ""),
        (officer, f"/documents/send/{world.documents.sent.pk}/", None, ""),
        (officer, f"/documents/drafts/{world.documents.draft.pk}/diff/?a=1&b=2", None, ""),
        (None, f"/documents/verify/{world.documents.sent.public_id}/", None, ""),
    ]
    with ThreadPoolExecutor(max_workers=1) as pool:
        violations, console = pool.submit(_browse, live_server.url, steps).result()
    assert violations == []
    assert console == []
