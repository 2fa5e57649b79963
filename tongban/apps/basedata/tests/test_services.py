"""Loads, provenance, quality checks, stewards' resolutions, the licence register."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from tongban.apps.basedata import public, services
from tongban.apps.basedata.models import (
    BirthRecord,
    IssueKind,
    IssueStatus,
    LegalPerson,
    LicenceRecord,
    NaturalPerson,
    QualityIssue,
)
from tongban.apps.basedata.tests.conftest import bad_rid, person_row, rid, uscc
from tongban.apps.licences.tests.builders import issue as issue_licence
from tongban.apps.licences.tests.builders import small_city
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Delivery
from tongban.platform.events.services import delivery_run


def load(actor, dataset, rows, **kwargs):
    return services.records_load(
        actor=actor, dataset_code=dataset, records=list(enumerate(rows, 1)), **kwargs
    )


def test_police_creates_people_with_provenance_and_one_audit_entry(city):
    number = rid(11)
    result = load(city.police_officer, "person", [person_row(number), person_row(rid(13))])
    assert (result.created, result.updated, result.issues) == (2, 0, 0)
    record = public.person_get(number)
    assert record["name"] == "王小明"
    assert record["gender"] == "男"
    assert record["birth_date"] == "1988-03-14"
    assert record["id_number"] == number
    assert record["marital_status"] is None
    sources = public.field_sources("person", number)
    assert sources["name"][0] == "示范市公安局"
    assert sources["household_number"][1].startswith(str(dt.date.today().year))
    assert "marital_status" not in sources
    entries = AuditEntry.objects.filter(action="basedata.record.load")
    assert entries.count() == 1
    assert json.loads(entries.get().detail)["created"] == 2


def test_a_second_department_writes_only_its_fields_and_gets_its_own_source(city):
    number = rid(15)
    load(city.police_officer, "person", [person_row(number)])
    result = load(city.civil_officer, "person", [{"id_number": number, "marital_status": "已婚"}])
    assert result.updated == 1
    assert public.person_get(number)["marital_status"] == "已婚"
    sources = public.field_sources("person", number)
    assert sources["marital_status"][0] == "示范市民政局"
    assert sources["name"][0] == "示范市公安局"
    unchanged = load(
        city.civil_officer, "person", [{"id_number": number, "marital_status": "已婚"}]
    )
    assert unchanged.unchanged == 1


def test_a_department_may_not_write_fields_it_does_not_supply_nor_create_people(city):
    number = rid(17)
    with pytest.raises(services.LoadRejected) as caught:
        load(city.civil_officer, "person", [{"id_number": number, "name": "李四"}])
    messages = " ".join(caught.value.messages)
    assert "第1行：本部门无权报送字段“姓名”" in messages
    assert "基础库中没有这条记录，本部门不能新建" in messages
    assert not NaturalPerson.objects.exists()


def test_one_wrong_line_refuses_the_whole_batch(city):
    rows = [
        person_row(rid(21)),
        person_row(rid(23), gender="未知"),
        person_row("12345"),
        person_row(rid(25), birth_date="1988-13-01"),
        person_row(rid(21)),
    ]
    with pytest.raises(services.LoadRejected) as caught:
        load(city.police_officer, "person", rows)
    assert [line for line, _message in caught.value.lines] == [2, 3, 4, 5]
    assert "性别应为“男”或“女”" in caught.value.lines[0][1]
    assert caught.value.lines[1][1] == "公民身份号码格式不正确"
    assert "出生日期应为日期" in caught.value.lines[2][1]
    assert "与第1行的记录重复" in caught.value.lines[3][1]
    assert not NaturalPerson.objects.exists()
    assert not AuditEntry.objects.filter(action="basedata.record.load").exists()


def test_officer_may_not_report_for_another_department(city):
    with pytest.raises(PermissionDenied):
        load(city.civil_officer, "person", [person_row(rid(31))], department_code="GAJ")
    with pytest.raises(PermissionDenied):
        load(city.citizen, "person", [person_row(rid(31))])
    assert not NaturalPerson.objects.exists()
    assert AuditEntry.objects.filter(action="basedata.record.update", outcome="denied").count() == 2


def test_a_department_without_a_dataset_is_refused(city):
    with pytest.raises(PermissionDenied):
        load(city.civil_officer, "birth", [{"certificate_number": "Q990000001"}])


def test_bad_check_character_is_stored_and_flagged(city):
    number = bad_rid(41)
    load(city.police_officer, "person", [person_row(number)])
    issue = QualityIssue.objects.get(kind=IssueKind.CHECK_CHAR)
    assert issue.dataset == "person"
    assert issue.field == "id_number"
    assert number not in issue.record_label
    # a second load does not open a second issue
    load(city.police_officer, "person", [person_row(number, name="王小明二")])
    assert QualityIssue.objects.filter(kind=IssueKind.CHECK_CHAR).count() == 1


def test_bad_uscc_check_character_and_legal_representative_are_flagged(city):
    good = uscc(7)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    load(
        city.market_officer,
        "legal_person",
        [
            {"uscc": bad, "name": "示范市甲公司", "legal_representative_id_number": bad_rid(43)},
        ],
    )
    fields = set(
        QualityIssue.objects.filter(kind=IssueKind.CHECK_CHAR).values_list("field", flat=True)
    )
    assert fields == {"uscc", "legal_representative_id_number"}


def test_duplicates_are_flagged_and_the_sweep_finds_them_again(city):
    good = rid(51)
    load(city.police_officer, "person", [person_row(good), person_row(bad_rid(51))])
    duplicate = QualityIssue.objects.get(kind=IssueKind.DUPLICATE, dataset="person")
    assert duplicate.status == IssueStatus.OPEN
    load(city.market_officer, "legal_person", [{"uscc": uscc(1), "name": "同名公司"}])
    load(city.market_officer, "legal_person", [{"uscc": uscc(2), "name": "同名公司"}])
    assert (
        QualityIssue.objects.filter(kind=IssueKind.DUPLICATE, dataset="legal_person").count() == 1
    )
    QualityIssue.objects.all().delete()
    assert services.quality_run() == 3  # 2 duplicates, 1 check character
    assert services.quality_run() == 0


def test_conflict_between_sources_opens_an_issue_and_the_steward_chooses(city):
    number = rid(61)
    load(city.police_officer, "person", [person_row(number, phone="13800001111")])
    result = load(city.hr_officer, "person", [{"id_number": number, "phone": "13900002222"}])
    assert result.issues == 1
    assert public.person_get(number)["phone"] == "13900002222"
    issue = QualityIssue.objects.get(kind=IssueKind.CONFLICT)
    assert issue.field == "phone"
    values = services.issue_values(issue)
    assert [v["department"] for v in values] == ["GAJ", "RSJ"]
    with pytest.raises(PermissionDenied):
        services.issue_resolve(actor=city.police_officer, issue=issue, action="choose", choice=0)
    with pytest.raises(ValidationError):
        services.issue_resolve(actor=city.steward, issue=issue, action="choose", choice=7)
    services.issue_resolve(actor=city.steward, issue=issue, action="choose", choice=0)
    issue.refresh_from_db()
    assert issue.status == IssueStatus.RESOLVED
    assert issue.chosen_department == "GAJ"
    assert public.person_get(number)["phone"] == "13800001111"
    assert public.field_sources("person", number)["phone"][0] == "示范市公安局"
    assert AuditEntry.objects.filter(action="basedata.quality.choose").count() == 1
    with pytest.raises(ValidationError):
        services.issue_resolve(actor=city.steward, issue=issue, action="dismiss", note="x")


def test_dismiss_needs_reasons(city):
    load(city.police_officer, "person", [person_row(bad_rid(71))])
    issue = QualityIssue.objects.get()
    with pytest.raises(ValidationError):
        services.issue_resolve(actor=city.steward, issue=issue, action="dismiss")
    services.issue_resolve(actor=city.steward, issue=issue, action="dismiss", note="历史数据")
    issue.refresh_from_db()
    assert issue.status == IssueStatus.DISMISSED
    assert issue.resolved_by == city.steward


def test_public_lookups(city):
    mother, father = rid(81, dt.date(1990, 1, 1)), rid(83, dt.date(1989, 5, 5))
    load(
        city.police_officer,
        "person",
        [
            person_row(mother, name="母亲", gender="女", household_number="HH9"),
            person_row(father, name="父亲", household_number="HH9"),
        ],
    )
    assert [p["name"] for p in public.household_members("HH9")] == ["母亲", "父亲"]
    assert public.household_members("none") == []
    load(
        city.health_officer,
        "birth",
        [
            {
                "certificate_number": "Q990000100",
                "newborn_name": "小宝",
                "newborn_gender": "女",
                "birth_date": "2026-11-01",
                "hospital": "示范市妇幼保健院",
                "mother_id_number": mother,
                "mother_name": "母亲",
                "father_id_number": father,
                "father_name": "父亲",
            }
        ],
    )
    for parent in (mother, father):
        births = public.births_of_parent(parent)
        assert [b["certificate_number"] for b in births] == ["Q990000100"]
        assert births[0]["mother_id_number"] == mother
    assert public.births_of_parent(rid(99)) == []
    load(
        city.market_officer,
        "legal_person",
        [
            {
                "uscc": uscc(9),
                "name": "示范市乙公司",
                "legal_representative": "父亲",
                "legal_representative_id_number": father,
                "established_on": "2020-02-02",
                "status": "存续",
            }
        ],
    )
    company = public.legal_person_get(uscc(9).lower())
    assert company["legal_representative_id_number"] == father
    assert company["established_on"] == "2020-02-02"
    assert public.legal_person_get(uscc(10)) is None
    assert public.person_get(rid(99)) is None
    assert public.field_sources("legal_person", uscc(9))["status"][0] == "示范市市场监督管理局"
    assert public.field_sources("nothing", "x") == {}


def test_person_get_is_one_query(city, django_assert_num_queries):
    number = rid(85)
    load(city.police_officer, "person", [person_row(number)])
    with django_assert_num_queries(1):
        assert public.person_get(number) is not None


def test_address_search(city):
    address_officer = city.civil_officer  # 民政 keeps place names
    load(
        address_officer,
        "address",
        [
            {"code": "A001", "full_address": "示范市东湖区湖滨街道柳岸路1号", "district": "东湖区"},
            {"code": "A002", "full_address": "示范市西山区翠微街道山前路8号", "district": "西山区"},
        ],
    )
    assert [a["code"] for a in public.address_search("柳岸路")] == ["A001"]
    assert [a["code"] for a in public.address_search("A002")] == ["A002"]
    assert public.address_search("") == []
    with pytest.raises(services.LoadRejected):  # 民政 does not supply coordinates
        load(address_officer, "address", [{"code": "A001", "longitude": "118.1"}])


def test_issued_and_revoked_licences_feed_the_register(db):
    licence_city = small_city()
    licence = issue_licence(licence_city)
    for delivery in Delivery.objects.filter(subscriber__startswith="tongban.apps.basedata"):
        delivery_run(delivery.pk)
    holder = licence_city.citizen.person.id_number
    rows = public.licences_of_holder(holder)
    assert [row["identifier"] for row in rows] == [licence.identifier]
    assert rows[0]["holder_id_number"] == holder
    assert rows[0]["status"] == "valid"
    assert (
        public.field_sources("licence", licence.identifier)["status"][0] == "示范市市场监督管理局"
    )
    from tongban.apps.licences import services as licence_services

    licence_services.licence_revoke(actor=licence_city.officer, licence=licence, reason="测试撤销")
    for delivery in Delivery.objects.filter(
        subscriber__startswith="tongban.apps.basedata", status="pending"
    ):
        delivery_run(delivery.pk)
    assert public.licences_of_holder(holder)[0]["status"] == "revoked"
    assert LicenceRecord.objects.count() == 1


def test_no_plaintext_identity_numbers_in_the_database(city):
    number, parent = rid(91), rid(93, dt.date(1970, 7, 7))
    load(city.police_officer, "person", [person_row(number, phone="13812345678")])
    load(
        city.health_officer,
        "birth",
        [{"certificate_number": "Q990000200", "mother_id_number": parent, "mother_name": "某"}],
    )
    load(
        city.market_officer,
        "legal_person",
        [{"uscc": uscc(11), "name": "丙公司", "legal_representative_id_number": parent}],
    )
    load(city.hr_officer, "person", [{"id_number": number, "phone": "13912345678"}])
    tables = [
        NaturalPerson._meta.db_table,
        BirthRecord._meta.db_table,
        LegalPerson._meta.db_table,
        QualityIssue._meta.db_table,
    ]
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - our own table names
            for row in cursor.fetchall():
                text = " ".join(
                    bytes(cell).decode("latin-1")
                    if isinstance(cell, (bytes, memoryview))
                    else str(cell)
                    for cell in row
                )
                for secret in (number, parent, "13812345678", "13912345678", "王小明"):
                    assert secret not in text, (table, secret)


def test_an_officer_with_a_unit_scope_reports_for_the_units_department(city):
    from tests import factories
    from tongban.apps.basedata import permissions
    from tongban.platform.access.models import Scope

    unit = factories.unit(city.police, "GAJ-U02", "户政管理科")
    role = factories.role("unit_provider", [permissions.RECORD_UPDATE])
    clerk = factories.staff("huzheng", unit, role_obj=role, scope=Scope.UNIT_TREE)
    assert load(clerk, "person", [person_row(rid(201))]).created == 1
    assert list(services.covered_departments(clerk)) == [city.police]
    with pytest.raises(PermissionDenied):
        load(clerk, "person", [person_row(rid(203))], department_code="MZJ")
