"""The gateway over HTTP: grants, items, masking, refusals, rate limits, the call log."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from django.utils import timezone

from tongban.apps.sharing import gateway_log
from tongban.apps.sharing.models import CallResult, GatewayCall, GatewayCallSubject, Grant
from tongban.apps.sharing.tests.fixtures_gateway import (  # noqa: F401
    BROKEN_ID,
    OTHER_ID,
    PERSON_ID,
    RESOURCE_CODE,
    gateway_city_fixture,  # noqa: F401
)
from tongban.platform.crypto.sm import lookup_hmac

URL = f"/gateway/v1/resources/{RESOURCE_CODE}"
PURPOSE = "办理婚姻登记"


def call(client, token, number=PERSON_ID, purpose=PURPOSE, url=URL, **headers):
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if purpose is not None:
        extra["HTTP_X_PURPOSE"] = quote(purpose)
    extra.update(headers)
    params = {"id_number": number} if number is not None else {}
    return client.get(url, params, **extra)


def last_call() -> GatewayCall:
    return GatewayCall.objects.order_by("-id")[0]


def test_bearer_call_returns_only_granted_items_masked(client, gateway_city):
    token = gateway_city.token(client)
    response = call(client, token, HTTP_X_CASE_NUMBER="MZ2026000001")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resource"] == RESOURCE_CODE
    assert [item["code"] for item in body["items"]] == ["id_number", "name", "gender", "phone"]
    assert body["items"][1]["name"] == "姓名"
    [record] = body["records"]
    assert set(record) == {"id_number", "name", "gender", "phone"}  # address not granted
    assert record["id_number"] == PERSON_ID[:4] + "*" * 10 + PERSON_ID[-4:]
    assert record["phone"] == "139****5678"
    assert record["name"] == "王小明"  # granted unmasked
    assert record["gender"] == "男"
    logged = GatewayCall.objects.get(pk=body["call_id"])
    assert logged.result == CallResult.OK
    assert logged.records == 1
    assert logged.purpose == PURPOSE
    assert logged.case_number == "MZ2026000001"
    assert logged.consumer_system == gateway_city.system
    assert logged.consumer_department == gateway_city.civil
    assert logged.provider_department == gateway_city.police
    assert logged.grant == gateway_city.grant
    assert logged.resource == gateway_city.resource
    assert logged.query == f'{{"id_number":"{PERSON_ID}"}}'
    assert logged.request_id
    assert logged.latency_ms > 0
    assert logged.digest == gateway_log.call_digest(logged)
    assert list(
        GatewayCallSubject.objects.filter(call=logged).values_list("subject_hash", flat=True)
    ) == [lookup_hmac(PERSON_ID, purpose="sharing.subject")]
    # the log holds no data that was served
    assert "王小明" not in str(GatewayCall.objects.filter(pk=logged.pk).values().first())


def test_masking_rules_for_names_and_generic_values(client, gateway_city):
    Grant.objects.filter(pk=gateway_city.grant.pk).update(
        items=["name", "household_address", "gender"], masked_items=["name", "household_address"]
    )
    token = gateway_city.token(client)
    record = call(client, token, number=OTHER_ID).json()["records"][0]
    assert record == {
        "name": "欧阳**",
        "gender": "女",
        "household_address": record["household_address"],
    }
    address = record["household_address"]
    assert address.startswith("示范")
    assert "*" in address
    assert "和平路" not in address


def test_no_data_is_an_empty_answer_logged_not_found(client, gateway_city):
    token = gateway_city.token(client)
    unknown = PERSON_ID[:-4] + "0000"
    response = call(client, token, number=unknown)
    assert response.status_code == 200
    assert response.json()["records"] == []
    assert last_call().result == CallResult.NOT_FOUND
    assert not GatewayCallSubject.objects.exists()


def test_unauthenticated_call_is_refused_and_logged(client, gateway_city):
    response = call(client, None)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    assert response.json()["message"]
    response = call(client, "not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"
    logged = last_call()
    assert logged.result == CallResult.UNAUTHENTICATED
    assert logged.consumer_system is None
    assert logged.digest == gateway_log.call_digest(logged)
    assert GatewayCall.objects.count() == 2


def test_error_message_in_callers_language(client, gateway_city):
    response = call(client, None, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["message"] == "请提供有效的访问凭证"


def test_purpose_is_required(client, gateway_city):
    token = gateway_city.token(client)
    response = call(client, token, purpose=None)
    assert response.status_code == 400
    assert response.json()["code"] == "purpose_required"
    assert last_call().result == CallResult.INVALID


def test_raw_utf8_purpose_header_is_read(client, gateway_city):
    token = gateway_city.token(client)
    response = client.get(
        URL,
        {"id_number": PERSON_ID},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_PURPOSE=PURPOSE.encode("utf-8").decode("latin-1"),
    )
    assert response.status_code == 200
    assert last_call().purpose == PURPOSE


def test_no_grant_is_403_and_logged(client, gateway_city):
    Grant.objects.filter(pk=gateway_city.grant.pk).delete()
    token = gateway_city.token(client)
    response = call(client, token)
    assert response.status_code == 403
    assert response.json()["code"] == "no_grant"
    logged = last_call()
    assert logged.result == CallResult.DENIED
    assert logged.resource == gateway_city.resource
    assert logged.consumer_system == gateway_city.system
    assert logged.grant is None
    assert logged.records == 0


def test_revoked_grant_stops_the_very_next_call(client, gateway_city):
    token = gateway_city.token(client)
    assert call(client, token).status_code == 200
    Grant.objects.filter(pk=gateway_city.grant.pk).update(revoked_at=timezone.now())
    response = call(client, token)
    assert response.status_code == 403
    assert last_call().result == CallResult.DENIED


def test_expired_and_future_grants_are_not_live(client, gateway_city):
    token = gateway_city.token(client)
    now = timezone.now()
    Grant.objects.filter(pk=gateway_city.grant.pk).update(
        valid_from=now - dt.timedelta(days=10), expires_at=now - dt.timedelta(seconds=1)
    )
    assert call(client, token).status_code == 403
    Grant.objects.filter(pk=gateway_city.grant.pk).update(
        valid_from=now + dt.timedelta(hours=1), expires_at=now + dt.timedelta(days=1)
    )
    assert call(client, token).status_code == 403


def test_withdrawn_resource_and_inactive_system_are_refused(client, gateway_city):
    token = gateway_city.token(client)
    gateway_city.resource.is_withdrawn = True
    gateway_city.resource.save(update_fields=["is_withdrawn"])
    response = call(client, token)
    assert response.status_code == 403
    assert response.json()["code"] == "resource_withdrawn"
    gateway_city.resource.is_withdrawn = False
    gateway_city.resource.save(update_fields=["is_withdrawn"])
    gateway_city.system.is_active = False
    gateway_city.system.save(update_fields=["is_active"])
    from tongban.apps.sharing import gateway_auth

    gateway_auth.token_cache_clear()
    response = call(client, token)
    assert response.status_code == 403
    assert response.json()["code"] == "system_inactive"
    assert last_call().result == CallResult.DENIED


def test_unknown_resource_is_404_and_logged(client, gateway_city):
    token = gateway_city.token(client)
    response = call(client, token, url="/gateway/v1/resources/9990000001")
    assert response.status_code == 404
    assert last_call().resource is None


def test_rate_limit_gives_429_with_retry_after(client, gateway_city):
    Grant.objects.filter(pk=gateway_city.grant.pk).update(rate_limit_per_minute=2)
    token = gateway_city.token(client)
    assert call(client, token).status_code == 200
    assert call(client, token).status_code == 200
    response = call(client, token)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 61
    assert last_call().result == CallResult.RATE_LIMITED


def test_bad_parameters_are_400(client, gateway_city):
    token = gateway_city.token(client)
    response = call(client, token, number="123")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameters"
    response = client.get(
        URL,
        {"id_number": PERSON_ID, "extra": "1"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_PURPOSE="x",
    )
    assert response.status_code == 400
    response = call(client, token, number=None)
    assert response.status_code == 400
    assert GatewayCall.objects.filter(result=CallResult.INVALID).count() == 3


def test_provider_error_is_502_and_logged(client, gateway_city):
    token = gateway_city.token(client)
    response = call(client, token, number=BROKEN_ID)
    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"
    assert "backend" not in response.json()["message"]
    assert last_call().result == CallResult.ERROR


def test_ping_and_docs(client, gateway_city):
    token = gateway_city.token(client)
    response = client.get("/gateway/v1/ping", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.json() == {"ok": True, "system": "mzj-marriage"}
    assert client.get("/gateway/v1/ping").status_code == 401
    assert not GatewayCall.objects.exists()  # ping is not a data call
    schema = client.get("/gateway/openapi.json").json()
    assert "/gateway/v1/resources/{code}" in schema["paths"]
    assert client.get("/gateway/docs").status_code == 200


@pytest.mark.parametrize("count", [3])
def test_every_call_is_logged_with_its_digest(client, gateway_city, count):
    token = gateway_city.token(client)
    for _ in range(count):
        call(client, token)
    call(client, None)
    rows = list(GatewayCall.objects.all())
    assert len(rows) == count + 1
    assert all(row.digest == gateway_log.call_digest(row) for row in rows)
