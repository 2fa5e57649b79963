"""Conventions checked by tests: deny by default for pages and the API, import rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.http import HttpResponse
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path

from tongban.api import api
from tongban.platform.access.decorators import SELF_GUARDED_PREFIXES, access_of


def _walk(patterns: list, prefix: str = "") -> Iterator[tuple[str, object]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _page_routes() -> list[tuple[str, object]]:
    routes = []
    for route, callback in _walk(get_resolver().url_patterns):
        url = "/" + route.lstrip("^")
        if url.startswith(SELF_GUARDED_PREFIXES):
            continue
        routes.append((url, callback))
    return routes


def test_every_page_declares_who_may_see_it():
    undeclared = [url for url, callback in _page_routes() if access_of(callback) is None]
    assert undeclared == []
    assert len(_page_routes()) >= 5  # the walk really found the pages


def undeclared_view(request):
    return HttpResponse("should never be served")


urlpatterns = [path("undeclared/", undeclared_view)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_view_without_an_access_rule_is_refused(client):
    response = client.get("/undeclared/")
    assert response.status_code == 403
    assert b"should never be served" not in response.content


def _all_operations() -> list[tuple[str, str, dict]]:
    schema = api.get_openapi_schema()
    operations = []
    for route, methods in schema["paths"].items():
        for method, operation in methods.items():
            operations.append((method.upper(), route, operation))
    return operations


def _api_operations() -> list[tuple[str, str]]:
    """Operations that declare an authentication requirement (``auth=None`` ones do not)."""
    return [
        (method, route)
        for method, route, operation in _all_operations()
        if operation.get("security")
    ]


def test_only_reads_are_public():
    public = [
        (method, route)
        for method, route, operation in _all_operations()
        if not operation.get("security")
    ]
    assert all(method == "GET" for method, _route in public), public


@pytest.mark.django_db
def test_every_api_operation_refuses_anonymous_callers(client):
    operations = _api_operations()
    assert operations, "the API schema lists no operations"
    for method, route in operations:
        url = re.sub(r"\{[^}]+\}", "1", route)
        response = client.generic(method, url, content_type="application/json", data="{}")
        assert response.status_code == 401, (method, url, response.status_code)
        body = response.json()
        assert body["code"] == "unauthenticated"
        assert body["message"]


def test_openapi_schema_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"].startswith("Tongban")


def test_every_tongban_command_maps_to_a_management_command():
    from django.core.management import get_commands

    from tongban.cli import COMMANDS, main

    available = get_commands()
    missing = [
        name for name, (command, _) in COMMANDS.items() if command and command not in available
    ]
    assert missing == []
    assert main(["--help"]) == 0
    assert main(["no-such-command"]) == 2
