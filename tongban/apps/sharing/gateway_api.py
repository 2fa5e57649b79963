"""The gateway's HTTP API under /gateway/ (its own Ninja instance, docs at /gateway/docs).

Department systems authenticate with a bearer token from ``POST /gateway/oauth/token``
(OAuth2 client credentials) or by signing each request with their SM2 key (see
``gateway_auth``). The endpoints authenticate in the view rather than through Ninja's
``auth=`` so that a refused call is logged like any other.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import time
from typing import Any
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema

from tongban.apps.sharing import gateway_auth
from tongban.apps.sharing.gateway import CallOutcome, gateway_call
from tongban.apps.sharing.gateway_auth import AuthenticationFailed, Caller
from tongban.platform.api.errors import error_body, install_error_handlers

api = NinjaAPI(
    title="Tongban 共享交换网关 Gateway",
    version="1",
    description=(
        "政务信息资源共享网关. Department systems call shared resources with their own "
        "credentials: `POST /gateway/oauth/token` (OAuth2 client credentials, HTTP Basic or "
        "form body) then `Authorization: Bearer <token>`; or SM2-signed requests with the "
        "headers `X-Tongban-System`, `X-Tongban-Timestamp`, `X-Tongban-Nonce`, "
        "`X-Tongban-Signature` (base64 SM2/SM3 signature over the canonical request: "
        "method, path, sorted query, timestamp, nonce, SM3 hex of the body, joined by "
        "newlines). Every call needs `X-Purpose` (the purpose of use, URL-encoded UTF-8 "
        "allowed) and may name `X-Case-Number`; every call is logged. Errors have the shape "
        '`{"code": ..., "message": ..., "details": [...]}` in the caller\'s language; the '
        "token endpoint answers RFC 6749 errors."
    ),
    urls_namespace="gateway",
    auth=None,
    docs_url="/docs",
    openapi_url="/openapi.json",
)
install_error_handlers(api)

PURPOSE_HEADER = {
    "in": "header",
    "name": "X-Purpose",
    "required": True,
    "schema": {"type": "string"},
    "description": "使用用途 (URL-encoded UTF-8 allowed)",
}
CASE_HEADER = {
    "in": "header",
    "name": "X-Case-Number",
    "required": False,
    "schema": {"type": "string"},
    "description": "关联办件编号",
}


class TokenOut(Schema):
    access_token: str
    token_type: str
    expires_in: int


class ItemOut(Schema):
    code: str
    name: str


class CallOut(Schema):
    resource: str
    call_id: int
    items: list[ItemOut]
    records: list[dict[str, Any]]


class ErrorOut(Schema):
    code: str
    message: str
    details: list[Any]


class PingOut(Schema):
    ok: bool
    system: str


# ----------------------------------------------------------------------------- helpers


def _oauth_error(error: str, description: str, status: int = 400) -> HttpResponse:
    response = JsonResponse({"error": error, "error_description": description}, status=status)
    response["Cache-Control"] = "no-store"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="tongban-gateway"'
    return response


def _error(status: int, code: str, message: str, *, retry_after: int = 0) -> HttpResponse:
    response = JsonResponse(
        error_body(code, message), status=status, json_dumps_params={"ensure_ascii": False}
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="tongban-gateway"'
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _basic_credentials(request: HttpRequest) -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return ("", "")
    client_id, _sep, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: form-urlencoded before base64
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def authenticate(request: HttpRequest) -> Caller:
    """A bearer token or a signed request; raises ``AuthenticationFailed``."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    if scheme.lower() == "bearer":
        return gateway_auth.bearer_authenticate(token.strip())
    if gateway_auth.HEADER_SIGNATURE in request.headers:
        return gateway_auth.signature_authenticate(
            system_code=request.headers.get(gateway_auth.HEADER_SYSTEM, ""),
            timestamp=request.headers.get(gateway_auth.HEADER_TIMESTAMP, ""),
            nonce=request.headers.get(gateway_auth.HEADER_NONCE, ""),
            signature=request.headers.get(gateway_auth.HEADER_SIGNATURE, ""),
            method=request.method or "GET",
            path=request.path,
            query=[(key, value) for key, values in request.GET.lists() for value in values],
            body=request.body,
        )
    raise AuthenticationFailed("unauthenticated", _("请提供有效的访问凭证"))


def _header_text(request: HttpRequest, name: str) -> str:
    value = request.headers.get(name, "")
    if not value.isascii():  # raw UTF-8 bytes arrive as Latin-1 text through WSGI
        with contextlib.suppress(UnicodeError):
            value = value.encode("latin-1").decode("utf-8")
    elif "%" in value:
        value = unquote(value, encoding="utf-8", errors="replace")
    return value.strip()


def _outcome_response(outcome: CallOutcome) -> HttpResponse:
    if not outcome.served:
        return _error(
            outcome.status, outcome.code, outcome.message, retry_after=outcome.retry_after
        )
    response = JsonResponse(
        {
            "resource": outcome.resource_code,
            "call_id": outcome.call_id,
            "items": [{"code": code, "name": name} for code, name in outcome.items],
            "records": outcome.records,
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["X-Call-Id"] = str(outcome.call_id)
    return response


# ----------------------------------------------------------------------------- endpoints


@api.post(
    "/oauth/token",
    response={200: TokenOut},
    summary="OAuth2 client credentials token (RFC 6749 §4.4)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string"},
                            "client_secret": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
def token(request: HttpRequest) -> HttpResponse:
    basic = _basic_credentials(request)
    form = request.POST
    if form.get("grant_type") != "client_credentials":
        if not form.get("grant_type"):
            return _oauth_error("invalid_request", _("缺少 grant_type 参数"))
        return _oauth_error("unsupported_grant_type", _("仅支持 client_credentials 授权方式"))
    if basic is not None and ("client_id" in form or "client_secret" in form):
        return _oauth_error("invalid_request", _("客户端凭证只能通过一种方式提交"))
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    if not client_id or not secret:
        return _oauth_error("invalid_client", _("客户端认证失败"), 401)
    system = gateway_auth.client_authenticate(client_id, secret)
    if system is None:
        return _oauth_error("invalid_client", _("客户端认证失败"), 401)
    access_token, expires_in = gateway_auth.token_issue(system)
    response = JsonResponse(
        {"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in}
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


@api.get(
    "/v1/ping",
    response={200: PingOut, 401: ErrorOut},
    summary="Check credentials (bearer token or signature); no grant, not logged",
)
def ping(request: HttpRequest) -> HttpResponse:
    try:
        caller = authenticate(request)
    except AuthenticationFailed as error:
        return _error(401, error.code, error.message)
    return JsonResponse({"ok": True, "system": caller.system_code})


@api.get(
    "/v1/resources/{code}",
    response={
        200: CallOut,
        400: ErrorOut,
        401: ErrorOut,
        403: ErrorOut,
        404: ErrorOut,
        429: ErrorOut,
        502: ErrorOut,
        503: ErrorOut,
    },
    summary="Call a shared resource; the provider's parameters are query parameters",
    openapi_extra={"parameters": [PURPOSE_HEADER, CASE_HEADER]},
)
def resource_call(request: HttpRequest, code: str) -> HttpResponse:
    started = time.perf_counter()
    caller: Caller | None
    auth_error: AuthenticationFailed | None = None
    try:
        caller = authenticate(request)
    except AuthenticationFailed as error:
        caller, auth_error = None, error
    parameters = {str(key): str(value) for key, value in request.GET.items()}
    outcome = gateway_call(
        caller=caller,
        resource_code=code[:20],
        parameters=parameters,
        purpose=_header_text(request, "X-Purpose"),
        case_number=_header_text(request, "X-Case-Number"),
        request_id=str(getattr(request, "request_id", "")),
        auth_error=auth_error,
        started=started,
    )
    return _outcome_response(outcome)
