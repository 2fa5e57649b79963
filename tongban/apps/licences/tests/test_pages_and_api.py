"""The public verification page, QR code, PDF download and the API, through real HTTP."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess

import pytest
from django.db import connection

from tests import factories
from tongban.apps.licences import services
from tongban.apps.licences.models import Licence
from tongban.apps.licences.tests.builders import issue
from tongban.platform.accounts.models import AgentAuthorisation
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event
from tongban.platform.pdf import chinese_date

pytestmark = pytest.mark.django_db


def _verdict(page: str) -> str:
    marker = 'data-verdict="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_verify_page_shows_public_data_masked_and_valid(client, city):
    licence = issue(city, valid_until=dt.date(2031, 11, 29))
    response = client.get(f"/licences/verify/{licence.identifier}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert _verdict(page) == "valid"
    assert "有效" in page
    assert '<dd data-testid="holder">张**</dd>' in page
    assert "张三丰" not in page
    number = city.citizen.person.id_number
    assert number not in page
    assert licence.holder_id_masked in page
    assert "示范市市场监督管理局" in page
    assert "2031年11月29日" in page
    assert f"/licences/verify/{licence.identifier}/qr.svg" in page
    assert f"/licences/{licence.identifier}.pdf" not in page  # anonymous: no download link


def test_verify_page_verdicts(client, city):
    revoked = issue(city)
    services.licence_revoke(actor=city.officer, licence=revoked, reason="违法经营")
    expired = issue(city, issued_on=dt.date(2020, 1, 2), valid_until=dt.date(2022, 1, 1))
    tampered = issue(city)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE licences_licence SET holder_name = %s WHERE id = %s", ["王五", tampered.pk]
        )
    expected = {revoked: ("revoked", "已撤销"), expired: ("expired", "已过期")}
    expected[tampered] = ("tampered", "验证失败（数据被篡改）")
    for licence, (verdict, label) in expected.items():
        page = client.get(f"/licences/verify/{licence.identifier}/").content.decode()
        assert _verdict(page) == verdict
        assert label in page


def test_verify_form_finds_by_number_or_says_not_found(client, city):
    licence = issue(city)
    response = client.get("/licences/verify/", {"q": f"  {licence.number.lower()} "})
    assert response.status_code == 302
    assert response["Location"] == f"/licences/verify/{licence.identifier}/"
    response = client.get("/licences/verify/", {"q": "SPJY-000000000-424242"})
    assert response.status_code == 404
    page = response.content.decode()
    assert _verdict(page) == "not_found"
    assert "未找到" in page
    assert client.get("/licences/verify/").status_code == 200
    unknown = licence.identifier.replace(".000001.", ".000099.")
    response = client.get(f"/licences/verify/{unknown}/")
    assert response.status_code == 404
    assert "未找到" in response.content.decode()


def test_qr_code_of_the_verify_url_is_served(client, city):
    licence = issue(city)
    response = client.get(f"/licences/verify/{licence.identifier}/qr.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert b"<path" in response.content
    missing = licence.identifier.replace(".000001.", ".000002.")
    assert client.get(f"/licences/verify/{missing}/qr.svg").status_code == 404


def test_pdf_for_the_holder_and_the_issuers_staff_only(client, city):
    licence = issue(city)
    url = f"/licences/{licence.identifier}.pdf"
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login")

    client.force_login(city.other_citizen)
    assert client.get(url).status_code == 404
    client.force_login(city.health_officer)  # staff, but of another department
    assert client.get(url).status_code == 404

    for user in (city.citizen, city.viewer):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, user
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert response["Cache-Control"] == "private, no-store"

    client.force_login(city.citizen)
    page = client.get(f"/licences/verify/{licence.identifier}/").content.decode()
    assert url in page  # the holder sees the download link


def test_an_enterprises_agent_gets_its_licences(client, city):
    enterprise = factories.enterprise()
    licence = issue(
        city,
        holder_name=enterprise.name,
        holder_id_type="uscc",
        holder_id_number=enterprise.uscc,
        type_code="GTGSH",
        name="营业执照",
    )
    agent = factories.citizen("agent", "赵六")
    client.force_login(agent)
    assert client.get(f"/licences/{licence.identifier}.pdf").status_code == 404
    AgentAuthorisation.objects.create(
        agent=agent, legal_person=enterprise, valid_from=dt.date(2020, 1, 1)
    )
    assert client.get(f"/licences/{licence.identifier}.pdf").status_code == 200
    page = client.get("/licences/mine/").content.decode()
    assert licence.number in page
    assert "营业执照" in page
    # an enterprise's name and USCC are public: shown whole on the verification page
    client.logout()
    page = client.get(f"/licences/verify/{licence.identifier}/").content.decode()
    assert f'<dd data-testid="holder">{enterprise.name}</dd>' in page
    assert enterprise.uscc in page


def test_my_licences_lists_only_mine(client, city):
    mine = issue(city)
    theirs = issue(city, holder_name="李四", holder_id_number=city.other_citizen.person.id_number)
    client.force_login(city.citizen)
    page = client.get("/licences/mine/").content.decode()
    assert mine.identifier in page
    assert theirs.identifier not in page


def test_api_verify_is_public_and_masks_the_holder(client, city):
    licence = issue(city)
    for query in (licence.identifier, licence.number):
        response = client.get(f"/api/licences/verify/{query}")
        assert response.status_code == 200, query
        body = response.json()
        assert body["verdict"] == "valid"
        assert body["verdict_label"] == "有效"
        assert body["identifier"] == licence.identifier
        assert body["holder"] == "张**"
        assert body["holder_id_masked"] == licence.holder_id_masked
        assert body["verify_url"] == f"http://testserver/licences/verify/{licence.identifier}/"
        assert city.citizen.person.id_number not in response.content.decode()
    response = client.get("/api/licences/verify/SPJY-000000000-424242")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_revoke_needs_permission_and_reason(client, city):
    licence = issue(city)
    url = f"/api/licences/licences/{licence.identifier}/revoke"

    def post(payload):
        return client.post(url, data=json.dumps(payload), content_type="application/json")

    assert post({"reason": "违法经营"}).status_code == 401
    for user in (city.citizen, city.viewer, city.health_officer):
        client.force_login(user)
        response = post({"reason": "违法经营"})
        assert response.status_code == 403, user
        assert response.json()["code"] == "forbidden"
    client.force_login(city.officer)
    response = post({"reason": " "})
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "reason", "message": "请写明撤销原因"}]
    # the refused calls changed nothing
    stored = Licence.objects.get(pk=licence.pk)
    assert (stored.status, stored.revoked_at, stored.revoke_reason) == ("valid", None, "")
    assert not Event.objects.filter(name="licences.licence.revoked").exists()
    assert (
        AuditEntry.objects.filter(action="licences.licence.revoke", outcome="denied").count() == 3
    )

    response = post({"reason": "以欺骗手段取得许可"})
    assert response.status_code == 200
    assert response.json()["verdict"] == "revoked"
    assert Event.objects.filter(name="licences.licence.revoked").count() == 1
    page = client.get(f"/licences/verify/{licence.identifier}/").content.decode()
    assert _verdict(page) == "revoked"


def test_api_issue_needs_the_permission(client, city):
    payload = {
        "type_code": "SPJY",
        "name": "食品经营许可证",
        "holder_name": "张三丰",
        "holder_id_type": "resident_id",
        "holder_id_number": city.citizen.person.id_number,
        "issuer_department_code": "SCJG",
        "valid_until": "2031-11-29",
        "fields": {"经营场所": "示范市中山路1号"},
        "source": "manual:1",
    }
    client.force_login(city.viewer)
    response = client.post(
        "/api/licences/licences", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 403
    assert not Licence.objects.exists()
    client.force_login(city.officer)
    response = client.post(
        "/api/licences/licences", data=json.dumps(payload), content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["verdict"] == "valid"
    assert body["valid_until"] == "2031-11-29"
    mine = client.get("/api/licences/mine")
    assert mine.json() == []  # the officer holds none
    client.force_login(city.citizen)
    assert [row["identifier"] for row in client.get("/api/licences/mine").json()] == [
        body["identifier"]
    ]


def test_revoke_form_on_the_management_page(client, city):
    licence = issue(city)
    client.force_login(city.viewer)
    page = client.get("/licences/manage/").content.decode()
    assert licence.number in page
    assert "revoke-form" not in page  # may view, may not revoke
    assert (
        client.post(f"/licences/manage/{licence.identifier}/revoke/", {"reason": "x"}).status_code
        == 403
    )
    client.force_login(city.health_officer)
    assert licence.number not in client.get("/licences/manage/").content.decode()
    client.force_login(city.officer)
    response = client.post(f"/licences/manage/{licence.identifier}/revoke/", {"reason": ""})
    assert response.status_code == 302
    assert Licence.objects.get(pk=licence.pk).status == "valid"
    response = client.post(
        f"/licences/manage/{licence.identifier}/revoke/", {"reason": "违法经营"}, follow=True
    )
    assert "证照已撤销" in response.content.decode()
    assert _verdict(response.content.decode()) == "revoked"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdf_is_in_chinese_with_the_id_number_masked(client, city):
    licence = issue(city, valid_until=dt.date(2031, 11, 29))
    client.force_login(city.citizen)
    client.cookies["django_language"] = "en"
    body = client.get(f"/licences/{licence.identifier}.pdf").content
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=body, capture_output=True, check=True
    ).stdout.decode()
    for expected in (
        "食品经营许可证",
        licence.number,
        "持证主体",
        "张三丰",
        licence.holder_id_masked,
        chinese_date(licence.issued_on),
        "2031年11月29日",
        "示范市中山路1号",
    ):
        assert expected in text, expected
    assert city.citizen.person.id_number not in text
