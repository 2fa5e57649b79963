"""The intake API over real HTTP (Django's client): keys, batches, per-event rejections."""

from __future__ import annotations

import json

from tongban.apps.supervision import services, sources
from tongban.apps.supervision.models import ReceivedEvent, SupervisedCase
from tongban.apps.supervision.tests.conftest import at, event

URL = "/api/supervision/intake"


def post(client, body, key):
    headers = {"HTTP_X_SOURCE_KEY": key} if key else {}
    return client.post(URL, data=json.dumps(body), content_type="application/json", **headers)


def test_a_source_posts_a_batch_and_bad_events_are_rejected_one_by_one(client, city):
    good = event("opened", "H-1", at(2026, 3, 2), department="WJW", business="complaint")
    bad = event("opened", "H-2", at(2026, 3, 2))  # no department
    response = post(client, {"events": [good, bad, good]}, city.key)
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert body["duplicates"] == 1
    assert body["alerts"] == 0
    assert body["rejected"] == [
        {
            "index": 1,
            "id": bad["id"],
            "code": "department_required",
            "message": "收件事件须填写承办部门",
        }
    ]
    case = SupervisedCase.objects.get(key="H-1")
    assert case.business == "complaint"
    assert case.source == city.source
    # a replay of the whole batch changes nothing
    again = post(client, {"events": [good]}, city.key).json()
    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert ReceivedEvent.objects.count() == 1


def test_rejections_speak_the_callers_language(client, city):
    bad = event("opened", "H-3", at(2026, 3, 2))
    response = client.post(
        URL,
        data=json.dumps({"events": [bad]}),
        content_type="application/json",
        HTTP_X_SOURCE_KEY=city.key,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["rejected"][0]["message"] == (
        "An opened event must name the handling department"
    )


def test_a_wrong_missing_or_deactivated_key_is_refused_and_nothing_is_saved(client, city):
    body = {"events": [event("opened", "H-4", at(2026, 3, 2), department="WJW")]}
    assert post(client, body, None).status_code == 401
    assert post(client, body, city.key + "x").status_code == 401
    assert post(client, body, "tbsrc_approvals.anything").status_code == 401
    sources.source_set_active(actor=city.admin, source=city.source, active=False)
    assert post(client, body, city.key).status_code == 401
    assert not ReceivedEvent.objects.exists()


def test_a_signed_in_user_cannot_post_events(client, city):
    client.force_login(city.supervisor)
    body = {"events": [event("opened", "H-5", at(2026, 3, 2), department="WJW")]}
    assert post(client, body, None).status_code == 401
    assert not ReceivedEvent.objects.exists()


def test_oversized_and_malformed_batches(client, city, monkeypatch):
    monkeypatch.setattr(services, "MAX_BATCH", 3)
    many = [event("opened", f"H-{n}", at(2026, 3, 2), department="WJW") for n in range(4)]
    response = post(client, {"events": many}, city.key)
    assert response.status_code == 400
    assert response.json()["code"] == "batch_too_large"
    assert post(client, {"events": "nope"}, city.key).status_code == 422
    assert post(client, {"events": [1, "x", None]}, city.key).json()["rejected"][0]["code"] == (
        "not_an_object"
    )
    assert not ReceivedEvent.objects.exists()


def test_the_schema_documents_every_event_field(client, city):
    schema = client.get("/api/openapi.json").json()
    body = schema["paths"][URL]["post"]["requestBody"]["content"]["application/json"]["schema"]
    item = body["properties"]["events"]["items"]
    assert {"id", "kind", "case", "occurred_at", "department", "fee_amount"} <= set(
        item["properties"]
    )
    assert "fee_charged" in json.dumps(item["properties"]["kind"])
