"""The approvals API end to end through Django's test client."""

from __future__ import annotations

import pytest

from tongban.apps.approvals.models import Case
from tongban.apps.approvals.tests.conftest import upload

pytestmark = pytest.mark.django_db

JSON = "application/json"


def submit_payload(city, user=None):
    return {
        "item_id": city.item_id,
        "applicant": {"contact_phone": "13912345678"},
        "materials": [
            {"name": "食品经营许可申请书", "file_id": str(upload(user or city.citizen).pk)}
        ],
    }


def test_lifecycle_over_the_api(client, city):
    client.force_login(city.citizen)
    payload = submit_payload(city)
    created = client.post(
        "/api/approvals/cases", payload, content_type=JSON, HTTP_IDEMPOTENCY_KEY="api-key-000001"
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "submitted"
    assert body["contact_phone_masked"] == "139****5678"
    assert body["clock"]["promised_deadline"] is None
    again = client.post(
        "/api/approvals/cases", payload, content_type=JSON, HTTP_IDEMPOTENCY_KEY="api-key-000001"
    )
    assert again.status_code == 201
    assert again.json()["id"] == body["id"]
    assert Case.objects.count() == 1
    case_id = body["id"]
    mine = client.get("/api/approvals/cases/mine").json()
    assert mine["count"] == 1
    assert mine["items"][0]["number"] == body["number"]

    # the applicant cannot accept their own case
    denied = client.post(f"/api/approvals/cases/{case_id}/accept", {}, content_type=JSON)
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"

    client.force_login(city.clerk)
    queue = client.get("/api/approvals/queue").json()
    assert [row["id"] for row in queue["items"]] == [case_id]
    unchecked = client.post(f"/api/approvals/cases/{case_id}/accept", {}, content_type=JSON)
    assert unchecked.status_code == 400
    assert unchecked.json()["message"] == "以下材料尚未核验：食品经营许可申请书"
    accepted = client.post(
        f"/api/approvals/cases/{case_id}/accept",
        {"checked": ["食品经营许可申请书"]},
        content_type=JSON,
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["clock"]["working_days_left"] == 10

    client.force_login(city.officer)
    inbox = client.get("/api/approvals/inbox").json()
    assert [(row["case"]["id"], row["task"]["name"]) for row in inbox] == [(case_id, "审查")]
    task_id = inbox[0]["task"]["id"]
    completed = client.post(
        f"/api/approvals/cases/{case_id}/tasks/{task_id}/complete",
        {"opinion": "符合条件"},
        content_type=JSON,
    )
    assert completed.status_code == 200, completed.json()
    twice = client.post(
        f"/api/approvals/cases/{case_id}/tasks/{task_id}/complete",
        {"opinion": "符合条件"},
        content_type=JSON,
    )
    assert twice.status_code == 400
    assert twice.json()["message"] == "该环节已由他人办理，请刷新后查看最新进度"

    client.force_login(city.leader)
    refusal = client.post(
        f"/api/approvals/cases/{case_id}/decide",
        {"approve": False, "reasons": "不符合"},
        content_type=JSON,
    )
    assert refusal.status_code == 400
    assert refusal.json()["details"][0]["field"] == "appeal_rights"
    decided = client.post(
        f"/api/approvals/cases/{case_id}/decide", {"approve": True}, content_type=JSON
    )
    assert decided.json()["outcome"] == "approved"
    assert len(decided.json()["licence_identifiers"]) == 1

    client.force_login(city.clerk)
    delivered = client.post(
        f"/api/approvals/cases/{case_id}/deliver", {"method": "post"}, content_type=JSON
    )
    assert delivered.json()["state"] == "delivered"

    client.force_login(city.citizen)
    detail = client.get(f"/api/approvals/cases/{case_id}").json()
    assert [row["verb"] for row in detail["timeline"]] == [
        "submitted",
        "accepted",
        "step_completed",
        "decided",
        "closed",
        "delivered",
    ]
    assert detail["open_tasks"] == []
    assert detail["actions"] == ["case_rate"]
    kinds = [notice["kind"] for notice in detail["notices"]]
    assert kinds == ["acceptance", "approval"]
    pdf = client.get(f"/api/approvals/cases/{case_id}/notices/{detail['notices'][0]['id']}/pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    rated = client.post(f"/api/approvals/cases/{case_id}/rating", {"level": 5}, content_type=JSON)
    assert rated.status_code == 201
    assert rated.json() == {"level": 5, "needs_follow_up": False}


def test_strangers_get_not_found_and_messages_follow_the_language(client, city):
    client.force_login(city.citizen)
    case_id = client.post("/api/approvals/cases", submit_payload(city), content_type=JSON).json()[
        "id"
    ]
    client.force_login(city.agent)
    hidden = client.get(f"/api/approvals/cases/{case_id}")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"
    withdraw = client.post(f"/api/approvals/cases/{case_id}/withdraw", {}, content_type=JSON)
    assert withdraw.status_code == 404
    client.force_login(city.citizen)
    missing = client.post(
        "/api/approvals/cases",
        {"item_id": city.item_id, "materials": []},
        content_type=JSON,
    )
    assert missing.status_code == 400
    assert missing.json()["message"] == "请上传必要材料“食品经营许可申请书”"
    withdrawn = client.post(
        f"/api/approvals/cases/{case_id}/withdraw", {"reason": "填错了"}, content_type=JSON
    )
    assert withdrawn.json()["state"] == "withdrawn"


def test_correction_over_the_api(client, city):
    client.force_login(city.citizen)
    case_id = client.post("/api/approvals/cases", submit_payload(city), content_type=JSON).json()[
        "id"
    ]
    client.force_login(city.clerk)
    requested = client.post(
        f"/api/approvals/cases/{case_id}/correction-request",
        {"items": [{"material": "食品经营许可申请书", "reason": "未签字"}]},
        content_type=JSON,
    )
    assert requested.status_code == 201
    assert requested.json()["state"] == "correction"
    client.force_login(city.citizen)
    answered = client.post(
        f"/api/approvals/cases/{case_id}/correction-answer",
        {"materials": [{"name": "食品经营许可申请书", "file_id": str(upload(city.citizen).pk)}]},
        content_type=JSON,
    )
    assert answered.status_code == 200, answered.json()
    assert answered.json()["state"] == "submitted"


def test_bundle_over_the_api(client, city):
    from tongban.apps.catalog import services as catalog_services
    from tongban.apps.catalog.models import ServiceItem
    from tongban.apps.catalog.tests import builders

    social = builders.department("RSJ", "示范市人力资源和社会保障局")
    other = builders.published_item(
        social, basic_code="000120001000", name="社会保障卡申领", for_legal_persons=True
    )
    catalog_services.bundle_save(
        actor=None,
        code="qykb",
        name="企业开办",
        audience="enterprise",
        lead_department=city.market,
        items=ServiceItem.objects.filter(pk__in=[city.item_id, other.item_id]),
    )
    client.force_login(city.agent)
    response = client.post(
        "/api/approvals/bundles/qykb/cases",
        {
            "applicant": {"kind": "legal_person", "legal_person_id": city.enterprise.pk},
            "materials": [
                {
                    "name": "食品经营许可申请书",
                    "file_id": str(upload(city.agent).pk),
                    "item_id": item_id,
                }
                for item_id in (city.item_id, other.item_id)
            ],
        },
        content_type=JSON,
        HTTP_IDEMPOTENCY_KEY="bundle-api-0001",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["is_joint"] is True
    assert body["clock"]["working_days_left"] is None
    detail = client.get(f"/api/approvals/cases/{body['id']}").json()
    assert [child["department_code"] for child in detail["children"]] == ["SCJG", "RSJ"]


def test_a_token_writes_through_the_api_without_a_csrf_pair(city):
    """Machines post with a bearer token and no cookies: the session check (which demands
    CSRF) must not refuse them first (it did: every token POST got 403). A browser
    session without the CSRF token is still refused."""
    from django.test import Client

    from tongban.apps.approvals.models import Case, CaseState
    from tongban.apps.approvals.tests.test_cases import submit
    from tongban.platform.accounts.services import token_create

    case = submit(city)
    _, secret = token_create(actor=city.citizen, user=city.citizen, name="ci")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(city.citizen)
    refused = browser.post(
        f"/api/approvals/cases/{case.pk}/withdraw", {"reason": "x"}, content_type="application/json"
    )
    assert refused.status_code in (401, 403)
    machine = Client(enforce_csrf_checks=True)
    response = machine.post(
        f"/api/approvals/cases/{case.pk}/withdraw",
        {"reason": "不再需要"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 200, response.content
    assert Case.objects.get(pk=case.pk).state == CaseState.WITHDRAWN
