"""The token endpoint (OAuth2 client credentials) and SM2-signed requests."""

from __future__ import annotations

import base64
import time

from django.utils import timezone

from tongban.apps.sharing import gateway_auth
from tongban.apps.sharing.models import AccessToken, CallResult, GatewayCall
from tongban.apps.sharing.tests.fixtures_gateway import (  # noqa: F401
    PERSON_ID,
    RESOURCE_CODE,
    SECRET,
    gateway_city_fixture,  # noqa: F401
)
from tongban.platform.crypto import sm2
from tongban.platform.crypto.sm import sm3_hex

TOKEN_URL = "/gateway/oauth/token"
PATH = f"/gateway/v1/resources/{RESOURCE_CODE}"


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_token_with_basic_credentials(client, gateway_city):
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(gateway_city.system.client_id, SECRET),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert response["Cache-Control"] == "no-store"
    stored = AccessToken.objects.get()
    assert stored.system == gateway_city.system
    assert stored.token_hash == sm3_hex(body["access_token"].encode())
    assert body["access_token"] not in stored.token_hash
    assert 3590 < (stored.expires_at - timezone.now()).total_seconds() <= 3600


def test_token_with_credentials_in_the_body(client, gateway_city):
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": gateway_city.system.client_id,
            "client_secret": SECRET,
        },
    )
    assert response.status_code == 200


def test_token_refusals_follow_rfc6749(client, gateway_city):
    wrong = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(gateway_city.system.client_id, "wrong"),
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong["WWW-Authenticate"].startswith("Basic")
    unknown = client.post(
        TOKEN_URL, {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"}
    )
    assert unknown.status_code == 401
    grant_type = client.post(
        TOKEN_URL, {"grant_type": "password"}, HTTP_AUTHORIZATION=basic("a", "b")
    )
    assert grant_type.status_code == 400
    assert grant_type.json()["error"] == "unsupported_grant_type"
    missing = client.post(TOKEN_URL, {})
    assert missing.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()


def test_inactive_system_gets_no_token(client, gateway_city):
    gateway_city.system.is_active = False
    gateway_city.system.save(update_fields=["is_active"])
    response = client.post(
        TOKEN_URL,
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(gateway_city.system.client_id, SECRET),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_expired_or_revoked_token_is_refused(client, gateway_city):
    token = gateway_city.token(client)
    AccessToken.objects.update(expires_at=timezone.now())
    gateway_auth.token_cache_clear()
    response = client.get("/gateway/v1/ping", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    token = gateway_city.token(client)
    AccessToken.objects.update(revoked_at=timezone.now())
    gateway_auth.token_cache_clear()
    assert client.get("/gateway/v1/ping", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


# ----------------------------------------------------------------------------- signatures


def signed_get(client, city, *, query=None, private_pem=None, **overrides):
    query = query if query is not None else {"id_number": PERSON_ID}
    headers = gateway_auth.sign_request(
        private_pem or city.private_key_pem,
        system_code=city.system.code,
        method="GET",
        path=PATH,
        query=list(query.items()),
        **overrides,
    )
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    return client.get(PATH, query, HTTP_X_PURPOSE="test", **meta), headers


def test_signed_request_is_served(client, gateway_city):
    response, _headers = signed_get(client, gateway_city)
    assert response.status_code == 200, response.content
    assert response.json()["records"][0]["gender"] == "男"
    assert GatewayCall.objects.get().consumer_system == gateway_city.system


def test_signature_with_another_key_is_refused(client, gateway_city):
    response, _headers = signed_get(
        client, gateway_city, private_pem=sm2.generate_private_key_pem()
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_signature"
    logged = GatewayCall.objects.get()
    assert logged.result == CallResult.UNAUTHENTICATED
    assert logged.consumer_system == gateway_city.system  # known, not proven


def test_tampered_query_breaks_the_signature(client, gateway_city):
    headers = gateway_auth.sign_request(
        gateway_city.private_key_pem,
        system_code=gateway_city.system.code,
        method="GET",
        path=PATH,
        query=[("id_number", PERSON_ID)],
    )
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    other = PERSON_ID[:-1] + ("1" if PERSON_ID[-1] != "1" else "2")
    response = client.get(PATH, {"id_number": other}, HTTP_X_PURPOSE="t", **meta)
    assert response.status_code == 401


def test_old_timestamp_is_refused(client, gateway_city):
    response, _headers = signed_get(client, gateway_city, timestamp=int(time.time()) - 301)
    assert response.status_code == 401
    assert response.json()["code"] == "stale_request"


def test_replayed_nonce_is_refused(client, gateway_city):
    first, headers = signed_get(client, gateway_city, nonce="nonce-0001-abcdef")
    assert first.status_code == 200
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    replay = client.get(PATH, {"id_number": PERSON_ID}, HTTP_X_PURPOSE="test", **meta)
    assert replay.status_code == 401
    assert replay.json()["code"] == "replayed_request"
    assert GatewayCall.objects.filter(result=CallResult.UNAUTHENTICATED).count() == 1


def test_unknown_system_signature_is_refused(client, gateway_city):
    headers = gateway_auth.sign_request(
        gateway_city.private_key_pem, system_code="ghost", method="GET", path="/gateway/v1/ping"
    )
    meta = {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}
    assert client.get("/gateway/v1/ping", **meta).status_code == 401


def test_canonical_request_layout():
    data = gateway_auth.canonical_request(
        method="get",
        path="/gateway/v1/resources/1010010001",
        query=[("b", "2"), ("a", "中 文"), ("a", "1")],
        timestamp="1700000000",
        nonce="abcdefgh",
        body=b"",
    )
    assert data.decode().split("\n") == [
        "GET",
        "/gateway/v1/resources/1010010001",
        "a=1&a=%E4%B8%AD%20%E6%96%87&b=2",
        "1700000000",
        "abcdefgh",
        sm3_hex(b""),
    ]
