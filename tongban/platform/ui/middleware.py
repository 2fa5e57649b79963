"""Request id and client address for every request, shared with logs and the audit log."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tongban.platform.audit import context

REQUEST_ID_HEADER = "HTTP_X_REQUEST_ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def client_ip(request: HttpRequest) -> str:
    # Behind nginx the real address arrives in X-Real-IP (see docs/DEPLOY.md).
    return str(request.META.get("HTTP_X_REAL_IP") or request.META.get("REMOTE_ADDR") or "")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = context.set_current(
            context.RequestContext(request_id=request_id, ip=client_ip(request))
        )
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


def _has_nul(request: HttpRequest) -> bool:
    """A NUL character in the query, a form field or a JSON body (uploaded files aside)."""
    if "%00" in request.META.get("QUERY_STRING", "") or "\x00" in request.path:
        return True
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    content_type = request.content_type or ""
    if content_type == "application/json" or content_type.endswith("+json"):
        return b"\x00" in request.body or b"\\u0000" in request.body
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return any("\x00" in value for values in request.POST.lists() for value in values[1])
    return False


class RejectNulMiddleware:
    """Refuse input carrying NUL characters with 400 before any view sees it.

    PostgreSQL text cannot hold NUL, so such a value would fail deep inside a view (500);
    no legitimate text contains one. Uploaded files are binary and not looked at.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return _bad_request(request)
        return self.get_response(request)


def _bad_request(request: HttpRequest) -> HttpResponse:
    from django.http import JsonResponse
    from django.template.response import TemplateResponse
    from django.utils.translation import gettext as _

    message = _("提交的数据有误")
    if request.path.startswith("/api/"):
        body = {"code": "invalid", "message": message, "details": []}
        return JsonResponse(body, status=400)
    response = TemplateResponse(request, "400.html", status=400)
    response.render()
    return response
