"""Idle timeout for sessions and mandatory second factor for privileged roles."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
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


class MfaEnforcementMiddleware:
    """Administrators and supervisors must pass TOTP before using anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and not user.is_verified()  # type: ignore[attr-defined]
            and user.mfa_required
        ):
            if request.path.startswith("/api/"):
                from django.http import JsonResponse

                return JsonResponse(
                    {"code": "mfa_required", "message": "需要完成双因素认证"}, status=403
                )
            return redirect("accounts:mfa")
        return self.get_response(request)


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
