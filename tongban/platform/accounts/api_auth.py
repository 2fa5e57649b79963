"""Authentication for the API.

``TokenAuth``: personal access tokens for machine clients (``Authorization: Bearer tb_…``).
The secret is hashed with SM3 and looked up; revoked or expired tokens, inactive users
and administrator accounts (whose logins need a second factor) are refused, and the
token's ``last_used_at`` is updated.

Rate limits (Django Ninja's cache-based throttle, the cache shared by every process):

- each token may make ``TONGBAN_API_TOKEN_RATE`` requests (default 600 a minute);
- each client address may present ``TONGBAN_API_TOKEN_FAILURE_RATE`` unknown, revoked or
  expired tokens (default 20 a minute); beyond that its token requests are refused before
  any lookup, so tokens cannot be guessed at speed.

Both answer 429 ``{"code": "rate_limited", "message": ..., "details": [{"field":
"retry_after", "message": "<seconds>"}]}``, the message in the caller's language.

Browser pages calling the API use the session instead: Django Ninja's
``ninja.security.SessionAuth`` (CSRF-checked), which sees the same ``request.user`` the
middleware has verified, second factor included. A router accepting both::

    router = Router(auth=[TokenAuth(), SessionAuth()])
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from tongban.platform.accounts.services import token_authenticate, token_hash
from tongban.platform.api.errors import ServiceError
from tongban.platform.ui.middleware import client_ip

DEFAULT_TOKEN_RATE = "600/min"  # noqa: S105 - a rate, not a secret
DEFAULT_FAILURE_RATE = "20/min"


class RateLimited(ServiceError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "rate_limited",
            _("请求过于频繁，请稍后再试"),
            details=[{"field": "retry_after", "message": str(retry_after)}],
        )
        self.retry_after = retry_after


class _Throttle(SimpleRateThrottle):
    """A sliding-window limit on one key; ``peek`` checks it without counting."""

    cache_format = "tongban_throttle_%(scope)s_%(ident)s"

    def __init__(self, scope: str, ident: str, rate: str) -> None:
        self.scope = scope
        self.ident = ident
        super().__init__(rate)

    def get_cache_key(self, request: HttpRequest) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.ident}

    def _load(self, request: HttpRequest) -> bool:
        """Load the live history; True when another request would exceed the limit."""
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = time.time()
        while self.history and self.history[-1] <= self.now - (self.duration or 0):
            self.history.pop()
        return len(self.history) >= (self.num_requests or 0)

    def peek(self, request: HttpRequest) -> bool:
        return self._load(request)

    def retry_after(self) -> int:
        if not self.history:
            return 1
        return max(1, math.ceil((self.duration or 0) - (self.now - self.history[-1])))


def _rate(name: str, default: str) -> str:
    return str(getattr(settings, name, default) or default)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        failures = _Throttle(
            "token_failure",
            client_ip(request) or "unknown",
            _rate("TONGBAN_API_TOKEN_FAILURE_RATE", DEFAULT_FAILURE_RATE),
        )
        if failures.peek(request):
            raise RateLimited(failures.retry_after())
        user = token_authenticate(token)
        if user is None:
            failures.allow_request(request)  # counts the failure
            return None
        uses = _Throttle(
            "token", token_hash(token), _rate("TONGBAN_API_TOKEN_RATE", DEFAULT_TOKEN_RATE)
        )
        if not uses.allow_request(request):
            raise RateLimited(uses.retry_after())
        request.user = user
        return user
