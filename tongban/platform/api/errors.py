"""One error shape for the whole API: ``{"code": ..., "message": ..., "details": [...]}``.

``message`` is in the caller's language (Accept-Language or the language cookie).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError


class ServiceError(Exception):
    """Raised by services for a refused business action; ``code`` is stable for clients."""

    status = 400

    def __init__(self, code: str, message: str, *, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or []


def error_body(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or []}


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(NinjaValidationError)
    def invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
        details = [
            {
                "field": ".".join(str(part) for part in item.get("loc", [])[1:]),
                "message": item.get("msg", ""),
            }
            for item in error.errors
        ]
        return respond(request, 422, error_body("invalid", _("提交的数据有误"), details))

    @api.exception_handler(OverflowError)
    def out_of_range(request: HttpRequest, error: OverflowError) -> HttpResponse:
        # a number no database column can hold (SQLite raises instead of answering)
        details = [{"field": "", "message": _("数值超出范围")}]
        return respond(request, 422, error_body("invalid", _("提交的数据有误"), details))

    @api.exception_handler(DjangoValidationError)
    def invalid_business(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
        if hasattr(error, "error_dict"):
            details = [
                {"field": field, "message": str(message)}
                for field, messages in error.message_dict.items()
                for message in messages
            ]
        else:
            details = [{"field": "", "message": str(message)} for message in error.messages]
        message = details[0]["message"] if details else _("提交的数据有误")
        return respond(request, 400, error_body("invalid", message, details))

    @api.exception_handler(ServiceError)
    def refused(request: HttpRequest, error: ServiceError) -> HttpResponse:
        return respond(request, error.status, error_body(error.code, error.message, error.details))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
        return respond(
            request, 401, error_body("unauthenticated", _("请先登录或提供有效的访问令牌"))
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
        return respond(request, 403, error_body("forbidden", _("您没有执行此操作的权限")))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", _("未找到该对象")))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        if error.status_code == 400 and str(error).startswith("Cannot parse request body"):
            # Ninja's own wording, in English: say it in the caller's language
            return respond(request, 400, error_body("invalid", _("提交的数据有误")))
        return respond(request, error.status_code, error_body("error", str(error)))
