"""Who may call the API, checked before Django Ninja reads the request body.

``default_auth()`` is the API's default (``tongban.api``): a personal access token
(``Authorization: Bearer <token>``) or the signed-in session (with CSRF), nothing more.

Ninja runs an operation's ``auth`` callbacks before it parses and validates the body, so a
permission checked there answers 403 to a caller without the right even when the body is
invalid (a check inside the service comes after the body: 422 would tell a stranger what
the operation expects). ``requires(*codes)`` is the default auth that also refuses (403,
audited like ``access.services.deny``) a signed-in caller who holds none of ``codes`` with
any scope; ``requires_public_user()`` refuses staff. The services keep their object-level
checks (scope, ownership): this gate only turns away who can never succeed::

    @router.post("/items", auth=requires(permissions.ITEM_EDIT), ...)

The callbacks keep the class names ``TokenAuth`` and ``ActiveSessionAuth``: Ninja names
the OpenAPI security schemes after them, so the schema is the same with or without a gate.
Each callback carries ``permission_codes`` and ``public_users_only`` for tests and tools.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import SessionAuth

from tongban.platform.access.registry import is_registered
from tongban.platform.access.services import deny, has_permission
from tongban.platform.accounts import api_auth

#: the audit action of a member of staff refused an operation for the public
PUBLIC_USER_ACTION = "api.public_user_only"


class _Gate:
    """The permission gate shared by the API's auth callbacks."""

    permission_codes: tuple[str, ...] = ()
    public_users_only: bool = False

    def admit(self, user: Any) -> Any:
        """``user`` when the gate lets them through; raises ``PermissionDenied`` (audited)
        when it does not; ``None`` (not authenticated) is passed on."""
        if user is None:
            return None
        if self.public_users_only and getattr(user, "kind", "") != "public":
            deny(user, PUBLIC_USER_ACTION)
        codes = self.permission_codes
        if codes and not any(has_permission(user, code) for code in codes):
            deny(user, codes[0])
        return user


class ActiveSessionAuth(_Gate, SessionAuth):
    """Session auth that hands the active user to the endpoint as ``request.auth``."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_active:
            return self.admit(user)
        return None


class TokenAuth(_Gate, api_auth.TokenAuth):
    """A personal access token (``tongban.platform.accounts.api_auth``), gated."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return self.admit(super().authenticate(request, token))


def _callbacks(codes: tuple[str, ...] = (), *, public_users_only: bool = False) -> list[Any]:
    # the token first: a machine sends no cookies, and the session check refuses any
    # write without a CSRF pair before the next method is tried
    callbacks: list[Any] = [TokenAuth(), ActiveSessionAuth()]
    for callback in callbacks:
        callback.permission_codes = codes
        callback.public_users_only = public_users_only
    return callbacks


def default_auth() -> list[Any]:
    """The API's default: a token or the session, no permission."""
    return _callbacks()


def requires(*codes: str) -> list[Any]:
    """The default auth, refusing (403) a caller who holds none of ``codes``."""
    if not codes:
        raise ValueError("requires() needs at least one permission code")
    unknown = [code for code in codes if not is_registered(code)]
    if unknown:
        raise ValueError(f"unknown permission(s) {', '.join(unknown)}")
    return _callbacks(tuple(codes))


def requires_public_user() -> list[Any]:
    """The default auth, refusing (403) staff: operations of citizens and enterprise
    agents (applying, rating their own case)."""
    return _callbacks(public_users_only=True)
