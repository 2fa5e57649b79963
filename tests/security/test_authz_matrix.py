"""The authorization matrix (issue 8, "who may do what").

Generated, not hand-listed: every named route of the URL configuration (a walk of the
resolver) and every operation of the API schema (/api/openapi.json) must have a declared
expectation in ``authz_expectations``, so a new page or endpoint fails here until someone
says who may use it. Each route is then requested once per persona, through Django's
client, with real objects (citizen A's case, file, licence; the market regulator's
department): an allowed persona gets through (no 401/403/404/5xx, no redirect to a login),
a denied one gets 403/404 (or, anonymous on a page, the login page), and a denied write
leaves no row in any table, no platform event and no notification behind. An API write
sent an empty body (``BODY_AFTER_PERMISSION``) must refuse who fails its permission gate
(401/403) before it looks at the body.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security import authz_expectations as expectations
from tests.security.authz_expectations import Expect
from tests.security.conftest import (
    AGENT,
    AGENT_UNAUTHORISED,
    ANONYMOUS,
    CITIZEN_A,
    CITIZEN_B,
    CLERK,
    OTHER_OFFICER,
    PERSONAS,
    SYSTEM_ADMIN,
    World,
    sign_in,
)
from tongban.api import api

pytestmark = pytest.mark.django_db

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PREFIXES = ("/accounts/login/", "/admin/login/")


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            if entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
            else:
                name = f"{namespace}:<unnamed {entry.pattern}>"
            yield name, str(entry.pattern)


def route_names() -> list[str]:
    """Every route of the URL configuration; API routes are covered by operation id."""
    return sorted(
        {name for name, _ in _walk(get_resolver().url_patterns) if not name.startswith("api:")}
        | {name for name in expectations.PAGES if name.startswith("api:")}
    )


def api_operations() -> dict[str, tuple[str, str]]:
    """operationId → (method, path template) from the OpenAPI schema."""
    schema = api.get_openapi_schema()
    return {
        operation["operationId"]: (method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }


def gate_of(operation_id: str) -> tuple[tuple[str, ...], bool]:
    """The permission codes and the public-users-only flag of an operation's auth
    callbacks (``tongban.platform.api.auth.requires``); every callback must agree."""
    found = [
        operation
        for _prefix, router in api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
        if operation.operation_id == operation_id
    ]
    assert len(found) == 1, operation_id
    gates = {
        (
            tuple(getattr(callback, "permission_codes", ())),
            bool(getattr(callback, "public_users_only", False)),
        )
        for callback in found[0].auth_callbacks
    }
    assert len(gates) == 1, (operation_id, gates)
    return gates.pop()


def passes_gate(user: Any, gate: tuple[tuple[str, ...], bool]) -> bool:
    """Whether a persona gets through an operation's gate (to the body's validation)."""
    from tongban.platform.access.services import has_permission

    codes, public_only = gate
    if user is None:
        return False
    if public_only and user.kind != "public":
        return False
    return not codes or any(has_permission(user, code) for code in codes)


def _declared(name: str) -> bool:
    return name in expectations.PAGES or any(
        name.startswith(prefix) or prefix in name for prefix in expectations.EXCLUDED
    )


# ---------------------------------------------------------------------------------------
# completeness: nothing can be missed


def test_every_route_has_a_declared_expectation():
    names = {name for name, _ in _walk(get_resolver().url_patterns)}
    pages = {name for name in names if not name.startswith("api:")}
    assert sorted(name for name in pages if not _declared(name)) == []
    # API routes are declared by operation (several operations can share one route)
    api_pages = {"api:openapi-json", "api:openapi-view", "api:api-root"}
    assert api_pages <= names


def test_every_api_operation_has_a_declared_expectation():
    assert sorted(set(api_operations()) - set(expectations.API)) == []


def test_no_expectation_names_a_route_or_operation_that_is_gone():
    names = {name for name, _ in _walk(get_resolver().url_patterns)}
    assert sorted(set(expectations.PAGES) - names) == []
    assert sorted(set(expectations.API) - set(api_operations())) == []


def test_every_expectation_names_only_known_personas():
    for expect in [*expectations.PAGES.values(), *expectations.API.values()]:
        assert expect.allowed <= set(PERSONAS), expect
        assert expect.unchecked <= set(PERSONAS), expect


def test_every_body_after_permission_operation_has_a_permission_gate():
    marked = sorted(
        name for name, expect in expectations.API.items() if expect.body_after_permission
    )
    assert len(marked) == 33
    for name in marked:
        codes, public_only = gate_of(name)
        assert codes or public_only, f"{name}: no requires(...) on the operation"


def test_every_api_write_has_a_permission_gate():
    """Every write refuses, before it reads the body or looks up an object, whoever holds
    none of its permissions (``requires(...)``) or is not a member of the public
    (``requires_public_user()``). The exceptions are declared with their reason: an
    operation with its own credentials (the supervision intake's source key) and writes
    whose actor is known only from the object (``WRITES_CHECKED_ON_THE_OBJECT``)."""
    ungated = []
    exempt_seen = set()
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                if not set(operation.methods) & WRITE_METHODS:
                    continue
                # no callbacks of its own: the API's default (a token or the session)
                callbacks = list(operation.auth_callbacks)
                if callbacks and not any(hasattr(c, "permission_codes") for c in callbacks):
                    continue  # its own credentials (not a user's session or token)
                gated = bool(callbacks) and any(gate_of(operation.operation_id))
                if operation.operation_id in expectations.WRITES_CHECKED_ON_THE_OBJECT:
                    assert not gated, f"{operation.operation_id} has a gate: take it off the list"
                    exempt_seen.add(operation.operation_id)
                elif not gated:
                    ungated.append(operation.operation_id)
    assert ungated == []
    assert exempt_seen == set(expectations.WRITES_CHECKED_ON_THE_OBJECT)


def test_the_completeness_check_catches_an_undeclared_route(monkeypatch):
    monkeypatch.delitem(expectations.PAGES, "approvals:case")
    assert not _declared("approvals:case")
    monkeypatch.delitem(expectations.API, "approvals_case_get")
    assert "approvals_case_get" not in expectations.API


# ---------------------------------------------------------------------------------------
# the matrix


def _counts() -> dict[str, int]:
    """Rows per table, every model's, in one round trip."""
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models()
            if model._meta.label not in expectations.UNCOUNTED_MODELS and model._meta.managed
        }
    )
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


def _fingerprint(world: World) -> tuple[Any, ...]:
    """The state of the world's objects: a denied write may not change any of it (row
    counts alone miss an UPDATE)."""
    world.case.refresh_from_db()
    world.enterprise_case.refresh_from_db()
    world.licence.refresh_from_db()
    world.alert.refresh_from_db()
    world.source.refresh_from_db()
    world.message.refresh_from_db()
    sharing = world.sharing
    for obj in (
        sharing.resource,
        sharing.draft,
        sharing.system,
        sharing.request,
        sharing.grant,
        sharing.issue,
        sharing.job,
        sharing.delivery,
        sharing.subscription,
    ):
        obj.refresh_from_db()
    documents = world.documents
    for obj in (
        documents.draft,
        documents.sent,
        documents.delivery,
        documents.receipt,
        documents.circulation,
        documents.task,
        documents.group,
    ):
        obj.refresh_from_db()
    return (
        documents.draft.state,
        documents.draft.title,
        documents.draft.process_id,
        documents.sent.state,
        documents.sent.archived_at,
        documents.delivery.state,
        documents.delivery.read_at,
        documents.delivery.reminder_count,
        documents.receipt.state,
        documents.circulation.done_at,
        documents.task.state,
        documents.group.name,
        sharing.resource.is_withdrawn,
        sharing.draft.status,
        sharing.system.is_active,
        sharing.system.secret_hash,
        sharing.request.status,
        sharing.grant.revoked_at,
        sharing.issue.status,
        sharing.job.is_active,
        sharing.delivery.status,
        sharing.subscription.webhook_url,
        world.case.state,
        world.enterprise_case.state,
        world.licence.status,
        world.alert.state,
        world.source.is_active,
        world.message.read_at,
    )


def _verdict(
    persona: str,
    method: str,
    url: str,
    response: Any,
    expect: Expect,
    page: bool,
    through_gate: bool = False,
) -> str | None:
    allowed = persona in expect.allowed
    status = response.status_code
    if expect.body_after_permission:
        if not through_gate:
            if status in (401, 403):
                return None
            return f"{persona} {method} {url}: holds no permission of the gate but got {status}"
        if 400 <= status < 500:
            return None
        return f"{persona} {method} {url}: an empty body got {status}"
    location = response.get("Location", "") if 300 <= status < 400 else ""
    to_login = location.startswith(LOGIN_PREFIXES) or "/accounts/login/" in location
    if allowed:
        if status >= 500 or status in (401, 403, 404, 405) or to_login:
            return f"{persona} {method} {url}: allowed but got {status} {location}".strip()
        if method not in WRITE_METHODS and status >= 400:
            return f"{persona} {method} {url}: allowed but got {status}"
        return None
    if status in (401, 403, 404):
        return None
    if page and to_login and persona == ANONYMOUS:
        return None
    if to_login and location.startswith("/admin/login/"):
        return None  # the admin's own gate: not a staff member
    return f"{persona} {method} {url}: denied but got {status} {location}".strip()


def _request(client: Client, method: str, url: str, data: Any, page: bool) -> Any:
    if page:
        if method == "GET":
            return client.get(url, data or {})
        return client.generic(
            method,
            url,
            data=_urlencode(data or {}),
            content_type="application/x-www-form-urlencoded",
        )
    if method == "GET":
        return client.get(url, data or {})
    return client.generic(method, url, data=json.dumps(data or {}), content_type="application/json")


def _urlencode(data: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(data, doseq=True)


def _run(world: World, targets: list[tuple[str, Expect, str, str, bool]]) -> list[str]:
    """Request every target as every persona; return the mismatches."""
    from tongban.platform.events.models import Event
    from tongban.platform.notify.models import Message

    clients = {persona: sign_in(Client(), world.users[persona]) for persona in PERSONAS}
    problems: list[str] = []
    for label, expect, method, url, page in targets:
        data = expect.data(world) if expect.data else None
        gate = gate_of(label) if expect.body_after_permission else None
        # denied first: an allowed write (rolled back below) must not change what they see
        order = sorted(PERSONAS, key=lambda p: p in expect.allowed)
        for persona in order:
            if persona in expect.unchecked:
                continue
            allowed = persona in expect.allowed
            write = method in WRITE_METHODS
            with transaction.atomic():
                before = _counts() if write and not allowed else None
                state = _fingerprint(world) if before is not None else None
                events = Event.objects.count()
                messages = Message.objects.count()
                cookies = copy.deepcopy(clients[persona].cookies)
                response = _request(clients[persona], method, url, data, page)
                clients[persona].cookies = cookies
                through_gate = gate is not None and passes_gate(world.users[persona], gate)
                problem = _verdict(persona, method, url, response, expect, page, through_gate)
                if problem:
                    problems.append(f"[{label}] {problem}")
                if before is not None:
                    after = _counts()
                    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
                    if changed:
                        problems.append(f"[{label}] {persona} {method} {url}: rows {changed}")
                    if _fingerprint(world) != state:
                        problems.append(f"[{label}] {persona} {method} {url}: objects changed")
                if not allowed and (
                    Event.objects.count() != events or Message.objects.count() != messages
                ):
                    problems.append(f"[{label}] {persona} {method} {url}: event/notification")
                transaction.set_rollback(True)
    return problems


def _page_targets(world: World, group: str) -> list[tuple[str, Expect, str, str, bool]]:
    targets = []
    for name in route_names():
        if _group(name) != group or name not in expectations.PAGES:
            continue
        expect = expectations.PAGES[name]
        kwargs = expect.kwargs(world) if expect.kwargs else {}
        targets.append((name, expect, expect.method, reverse(name, kwargs=kwargs), True))
    return targets


def _api_targets(world: World, group: str) -> list[tuple[str, Expect, str, str, bool]]:
    targets = []
    for operation, (method, path) in sorted(api_operations().items()):
        if not path.startswith(group):
            continue
        expect = expectations.API[operation]
        kwargs = expect.kwargs(world) if expect.kwargs else {}
        targets.append((operation, expect, method, path.format(**kwargs), False))
    return targets


def _group(name: str) -> str:
    return name.split(":")[0] if ":" in name else "(root)"


PAGE_GROUPS = sorted({_group(name) for name in expectations.PAGES})
API_GROUPS = sorted({path.split("/")[2] for _, path in api_operations().values()})


@pytest.mark.parametrize("group", PAGE_GROUPS)
def test_pages_let_in_exactly_the_declared_personas(world, group):
    targets = _page_targets(world, group)
    assert targets
    assert _run(world, targets) == []


@pytest.mark.parametrize("group", API_GROUPS)
def test_api_operations_let_in_exactly_the_declared_personas(world, group):
    targets = _api_targets(world, f"/api/{group}/")
    assert targets
    assert _run(world, targets) == []


# ---------------------------------------------------------------------------------------
# object references guessed by number or UUID


def test_citizen_b_guessing_case_ids_and_numbers_finds_only_their_own(world, as_persona):
    from tongban.apps.approvals.models import Case

    client = as_persona(CITIZEN_B)
    own = Case.objects.filter(applicant=world.users[CITIZEN_B]).values_list("pk", flat=True)
    assert list(own) == []
    statuses = {
        case_id: (
            client.get(f"/cases/{case_id}/").status_code,
            client.get(f"/api/approvals/cases/{case_id}").status_code,
        )
        for case_id in range(1, Case.objects.order_by("-pk").values_list("pk", flat=True)[0] + 3)
    }
    assert set(statuses.values()) == {(404, 404)}
    # the case number (what is printed on the receipt) finds nothing in B's lists either
    mine = client.get("/api/approvals/cases/mine").json()
    assert mine["count"] == 0
    page = client.get("/cases/mine/")
    assert page.status_code == 200
    assert world.case.number not in page.content.decode()
    assert world.case.number in as_persona(CITIZEN_A).get("/cases/mine/").content.decode()


def test_an_enterprise_case_is_the_authorised_agents_and_no_other_agents(world, as_persona):
    case_id = world.enterprise_case.pk
    assert as_persona(AGENT).get(f"/cases/{case_id}/").status_code == 200
    assert as_persona(AGENT).get(f"/api/approvals/cases/{case_id}").status_code == 200
    for persona in (AGENT_UNAUTHORISED, CITIZEN_A, CITIZEN_B, OTHER_OFFICER, SYSTEM_ADMIN):
        client = as_persona(persona)
        assert client.get(f"/cases/{case_id}/").status_code == 404, persona
        assert client.get(f"/api/approvals/cases/{case_id}").status_code == 404, persona


def test_a_guessed_file_uuid_is_refused_and_an_unknown_one_is_not_found(world, as_persona):
    import uuid

    url = f"/files/{world.file.pk}/"
    assert as_persona(CITIZEN_A).get(url).status_code == 200
    assert as_persona(CITIZEN_B).get(url).status_code == 403
    assert as_persona(CITIZEN_B).get(f"/files/{uuid.uuid4()}/").status_code == 404
    # nor is a private upload a public catalogue file under its UUID
    assert as_persona(ANONYMOUS).get(f"/services/files/{world.file.pk}/").status_code == 404


def test_citizens_are_refused_the_staff_lists_of_the_api(world, as_persona):
    """Like the pages, the API refuses citizens the window's queue, the officer's inbox
    and the exchange inbox (403, not an empty list)."""
    for persona in (CITIZEN_A, CITIZEN_B, AGENT):
        client = as_persona(persona)
        assert client.get("/api/approvals/queue").status_code == 403, persona
        assert client.get("/api/approvals/inbox").status_code == 403, persona
        assert client.get("/api/exchange/deliveries").status_code == 403, persona
    assert as_persona(CLERK).get("/api/approvals/queue").json()["count"] == 1
