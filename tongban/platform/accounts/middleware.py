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
                return redirect(f"{settings.LOGIN_URL and '/accounts/login/'}?expired=1")
            request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)


MFA_EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/healthz", "/metrics")


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


class ActingForMiddleware:
    """Puts the legal person an agent acts for into the audit context (filled in by accounts)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
