"""Hostile input: markup in text fields comes back escaped, SQL in search and filters is
just text, posts without a CSRF token are refused, file names cannot climb out of the
storage, uploads are judged by their content and size, and malformed numbers, IDs, dates
and bodies get a clear 4xx in the user's language with nothing saved."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.security.conftest import CITIZEN_A, OFFICER, PDF, SUPERVISOR, World, sign_in
from tongban.apps.approvals.models import Case, Opinion
from tongban.apps.supervision.models import Alert, SupervisedCase
from tongban.platform.files.models import StoredFile

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
XSS_ESCAPED = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
SQL = ["' OR '1'='1", "1; DROP TABLE approvals_case;--", "1 UNION SELECT password FROM x"]


def _apply(world: World, client: Client, **extra: Any) -> Any:
    post = {"idempotency_key": f"hostile-{len(extra)}-{Case.objects.count()}", **extra}
    return client.post(f"/cases/apply/{world.item_id}/", post)


# --- markup comes back escaped -------------------------------------------------------


def test_a_manual_alert_detail_is_shown_escaped(world: World) -> None:
    client = sign_in(Client(), world.users[SUPERVISOR])
    case = SupervisedCase.objects.get(key="SC-0001")
    response = client.post(
        "/supervision/alerts/new/",
        {"case": case.pk, "department": world.market.pk, "dimension": "attitude", "detail": XSS},
    )
    assert response.status_code == 302
    alert = Alert.objects.get(detail=XSS)  # stored as typed, escaped when shown
    page = client.get(f"/supervision/alerts/{alert.pk}/").content.decode()
    assert XSS_ESCAPED in page
    assert "<script>alert(1)" not in page


def test_an_officers_opinion_is_shown_escaped(world: World) -> None:
    client = sign_in(Client(), world.users[OFFICER])
    before = Opinion.objects.count()
    response = client.post(f"/cases/{world.case.pk}/act/case_opinion_add/", {"text": XSS})
    assert response.status_code == 302
    assert Opinion.objects.count() == before + 1
    page = client.get(f"/cases/{world.case.pk}/").content.decode()
    assert XSS_ESCAPED in page
    assert "<script>alert(1)" not in page


def test_a_refused_application_form_shows_the_typed_values_escaped(world: World) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    before = Case.objects.count()
    response = _apply(world, client, applicant="self", contact_phone=XSS)
    assert response.status_code in (400, 422)
    page = response.content.decode()
    assert "<script>alert(1)" not in page
    assert Case.objects.count() == before


# --- SQL is text -----------------------------------------------------------------------


@pytest.mark.parametrize("text", SQL)
def test_sql_in_search_and_filters_is_only_text(world: World, text: str) -> None:
    citizen = sign_in(Client(), world.users[CITIZEN_A])
    supervisor = sign_in(Client(), world.users[SUPERVISOR])
    page = citizen.get("/services/search/", {"q": text})
    assert page.status_code == 200
    api = citizen.get("/api/catalog/search", {"q": text})
    assert api.status_code == 200
    assert api.json()["total"] == 0
    assert citizen.get("/cases/mine/", {"state": text}).status_code == 200
    alerts = supervisor.get("/supervision/alerts/", {"department": text, "state": text})
    assert alerts.status_code == 200
    cases = supervisor.get("/supervision/cases/", {"department": text, "q": text})
    assert cases.status_code == 200
    assert Case.objects.count() == 2  # the world's two cases: nothing dropped or added


# --- CSRF ------------------------------------------------------------------------------


def test_a_form_post_without_csrf_token_is_refused_and_saves_nothing(world: World) -> None:
    client = sign_in(Client(enforce_csrf_checks=True), world.users[CITIZEN_A])
    before = Case.objects.count()
    response = client.post(
        f"/cases/apply/{world.item_id}/",
        {"idempotency_key": "csrf-1", "applicant": "self", "contact_phone": "13812345678"},
    )
    assert response.status_code == 403
    assert "CSRF" in response.content.decode()
    assert Case.objects.count() == before


def test_an_api_write_with_a_session_but_no_csrf_token_is_refused(world: World) -> None:
    client = sign_in(Client(enforce_csrf_checks=True), world.users[OFFICER])
    before = Opinion.objects.count()
    response = client.post(
        f"/api/approvals/cases/{world.case.pk}/accept",
        json.dumps({"checked": []}),
        content_type="application/json",
    )
    assert response.status_code in (401, 403)
    assert Opinion.objects.count() == before
    world.case.refresh_from_db()
    assert world.case.accepted_by is not None  # unchanged: accepted by the window before


# --- file names, content and size ------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "shell.php.pdf", "a\x00.pdf"],
)
def test_file_names_cannot_reach_outside_the_storage(world: World, name: str) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    response = _apply(
        world,
        client,
        applicant="self",
        contact_phone="13812345678",
        material_0=SimpleUploadedFile(name, PDF, content_type="application/pdf"),
    )
    assert response.status_code == 302
    stored = StoredFile.objects.order_by("-created_at").first()
    assert stored is not None
    assert stored.storage_name.startswith("files/")
    assert ".." not in stored.storage_name
    assert stored.storage_name.endswith(".pdf")
    assert "php" not in stored.storage_name
    assert "/" not in stored.original_name
    assert "\x00" not in stored.original_name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00 a windows program"),
        ("page.pdf", b"<html><script>alert(1)</script></html>"),
    ],
)
def test_content_not_matching_the_extension_is_refused(
    world: World, name: str, content: bytes
) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    files_before, cases_before = StoredFile.objects.count(), Case.objects.count()
    response = _apply(world, client, material_0=SimpleUploadedFile(name, content))
    assert response.status_code == 400
    assert "材料“食品经营许可申请书”" in response.content.decode()
    assert (StoredFile.objects.count(), Case.objects.count()) == (files_before, cases_before)


def test_an_oversized_upload_is_refused_in_the_users_language(world: World, settings: Any) -> None:
    settings.TONGBAN_MAX_UPLOAD_BYTES = 1024
    client = sign_in(Client(), world.users[CITIZEN_A])
    files_before, cases_before = StoredFile.objects.count(), Case.objects.count()
    big = PDF + b"%" + b"0" * 4096
    response = _apply(world, client, material_0=SimpleUploadedFile("big.pdf", big))
    assert response.status_code == 400
    assert "材料“食品经营许可申请书”" in response.content.decode()
    assert (StoredFile.objects.count(), Case.objects.count()) == (files_before, cases_before)


def test_an_oversized_api_body_is_a_4xx(world: World, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    client = sign_in(Client(), world.users[CITIZEN_A])
    before = Case.objects.count()
    body = json.dumps({"item_id": world.item_id, "form_data": {"x": "y" * 20_000}})
    response = client.post("/api/approvals/cases", body, content_type="application/json")
    assert response.status_code == 400
    assert Case.objects.count() == before


# --- malformed numbers, IDs, USCCs, dates and bodies ----------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/approvals/cases/abc",
        "/api/approvals/cases/-1",
        "/api/approvals/cases/1.5",
        "/api/licences/verify/' OR 1=1",
        "/api/licences/verify/91110000XXXXXXXXXX",
    ],
)
def test_malformed_ids_in_the_api_are_a_clear_4xx(world: World, path: str) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    response = client.get(path)
    assert response.status_code in (404, 422)
    body = response.json()
    assert body["code"] in ("not_found", "invalid")
    assert body["message"] in ("未找到该对象", "提交的数据有误")


@pytest.mark.parametrize(
    "path", ["/cases/abc/", "/files/not-a-uuid/", "/licences/verify/%27%20OR%201%3D1/"]
)
def test_malformed_ids_in_pages_are_a_404_page_in_the_users_language(
    world: World, path: str
) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    response = client.get(path)
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    english = sign_in(Client(HTTP_ACCEPT_LANGUAGE="en"), world.users[CITIZEN_A])
    assert english.get(path).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"from": "9999-99-99", "to": "0000-00-00"},
        {"from": "2026-02-30", "to": "-1"},
        {"period": "99999-13", "year": "99999999999", "month": "13"},
    ],
)
def test_dates_out_of_range_in_filters_do_not_fail(world: World, query: dict[str, str]) -> None:
    client = sign_in(Client(), world.users[SUPERVISOR])
    assert client.get("/supervision/cases/", query).status_code == 200
    assert client.get("/supervision/evaluation/", query).status_code == 200


def test_deeply_nested_json_is_a_4xx_and_saves_nothing(world: World) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    before = Case.objects.count()
    depth = 100_000
    nested = '{"a":' * depth + "1" + "}" * depth
    deep = f'{{"item_id": {world.item_id}, "form_data": {nested}}}'
    response = client.post("/api/approvals/cases", deep, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in ("error", "invalid")
    assert Case.objects.count() == before


def test_an_unparseable_json_body_is_a_4xx(world: World) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    response = client.post("/api/approvals/cases", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/services/search/", {"q": "a\x00b"}),
        ("get", "/api/catalog/search", {"q": "\x00"}),
        ("post", "/supervision/alerts/new/", {"case": "1", "detail": "x\x00"}),
        ("json", "/api/licences/licences", '{"type_code": "SPJY\\u0000"}'),
        ("json", "/api/approvals/cases", '{"item_id": 1, "form_data": {"a": "\x00"}}'),
    ],
)
def test_nul_characters_are_a_400_in_the_users_language(
    world: World, method: str, path: str, data: Any
) -> None:
    # PostgreSQL text cannot hold NUL: without RejectNulMiddleware these were 500s there
    client = sign_in(Client(), world.users[SUPERVISOR if "supervision" in path else CITIZEN_A])
    alerts, cases = Alert.objects.count(), Case.objects.count()
    if method == "json":
        response = client.post(path, data, content_type="application/json")
    else:
        response = getattr(client, method)(path, data)
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.json() == {"code": "invalid", "message": "提交的数据有误", "details": []}
    else:
        assert "提交的数据有误" in response.content.decode()
    assert (Alert.objects.count(), Case.objects.count()) == (alerts, cases)


def test_a_nul_in_an_uploaded_file_is_fine(world: World) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    pdf = PDF + b"%\x00\x01binary\n"
    response = _apply(
        world,
        client,
        applicant="self",
        contact_phone="13812345678",
        material_0=SimpleUploadedFile("a.pdf", pdf, content_type="application/pdf"),
    )
    assert response.status_code == 302
    assert Case.objects.count() == 3


# --- numbers no 64-bit key can hold ------------------------------------------------------

BIG = 2**70
# SQLite raises OverflowError for them: the <id:...> path converter keeps them from the
# database on pages, the API answers 422


def test_a_page_number_beyond_64_bits_is_a_clear_4xx(world: World) -> None:
    client = sign_in(Client(raise_request_exception=False), world.users[CITIZEN_A])
    response = client.get("/api/approvals/cases/mine", {"page": BIG})
    assert response.status_code == 422


def test_an_item_id_beyond_64_bits_in_the_api_is_a_404(world: World) -> None:
    client = sign_in(Client(raise_request_exception=False), world.users[CITIZEN_A])
    assert client.get(f"/api/catalog/items/{BIG}").status_code in (404, 422)


def test_an_application_for_an_item_id_beyond_64_bits_is_a_4xx(world: World) -> None:
    client = sign_in(Client(raise_request_exception=False), world.users[CITIZEN_A])
    body = json.dumps({"item_id": BIG, "form_data": {}})
    response = client.post("/api/approvals/cases", body, content_type="application/json")
    assert response.status_code in (400, 404, 422)
    assert Case.objects.count() == 2


def test_a_public_item_page_with_an_id_beyond_64_bits_is_a_404(world: World) -> None:
    client = Client(raise_request_exception=False)
    assert client.get(f"/services/items/{BIG}/").status_code == 404


def test_a_text_file_named_pdf_is_refused(world: World) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    script = SimpleUploadedFile("report.pdf", b"#!/bin/sh\nrm -rf /\n")
    response = _apply(world, client, material_0=script)
    assert response.status_code == 400
    assert Case.objects.count() == 2


def test_an_unparseable_json_body_is_explained_in_the_users_language(world: World) -> None:
    client = sign_in(Client(), world.users[CITIZEN_A])
    response = client.post("/api/approvals/cases", "{not json", content_type="application/json")
    assert response.json()["message"] == "提交的数据有误"
