"""Authentication for the API.

``TokenAuth``: personal access tokens for machine clients (``Authorization: Bearer tb_…``).
The secret is hashed with SM3 and looked up; revoked or expired tokens, inactive users
and administrator accounts (whose logins need a second factor) are refused, and the
token's ``last_used_at`` is updated.

Browser pages calling the API use the session instead: Django Ninja's
``ninja.security.SessionAuth`` (CSRF-checked), which sees the same ``request.user`` the
middleware has verified, second factor included. A router accepting both::

    router = Router(auth=[TokenAuth(), SessionAuth()])
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from tongban.platform.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user
