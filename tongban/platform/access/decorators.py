"""Deny by default: every view declares who may call it, or the middleware refuses it.

- ``@public`` — anyone, signed in or not (login page, health check, public pages).
- ``@signed_in`` — any signed-in user; the view scopes data to ``request.user`` itself.
- ``@permission(code)`` — signed-in users holding the named permission (any scope); the
  view must still narrow rows with ``scope_queryset``.

``DenyByDefaultMiddleware`` refuses a view with none of these markers, and a test walks the
URL conf so a new page cannot skip the declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from tongban.platform.access.registry import is_registered

ViewT = TypeVar("ViewT", bound=Callable[..., Any])
ACCESS_ATTRIBUTE = "tongban_access"


def _mark(view: ViewT, value: str) -> ViewT:
    setattr(view, ACCESS_ATTRIBUTE, value)
    return view


def public(view: ViewT) -> ViewT:
    return _mark(view, "public")


def signed_in(view: ViewT) -> ViewT:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return _mark(wrapper, "signed_in")  # type: ignore[return-value]


def permission(code: str) -> Callable[[ViewT], ViewT]:
    if not is_registered(code):
        raise ValueError(f"unknown permission {code}")

    def decorate(view: ViewT) -> ViewT:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            from tongban.platform.access.services import deny, has_permission

            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_permission(request.user, code):
                deny(request.user, code)
            return view(request, *args, **kwargs)

        return _mark(wrapper, f"permission:{code}")  # type: ignore[return-value]

    return decorate


def access_of(view: Callable[..., Any]) -> str | None:
    """The declared access of a resolved view (class-based views included)."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        if candidate is not None and hasattr(candidate, ACCESS_ATTRIBUTE):
            return str(getattr(candidate, ACCESS_ATTRIBUTE))
    return None


# Third-party URL trees that carry their own access control.
SELF_GUARDED_PREFIXES = ("/admin/", "/api/", "/static/", "/media/", "/i18n/")


class DenyByDefaultMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        if request.path.startswith(SELF_GUARDED_PREFIXES):
            return None
        if access_of(view) is None:
            raise PermissionDenied("view declares no access rule")
        return None
