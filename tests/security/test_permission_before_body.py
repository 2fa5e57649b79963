"""The API refuses a caller without the right before it reads the body (issue 8).

Django Ninja validates the JSON body before the view runs; a permission checked only in the
service answered 422 (with the expected fields) to anyone. ``requires(...)`` on the
operation (tongban/platform/api/auth.py) refuses them first: 401 anonymous, 403 (audited)
signed in, by session or by token; who holds the permission gets the 422 for a bad body.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests import factories
from tongban.api import api
from tongban.apps.catalog import permissions as catalog_permissions
from tongban.platform.access.models import Scope
from tongban.platform.accounts.services import token_create
from tongban.platform.api.auth import (
    PUBLIC_USER_ACTION,
    ActiveSessionAuth,
    TokenAuth,
    requires,
    requires_public_user,
)
from tongban.platform.audit.models import AuditEntry, Outcome

pytestmark = pytest.mark.django_db

INVALID = {"department_code": "X"}  # no basic_code, no content


def _post(client: Client, url: str, body: Any, **headers: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def officer() -> Any:
    department = factories.department(factories.division(), "SCJG", "市市场监督管理局")
    unit = factories.unit(department, "SCJG-XK", "行政许可科")
    role = factories.role("catalog_editor", [catalog_permissions.ITEM_EDIT])
    return factories.staff("editor", unit, role_obj=role, scope=Scope.DEPARTMENT, name="李编辑")


def _signed_in(user: Any) -> Client:
    return factories.sign_in_verified(Client(), user)


def _denials(user: Any, action: str) -> int:
    return AuditEntry.objects.filter(
        actor_id=user.pk, action=action, outcome=Outcome.DENIED
    ).count()


def test_a_citizen_posting_an_invalid_item_is_refused_not_told_what_is_missing():
    citizen = factories.citizen()
    response = _post(_signed_in(citizen), "/api/catalog/items", INVALID)
    # before the gate: 422 with the fields the operation expects
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "forbidden"
    assert body["message"] == "您没有执行此操作的权限"
    assert "basic_code" not in response.content.decode()
    assert _denials(citizen, catalog_permissions.ITEM_EDIT) == 1


def test_a_citizen_with_a_token_is_refused_the_same_way():
    citizen = factories.citizen()
    _token, secret = token_create(actor=citizen, user=citizen, name="脚本")
    response = _post(Client(), "/api/catalog/items", INVALID, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    assert _denials(citizen, catalog_permissions.ITEM_EDIT) == 1


def test_anonymous_is_asked_to_sign_in():
    response = _post(Client(), "/api/catalog/items", INVALID)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_the_permitted_officer_gets_the_validation_error_in_chinese(officer):
    response = _post(_signed_in(officer), "/api/catalog/items", INVALID)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"] == "提交的数据有误"
    assert {detail["field"] for detail in body["details"]} >= {
        "payload.basic_code",
        "payload.content",
    }
    assert _denials(officer, catalog_permissions.ITEM_EDIT) == 0


def test_staff_are_refused_applying_before_the_body(officer):
    response = _post(_signed_in(officer), "/api/approvals/cases", {})
    assert response.status_code == 403
    assert _denials(officer, PUBLIC_USER_ACTION) == 1
    # a citizen passes the gate and is told what the application lacks
    response = _post(_signed_in(factories.citizen()), "/api/approvals/cases", {})
    assert response.status_code == 422
    assert response.json()["message"] == "提交的数据有误"


def test_citizens_are_refused_the_staff_queues(officer):
    client = _signed_in(factories.citizen())
    for url in ("/api/approvals/queue", "/api/approvals/inbox", "/api/exchange/deliveries"):
        assert client.get(url).status_code == 403, url


def test_the_gate_keeps_the_openapi_security_schemes():
    schema = api.get_openapi_schema()
    assert set(schema["components"]["securitySchemes"]) == {
        "TokenAuth",
        "ActiveSessionAuth",
        "SourceKeyAuth",
    }
    default = [{"TokenAuth": []}, {"ActiveSessionAuth": []}]
    operations = {
        operation["operationId"]: operation
        for methods in schema["paths"].values()
        for operation in methods.values()
    }
    for name in ("catalog_item_create", "approvals_case_submit", "approvals_case_get"):
        assert operations[name]["security"] == default, name


def test_requires_exposes_its_codes_and_refuses_unknown_ones():
    callbacks = requires(catalog_permissions.ITEM_EDIT, catalog_permissions.ITEM_REVIEW)
    assert [type(callback) for callback in callbacks] == [TokenAuth, ActiveSessionAuth]
    assert {callback.permission_codes for callback in callbacks} == {
        (catalog_permissions.ITEM_EDIT, catalog_permissions.ITEM_REVIEW)
    }
    assert all(callback.public_users_only for callback in requires_public_user())
    with pytest.raises(ValueError, match="unknown permission"):
        requires("catalog.item.no_such_thing")
    with pytest.raises(ValueError, match="at least one"):
        requires()
