"""The drafting API: refusal before the body is read, a draft through 核稿 and 签发."""

from __future__ import annotations

from django.test import Client

from tongban.apps.documents.models import Document, DocumentState
from tongban.apps.documents.tests.fixtures_drafting import (  # noqa: F401
    City,
    city_fixture,
)


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_draft_submit_check_and_refusals(city: City) -> None:
    # no DRAFT at all: 403 even with a malformed body
    refused = _client(city.finance_officer).post(
        "/api/documents/drafts", "{bad json", content_type="application/json"
    )
    assert refused.status_code == 403
    drafter = _client(city.drafter)
    bad = drafter.post(
        "/api/documents/drafts",
        {"issuer_id": city.office.pk, "title": "通知", "issuer_code": "", "copy_number": "x"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    created = drafter.post(
        "/api/documents/drafts",
        {
            "issuer_id": city.office.pk,
            "title": "关于开展安全检查的通知",
            "body": "一、检查范围。",
            "issuer_code": "示范府办",
            "countersign_ids": [],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    document_id = created.json()["id"]
    assert drafter.post(f"/api/documents/drafts/{document_id}/submit").json()["state"] == "checking"
    # another department cannot see it
    assert _client(city.outsider).get(f"/api/documents/drafts/{document_id}").status_code == 404
    checker = _client(city.checker)
    pending = checker.get("/api/documents/drafts/pending").json()
    assert [entry["document"]["id"] for entry in pending] == [document_id]
    decided = checker.post(
        f"/api/documents/drafts/{document_id}/decide",
        {"decision": "agree", "text": "核稿无误"},
        content_type="application/json",
    )
    assert decided.status_code == 200
    assert decided.json()["state"] == "signing"
    signed = _client(city.leader).post(
        f"/api/documents/drafts/{document_id}/decide",
        {"decision": "agree"},
        content_type="application/json",
    )
    assert signed.json()["state"] == "numbering"
    numbered = _client(city.clerk).post(f"/api/documents/drafts/{document_id}/number").json()
    assert numbered["number"].endswith("〕1号")
    assert Document.objects.get(pk=document_id).state == DocumentState.SEALING
