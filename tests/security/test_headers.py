"""Security headers on a sample of pages: a Content-Security-Policy without inline script
or style, frame denial, nosniff, referrer policy; production adds HSTS and secure cookies."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.security.conftest import CITIZEN_A, OFFICER, SUPERVISOR, World, sign_in

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def csp_directives(header: str) -> dict[str, str]:
    """The policy as directive → sources (django-csp does not keep the order)."""
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def _assert_headers(response: Any) -> None:
    assert csp_directives(response["Content-Security-Policy"]) == EXPECTED_CSP
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        (None, "/"),
        (None, "/accounts/login/"),
        (None, "/services/"),
        (None, "/api/docs"),
        (CITIZEN_A, "/cases/mine/"),
        (OFFICER, "/workbench/"),
        (OFFICER, "/cases/inbox/"),
        (SUPERVISOR, "/supervision/"),
    ],
)
def test_sample_pages_carry_security_headers(world: World, persona: str | None, path: str) -> None:
    client = sign_in(Client(), world.users[persona] if persona else None)
    response = client.get(path)
    assert response.status_code == 200, path
    _assert_headers(response)


def test_case_page_and_api_carry_security_headers(world: World) -> None:
    client = sign_in(Client(), world.users[OFFICER])
    page = client.get(f"/cases/{world.case.pk}/")
    assert page.status_code == 200
    _assert_headers(page)
    api = client.get("/api/platform/me")
    assert api.status_code == 200
    _assert_headers(api)


def test_error_pages_carry_security_headers(db: Any) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    _assert_headers(response)


def test_no_template_has_inline_script_style_or_handler() -> None:
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|<style\b|"
        r"\sstyle=\"|\son[a-z]+=\""
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in sorted((ROOT / "tongban").rglob("*.html"))
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_htmx_inline_indicator_style_is_turned_off() -> None:
    base = (ROOT / "tongban/platform/ui/templates/ui/base.html").read_text(encoding="utf-8")
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in base
    css = (ROOT / "tongban/platform/ui/static/ui/tongban.css").read_text(encoding="utf-8")
    assert ".htmx-indicator { opacity: 0; visibility: hidden; }" in css


PRODUCTION_SETTINGS = """
import django
from django.conf import settings
django.setup()
print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
      settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE,
      settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
      settings.CSRF_COOKIE_HTTPONLY, settings.SECURE_PROXY_SSL_HEADER)
"""


def test_production_settings_turn_on_hsts_and_secure_cookies(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_ENV": "production",
        "TONGBAN_SECRET_KEY": "x" * 50,
        "TONGBAN_PII_KEY": "ffeeddccbbaa99887766554433221100",
        "TONGBAN_PII_HMAC_KEY": "a-production-hmac-key-for-this-test",
        "TONGBAN_ALLOWED_HOSTS": "tongban.example.gov.cn",
        "TONGBAN_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PRODUCTION_SETTINGS],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == (
        "31536000 True True True True True True ('HTTP_X_FORWARDED_PROTO', 'https')"
    )


def test_production_response_sends_hsts(settings: Any, db: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = Client().get("/accounts/login/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    _assert_headers(response)
