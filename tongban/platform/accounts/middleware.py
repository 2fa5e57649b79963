"""Idle timeout for sessions, mandatory second factor for privileged roles, password
changes that cannot wait, and the legal person an agent acts for."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

LAST_SEEN_KEY = "tongban_last_seen"


class IdleTimeoutMiddleware:
    """Staff sessions end after TONGBAN_STAFF_IDLE_SECONDS (30 minutes) without a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            limit = (
                settings.TONGBAN_STAFF_IDLE_SECONDS
                if user.kind == "staff"
                else settings.TONGBAN_PUBLIC_IDLE_SECONDS
            )
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - int(last_seen) > limit:
                from tongban.platform.accounts.services import session_expire

                session_expire(request=request, user=user)
                logout(request)
                return redirect("/accounts/login/?expired=1")
            request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


MFA_EXEMPT_PREFIXES = (
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/mfa/",
    "/i18n/",
    "/static/",
    "/healthz",
    "/metrics",
)
PASSWORD_EXEMPT_PREFIXES = ("/accounts/password/", *MFA_EXEMPT_PREFIXES)


class _SignedInGate:
    """Sends a signed-in user who must do something first to the page where it is done
    (``target``); the session's API calls get 403 with ``code``. Paths under ``exempt``
    stay open (signing in and out, the second factor, static files, health)."""

    exempt: tuple[str, ...] = MFA_EXEMPT_PREFIXES
    target = ""
    code = ""
    message = ""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def must_stop(self, user: Any) -> bool:
        raise NotImplementedError

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(self.exempt)
            and self.must_stop(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"code": self.code, "message": self.message}, status=403)
            return redirect(self.target)
        return self.get_response(request)


class MfaEnforcementMiddleware(_SignedInGate):
    """Administrators and supervisors must pass their second factor before anything else."""

    target = "accounts:mfa"
    code = "mfa_required"
    message = "需要完成双因素认证"

    def must_stop(self, user: Any) -> bool:
        return not user.is_verified() and bool(user.mfa_required)


class PasswordChangeRequiredMiddleware(_SignedInGate):
    """A signed-in user whose password must be changed (an initial password set by an
    administrator, or a staff password older than ``TONGBAN_PASSWORD_MAX_AGE_DAYS``) is
    sent to the password page, and the session's API calls are refused (403), until it is
    changed. Personal access tokens are not sessions: they have their own expiry."""

    exempt = PASSWORD_EXEMPT_PREFIXES
    target = "accounts:password_change"
    code = "password_change_required"
    message = "请先修改密码"

    def must_stop(self, user: Any) -> bool:
        from tongban.platform.accounts.services import password_change_reason

        return bool(password_change_reason(user))


ACTING_FOR_SESSION_KEY = "tongban_acting_for"


class ActingForMiddleware:
    """Puts the legal person an agent acts for into the audit context, so every audit entry
    records both who acted and for whom. A revoked or expired authorisation is dropped."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        authorisation_id = (
            request.session.get(ACTING_FOR_SESSION_KEY) if hasattr(request, "session") else None
        )
        if user is None or not user.is_authenticated or authorisation_id is None:
            return self.get_response(request)
        from tongban.platform.accounts.models import AgentAuthorisation
        from tongban.platform.audit import context

        authorisation = (
            AgentAuthorisation.objects.select_related("legal_person")
            .filter(pk=authorisation_id, agent=user)
            .first()
        )
        if authorisation is None or not authorisation.is_live():
            request.session.pop(ACTING_FOR_SESSION_KEY, None)
            return self.get_response(request)
        request.acting_for = authorisation.legal_person  # type: ignore[attr-defined]
        current = context.current()
        token = context.set_current(
            context.RequestContext(
                request_id=current.request_id,
                ip=current.ip,
                acting_for_type="legal_person",
                acting_for_id=str(authorisation.legal_person_id),
                acting_for_label=authorisation.legal_person.name,
            )
        )
        try:
            return self.get_response(request)
        finally:
            context.reset(token)
