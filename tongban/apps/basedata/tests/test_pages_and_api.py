"""Pages and API: who may do what, masked display, audited reads, file uploads."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from tongban.apps.basedata import services
from tongban.apps.basedata.models import IssueKind, NaturalPerson, QualityIssue
from tongban.apps.basedata.tests.conftest import person_row, rid
from tongban.platform.audit.models import AuditEntry


def sign_in(client, user):
    client.force_login(user)


def post_json(client, url, payload):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


URL = "/api/basedata/datasets/person/records"


def test_api_upsert_by_the_police_and_refusals(client, city):
    number = rid(101)
    sign_in(client, city.police_officer)
    response = post_json(client, URL, {"records": [person_row(number)]})
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    bad = post_json(client, URL, {"records": [person_row(rid(103)), {"id_number": "1"}]})
    assert bad.status_code == 400
    assert bad.json()["details"][0]["message"] == "第2行：公民身份号码格式不正确"
    assert NaturalPerson.objects.count() == 1


def test_api_officer_of_another_department_cannot_update(client, city):
    number = rid(105)
    services.records_load(
        actor=city.police_officer, dataset_code="person", records=[(1, person_row(number))]
    )
    sign_in(client, city.civil_officer)
    response = post_json(client, URL, {"records": [{"id_number": number, "name": "改名"}]})
    assert response.status_code == 400
    assert "本部门无权报送字段" in response.json()["message"]
    response = post_json(
        client, URL, {"department_code": "GAJ", "records": [{"id_number": number, "name": "改名"}]}
    )
    assert response.status_code == 403
    client.logout()
    sign_in(client, city.citizen)
    assert post_json(client, URL, {"records": [person_row(rid(107))]}).status_code == 403
    assert NaturalPerson.objects.count() == 1


def test_citizen_gets_403_on_every_page(client, city):
    sign_in(client, city.citizen)
    for url in ["/basedata/", "/basedata/upload/", "/basedata/quality/", "/basedata/person/1/"]:
        assert client.get(url).status_code == 403, url


def test_anonymous_is_sent_to_sign_in(client, city):
    assert client.get("/basedata/").status_code == 302


def test_search_and_record_page_are_masked_and_audited(client, city):
    number = rid(111)
    services.records_load(
        actor=city.police_officer,
        dataset_code="person",
        records=[(1, person_row(number, phone="13812345678"))],
    )
    person = NaturalPerson.objects.get()
    sign_in(client, city.viewer)
    response = client.post("/basedata/", {"dataset": "person", "q": number})
    assert response.status_code == 302
    assert response["Location"] == f"/basedata/person/{person.pk}/"
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert number not in html
    assert person.id_number_masked in html
    assert "王**" in html
    assert "13812345678" not in html
    assert "138****5678" in html
    assert "示范市公安局" in html
    read = AuditEntry.objects.filter(action="basedata.person.read", actor_id=city.viewer.pk)
    assert read.count() == 1
    assert json.loads(read.get().detail)["personal_data"] == "person"
    assert client.post("/basedata/", {"dataset": "legal_person", "q": "9\x00"}).status_code in (
        400,
        404,
    )
    missing = client.post("/basedata/", {"dataset": "person", "q": rid(113)})
    assert missing.status_code == 404
    assert "未找到该记录" in missing.content.decode()
    # the viewer may not upload or resolve
    assert client.get("/basedata/upload/").status_code == 403
    assert client.get("/basedata/quality/").status_code == 403


def _csv(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_csv_upload_all_or_nothing(client, city):
    sign_in(client, city.police_officer)
    good, other = rid(121), rid(123)
    text = (
        f"id_number,姓名,gender,birth_date\n{good},王一,男,1988-03-14\n"
        f"{other},王二,不详,1988-03-14\n"
    )
    response = client.post(
        "/basedata/upload/", {"dataset": "person", "department": "GAJ", "file": _csv(text)}
    )
    assert response.status_code == 400
    assert "第3行：性别应为“男”或“女”" in response.content.decode()
    assert not NaturalPerson.objects.exists()
    text = text.replace("不详", "女")
    response = client.post(
        "/basedata/upload/", {"dataset": "person", "department": "GAJ", "file": _csv(text)}
    )
    assert response.status_code == 200
    assert NaturalPerson.objects.count() == 2
    entry = AuditEntry.objects.get(action="basedata.record.load")
    assert json.loads(entry.detail)["channel"] == "file"


def test_json_upload_and_bad_files(client, city):
    sign_in(client, city.health_officer)
    payload = {"records": [{"certificate_number": "Q1", "newborn_name": "小宝"}]}
    upload = SimpleUploadedFile("births.json", json.dumps(payload).encode(), "application/json")
    response = client.post("/basedata/upload/", {"dataset": "birth", "file": upload})
    assert response.status_code == 200, response.content.decode()
    assert "新增1条" in response.content.decode()
    for name, content, message in [
        ("births.json", b"{not json", "JSON格式错误"),
        ("births.txt", b"x", "只接受CSV或JSON文件"),
        ("births.csv", b"certificate_number,colour\nQ2,red\n", "未知的列“colour”"),
        ("births.csv", b"certificate_number,hospital\nQ3,A\x00B\n", "第2行：不能包含控制字符"),
        ("births.json", b'[{"certificate_number": "Q\\u0000"}]', "第1行：不能包含控制字符"),
    ]:
        upload = SimpleUploadedFile(name, content, "text/plain")
        response = client.post("/basedata/upload/", {"dataset": "birth", "file": upload})
        assert response.status_code == 400
        assert message in response.content.decode()
    template = client.get("/basedata/upload/template/birth.csv")
    assert template.status_code == 200
    assert b"certificate_number" in template.content


def test_upload_for_another_department_is_refused(client, city):
    sign_in(client, city.civil_officer)
    text = f"id_number,name\n{rid(131)},王一\n"
    response = client.post(
        "/basedata/upload/", {"dataset": "person", "department": "GAJ", "file": _csv(text)}
    )
    assert response.status_code == 403
    assert not NaturalPerson.objects.exists()


def test_steward_resolves_a_conflict_on_the_page(client, city):
    number = rid(141)
    services.records_load(
        actor=city.police_officer,
        dataset_code="person",
        records=[(1, person_row(number, residence_address="示范市东湖区甲路1号"))],
    )
    services.records_load(
        actor=city.hr_officer,
        dataset_code="person",
        records=[(1, {"id_number": number, "residence_address": "示范市西山区乙路2号"})],
    )
    issue = QualityIssue.objects.get(kind=IssueKind.CONFLICT)
    sign_in(client, city.police_officer)
    assert client.get(f"/basedata/quality/{issue.pk}/").status_code == 403
    client.logout()
    sign_in(client, city.steward)
    listing = client.get("/basedata/quality/")
    assert listing.status_code == 200
    assert "来源冲突" in listing.content.decode()
    page = client.get(f"/basedata/quality/{issue.pk}/")
    assert "示范市人力资源和社会保障局" in page.content.decode()
    refused = client.post(f"/basedata/quality/{issue.pk}/", {"action": "choose"})
    assert refused.status_code == 400
    assert "请选择采用哪个来源的值" in refused.content.decode()
    done = client.post(f"/basedata/quality/{issue.pk}/", {"action": "choose", "choice": "0"})
    assert done.status_code == 302
    person = NaturalPerson.objects.get()
    assert person.residence_address == "示范市东湖区甲路1号"
    assert AuditEntry.objects.filter(action="basedata.quality.choose").count() == 1


def test_every_dataset_has_a_record_page(client, city):
    from tongban.apps.basedata.models import AddressEntry, BirthRecord, LegalPerson

    from .conftest import uscc

    services.records_load(
        actor=city.health_officer,
        dataset_code="birth",
        records=[(1, {"certificate_number": "Q7", "newborn_name": "小宝", "mother_name": "王芳"})],
    )
    services.records_load(
        actor=city.market_officer,
        dataset_code="legal_person",
        records=[(1, {"uscc": uscc(3), "name": "示范市丁公司", "legal_representative": "赵六"})],
    )
    services.records_load(
        actor=city.civil_officer,
        dataset_code="address",
        records=[(1, {"code": "A9", "full_address": "示范市东湖区某路9号"})],
    )
    sign_in(client, city.viewer)
    pages = {
        "birth": BirthRecord.objects.get().pk,
        "legal_person": LegalPerson.objects.get().pk,
        "address": AddressEntry.objects.get().pk,
    }
    for dataset, pk in pages.items():
        response = client.get(f"/basedata/{dataset}/{pk}/")
        assert response.status_code == 200, dataset
    html = client.get(f"/basedata/birth/{pages['birth']}/").content.decode()
    assert "王芳" not in html
    assert "王*" in html
    assert client.get("/basedata/nothing/1/").status_code == 404
    assert client.get("/basedata/person/999999/").status_code == 404
