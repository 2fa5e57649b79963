"""Every visible string has an English translation, and switching language works."""

from __future__ import annotations

import pytest
from django.utils import translation

from tongban.platform.ui.i18n import gaps, parse_po


def test_every_string_in_the_source_is_translated_to_english():
    assert gaps() == []


def test_the_po_reader_sees_untranslated_and_fuzzy_entries():
    text = 'msgid "甲"\nmsgstr ""\n\n#, fuzzy\nmsgid "乙"\nmsgstr "B"\n\nmsgid "丙"\nmsgstr "C"\n'
    entries = {entry.msgid: entry for entry in parse_po(text)}
    assert entries["甲"].msgstr == ""
    assert entries["乙"].fuzzy
    assert entries["丙"].msgstr == "C"


def test_the_compiled_catalogue_is_used():
    with translation.override("en"):
        assert translation.gettext("工作台") == "Workbench"
    with translation.override("zh-hans"):
        assert translation.gettext("工作台") == "工作台"


@pytest.mark.django_db
def test_the_login_page_follows_the_language_cookie(client):
    assert "登录".encode() in client.get("/accounts/login/").content
    client.cookies["django_language"] = "en"
    assert b"Sign in" in client.get("/accounts/login/").content


@pytest.mark.django_db
def test_api_errors_are_in_the_callers_language(client):
    zh = client.get("/api/platform/me").json()
    en = client.get("/api/platform/me", HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh == {
        "code": "unauthenticated",
        "message": "请先登录或提供有效的访问令牌",
        "details": [],
    }
    assert en["message"] == "Sign in or provide a valid access token"
