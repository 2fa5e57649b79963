"""The 发文办理 pages: list tabs, new draft, detail with the step's form, sign-off from the
workbench, the revision diff (escaped), and no inline script or style in the templates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.test import Client

from tongban.apps.documents import drafting
from tongban.apps.documents.models import Document, DocumentState
from tongban.apps.documents.tests.fixtures_drafting import (  # noqa: F401
    City,
    advance_to_sign,
    city_fixture,
)

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148"
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "documents"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_new_draft_page_creates_the_draft_and_refuses_bad_input(city: City) -> None:
    client = _client(city.drafter)
    assert client.get("/documents/drafts/new/").status_code == 200
    form = {
        "issuer": city.office.pk,
        "kind": "文件",
        "direction": "down",
        "retention": "30y",
        "title": "关于做好年底安全生产工作的通知",
        "issuer_code": "示范府办",
        "body": "各单位：\n一、落实责任。",
        "cc": "市委办公室\n市人大常委会办公室",
        "countersign": [city.finance.pk],
    }
    bad = client.post("/documents/drafts/new/", {**form, "title": "", "copy_number": "1"})
    assert bad.status_code == 400
    assert "请填写标题" in bad.content.decode()
    assert not Document.objects.exists()
    response = client.post("/documents/drafts/new/", form)
    document = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/documents/drafts/{document.pk}/"
    assert document.cc == ["市委办公室", "市人大常委会办公室"]
    assert list(document.countersign_departments.all()) == [city.finance]
    # a user without DRAFT is refused the page
    assert _client(city.finance_officer).get("/documents/drafts/new/").status_code == 403


def test_detail_shows_the_step_form_to_whoever_may_act(city: City) -> None:
    document = city.draft(countersign=[city.finance])
    drafting.document_submit(actor=city.drafter, document=document)
    url = f"/documents/drafts/{document.pk}/"
    page = _client(city.checker).get(url).content.decode()
    assert "核稿意见" in page
    assert 'value="return"' in page
    drafter_page = _client(city.drafter).get(url).content.decode()
    assert 'value="return"' not in drafter_page
    assert document.title in drafter_page
    assert _client(city.outsider).get(url).status_code == 404
    preview = _client(city.drafter).get(f"{url}preview.pdf")  # unsealed GB/T 9704 layout
    assert preview["Content-Type"] == "application/pdf"
    assert preview.content.startswith(b"%PDF")
    # the checker returns it with reasons through the page
    response = _client(city.checker).post(
        f"{url}decide/", {"decision": "return", "text": "请补充依据"}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.state == DocumentState.DRAFTING


def test_leader_signs_off_from_the_workbench_on_a_phone(city: City) -> None:
    drafting.register()
    document = advance_to_sign(city, city.draft(urgency="特急"))
    client = Client(headers={"user-agent": PHONE})
    client.force_login(city.leader)
    workbench = client.get("/workbench/").content.decode()
    assert f"/documents/drafts/{document.pk}/" in workbench
    assert "待签发" in workbench
    todo = client.get("/documents/drafts/").content.decode()
    assert document.title in todo
    page = client.get(f"/documents/drafts/{document.pk}/").content.decode()
    assert "同意签发" in page
    assert page.index("同意签发") < page.index("公文要素")  # the form comes first on a phone
    response = client.post(
        f"/documents/drafts/{document.pk}/decide/", {"decision": "agree", "text": "同意"}
    )
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.state == DocumentState.NUMBERING
    assert document.signed_off_by == city.leader
    assert f"/documents/drafts/{document.pk}/" not in client.get("/workbench/").content.decode()


def test_diff_between_revisions_is_escaped(city: City) -> None:
    document = city.draft(body="第一段。\n第二段保持不变。")
    values = {name: getattr(document, name) for name in drafting.FIELDS}
    drafting.document_update(
        actor=city.drafter,
        document=document,
        values={
            **values,
            "body": "第一段<script>alert(1)</script>。\n第二段保持不变。\n新增第三段。",
        },
    )
    client = _client(city.drafter)
    response = client.get(f"/documents/drafts/{document.pk}/diff/?a=1&b=2")
    page = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)" not in page
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt;</ins>" in page
    assert "<ins>新增第三段。</ins>" in page
    assert client.get(f"/documents/drafts/{document.pk}/diff/?a=1&b=9").status_code == 404


def test_list_tabs(city: City) -> None:
    mine = city.draft(title="本人起草的通知")
    client = _client(city.drafter)
    assert mine.title in client.get("/documents/drafts/?tab=mine").content.decode()
    department = _client(city.leader).get("/documents/drafts/?tab=department").content.decode()
    assert mine.title in department
    assert (
        mine.title
        not in _client(city.outsider).get("/documents/drafts/?tab=department").content.decode()
    )


def test_templates_have_no_inline_script_style_or_handlers() -> None:
    names = ["draft_list.html", "draft_form.html", "document_detail.html", "document_diff.html"]
    for name in names:
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), name
        assert " style=" not in text, name
        assert not re.search(r"\son[a-z]+=", text), name


def test_the_edit_form_is_for_editors_only(city: City) -> None:
    """Regression: the edit form was shown to every reader of the draft (the leader, who
    holds VIEW but not DRAFT, got the form; only saving was refused)."""
    document = city.draft()
    url = f"/documents/drafts/{document.pk}/edit/"
    assert _client(city.drafter).get(url).status_code == 200
    assert _client(city.leader).get(url).status_code == 403
    # once submitted it is at 核稿: the checker edits, the drafter is sent to the detail page
    drafting.document_submit(actor=city.drafter, document=document)
    assert _client(city.checker).get(url).status_code == 200
    response = _client(city.drafter).get(url)
    assert response.status_code in (302, 403)
