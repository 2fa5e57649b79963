"""Rate limits: password guessing on the login page (django-axes) and the API's personal
access tokens (per token, and per address for unknown tokens)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests import factories
from tongban.platform.accounts import services
from tongban.platform.accounts.models import AccessToken
from tongban.platform.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _fail(client: Client, username: str, times: int) -> Any:
    response = None
    for _ in range(times):
        response = client.post(LOGIN, {"username": username, "password": "wrong-Pass#1"})
    return response


def test_a_locked_account_refuses_even_the_right_password() -> None:
    factories.citizen("wang")
    client = Client()
    assert _fail(client, "wang", 4).status_code == 200
    locked = _fail(client, "wang", 1)
    assert locked.status_code == 429
    right = client.post(LOGIN, {"username": "wang", "password": factories.PASSWORD})
    assert right.status_code == 429
    assert "账号已锁定".encode() in right.content
    assert "_auth_user_id" not in client.session
    assert client.get("/cases/mine/").status_code == 302  # still signed out


def test_the_lockout_is_per_account_and_address() -> None:
    factories.citizen("wang")
    factories.citizen("li", "李四")
    assert _fail(Client(REMOTE_ADDR="10.0.0.1"), "wang", 5).status_code == 429
    # another account from the same address, and the same account from another address
    other_user = Client(REMOTE_ADDR="10.0.0.1")
    assert (
        other_user.post(LOGIN, {"username": "li", "password": factories.PASSWORD}).status_code
        == 302
    )
    other_address = Client(REMOTE_ADDR="10.0.0.2")
    response = other_address.post(LOGIN, {"username": "wang", "password": factories.PASSWORD})
    assert response.status_code == 302


def test_a_successful_login_resets_the_failure_count() -> None:
    factories.citizen("wang")
    client = Client()
    _fail(client, "wang", 4)
    assert (
        client.post(LOGIN, {"username": "wang", "password": factories.PASSWORD}).status_code == 302
    )
    client.post("/accounts/logout/")
    assert _fail(client, "wang", 4).status_code == 200  # four more: not yet locked


def test_the_lockout_page_speaks_the_users_language() -> None:
    factories.citizen("wang")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = _fail(client, "wang", 5)
    assert response.status_code == 429
    assert b"locked" in response.content.lower()
    assert "账号已锁定".encode() not in response.content


def test_guessing_unknown_usernames_is_locked_out_too() -> None:
    response = _fail(Client(), "nobody-here", 5)
    assert response.status_code == 429
    assert AuditEntry.objects.filter(action="accounts.login.locked").count() == 1


# --- API tokens ---------------------------------------------------------------------


def _get(secret: str, address: str = "127.0.0.1", language: str = "zh-hans") -> Any:
    return Client(REMOTE_ADDR=address).get(
        "/api/platform/me",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_a_token_is_limited_to_its_rate(settings: Any) -> None:
    settings.TONGBAN_API_TOKEN_RATE = "3/min"
    user = factories.citizen("machine")
    _, secret = services.token_create(actor=user, user=user, name="ci")
    assert [_get(secret).status_code for _ in range(3)] == [200, 200, 200]
    refused = _get(secret)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["message"] == "请求过于频繁，请稍后再试"
    assert body["details"][0]["field"] == "retry_after"
    assert 1 <= int(body["details"][0]["message"]) <= 60
    # another token of the same user has its own allowance
    _, second = services.token_create(actor=user, user=user, name="ci2")
    assert _get(second).status_code == 200


def test_the_token_rate_limit_answers_in_english(settings: Any) -> None:
    settings.TONGBAN_API_TOKEN_RATE = "1/min"
    user = factories.citizen("machine")
    _, secret = services.token_create(actor=user, user=user, name="ci")
    assert _get(secret, language="en").status_code == 200
    refused = _get(secret, language="en")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    # green once the lead merges /tmp/brief8/tr_hostile.json into the catalogue
    assert refused.json()["message"] == "Too many requests. Please try again later."


def test_guessing_tokens_is_stopped_per_address(settings: Any) -> None:
    settings.TONGBAN_API_TOKEN_FAILURE_RATE = "3/min"
    user = factories.citizen("machine")
    _, secret = services.token_create(actor=user, user=user, name="ci")
    guesses = [_get(f"tb_guess{n:040d}", address="10.9.9.9").status_code for n in range(3)]
    assert guesses == [401, 401, 401]
    # the address is now refused, even with a real token, before any lookup
    blocked = _get(secret, address="10.9.9.9")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert AccessToken.objects.get(user=user).last_used_at is None
    # other addresses are not affected
    assert _get(secret, address="10.9.9.10").status_code == 200


def test_a_revoked_token_counts_as_a_failed_guess(settings: Any) -> None:
    settings.TONGBAN_API_TOKEN_FAILURE_RATE = "2/min"
    user = factories.citizen("machine")
    token, secret = services.token_create(actor=user, user=user, name="ci")
    services.token_revoke(actor=user, token=token)
    assert [_get(secret).status_code for _ in range(2)] == [401, 401]
    assert _get(secret).status_code == 429


def test_default_token_rates_are_generous_but_bounded() -> None:
    from tongban.platform.accounts import api_auth

    assert api_auth.DEFAULT_TOKEN_RATE == "600/min"
    assert api_auth.DEFAULT_FAILURE_RATE == "20/min"
