"""Applicant and window services: submission, idempotency, drafts, correction, acceptance,
refusal, withdrawal, rating, and what a failed transition leaves behind."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.utils import timezone

from tongban.apps.approvals import services
from tongban.apps.approvals.access import access_case_by_id
from tongban.apps.approvals.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseState,
    CorrectionRequest,
    Notice,
    Rating,
)
from tongban.apps.approvals.tests.conftest import make_city, upload
from tongban.apps.catalog.tests import builders
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message
from tongban.platform.workflow.models import WorkTask

pytestmark = pytest.mark.django_db


def submit(city, key: str = "", **changes):
    return services.case_submit(
        actor=changes.pop("actor", city.citizen),
        item_id=city.item_id,
        idempotency_key=key,
        applicant=changes.pop("applicant", services.ApplicantInput(contact_phone="13812345678")),
        materials=changes.pop("materials", None) or city.materials(),
        **changes,
    )


def accept(city, case):
    return services.case_accept(actor=city.clerk, case=case, checked=["食品经营许可申请书"])


def test_submit_numbers_the_case_and_copies_the_guide(city):
    case = submit(city)
    today = timezone.localdate()
    assert case.state == CaseState.SUBMITTED
    assert case.number == f"990100000000{today:%Y%m%d}000001"
    assert case.item_id == city.item_id
    assert case.item_version_id == city.version_id
    assert case.item_name == "食品经营许可证核发（新办）"
    assert case.department_code == "SCJG"
    assert case.case_type == "promised"
    assert (case.legal_limit_days, case.promised_limit_days) == (20, 10)
    assert case.process_steps == [["受理", 1], ["审查", 7], ["决定", 2]]
    assert case.applicant_name == "张三"
    assert case.applicant_kind == "natural_person"
    assert case.contact_phone_masked == "138****5678"
    stored = Case.objects.get(pk=case.pk)
    assert stored.contact_phone == "13812345678"
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_phone FROM approvals_case WHERE id = %s", [case.pk])
        raw = bytes(cursor.fetchone()[0])
    assert b"13812345678" not in raw  # encrypted at rest
    materials = {m.name: m.source for m in case.materials.all()}
    # 营业执照 comes from e-licences: a placeholder row instead of an upload
    assert materials == {"食品经营许可申请书": "applicant", "营业执照": "elicence"}
    assert [row.verb for row in case.timeline.all()] == ["submitted"]
    event = Event.objects.get(name="approvals.case.submitted")
    assert event.payload["case_number"] == case.number
    assert event.payload["department_codes"] == ["SCJG"]
    assert event.payload["accepted_at"] is None
    assert event.payload["working_days_used"] is None
    message = Message.objects.get(recipient=city.citizen)
    assert message.category == "approvals"
    assert case.number in message.body
    assert AuditEntry.objects.filter(action="approvals.case.submitted").count() == 1


def test_numbers_are_consecutive_per_day_and_area(city):
    first = submit(city)
    second = submit(city)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    assert second.number[:20] == first.number[:20]


def test_a_double_submit_with_one_key_creates_one_case(city):
    first = submit(city, key="submit-7f3a9c21")
    again = submit(city, key="submit-7f3a9c21")
    other = submit(city, key="submit-0b1d2e3f")
    assert again.pk == first.pk
    assert other.pk != first.pk
    assert Case.objects.count() == 2
    assert Event.objects.filter(name="approvals.case.submitted").count() == 2


def test_a_key_is_per_applicant(city):
    mine = submit(city, key="submit-shared-key")
    theirs = submit(
        city,
        key="submit-shared-key",
        actor=city.agent,
        materials=city.materials(city.agent),
    )
    assert theirs.pk != mine.pk


def test_a_missing_required_upload_is_refused_and_nothing_is_saved(city):
    with pytest.raises(ValidationError) as caught:
        submit(
            city,
            materials=[services.MaterialInput(name="授权委托书", file_id=upload(city.citizen).pk)],
        )
    assert caught.value.message_dict["materials"] == ["请上传必要材料“食品经营许可申请书”"]
    assert Case.objects.count() == 0
    assert Event.objects.filter(name__startswith="approvals.").count() == 0


def test_someone_elses_file_is_refused(city):
    foreign = upload(city.agent)
    with pytest.raises(ValidationError) as caught:
        submit(
            city, materials=[services.MaterialInput(name="食品经营许可申请书", file_id=foreign.pk)]
        )
    assert "不是您上传的" in caught.value.message_dict["materials"][0]


def test_a_material_not_on_the_list_is_refused(city):
    with pytest.raises(ValidationError) as caught:
        submit(
            city,
            materials=[
                *city.materials(),
                services.MaterialInput(name="户口本", file_id=upload(city.citizen).pk),
            ],
        )
    assert caught.value.message_dict["materials"] == ["“户口本”不在该事项的材料清单中"]


def test_form_data_is_validated_against_the_versions_form(db):
    city = make_city(
        form_schema={
            "type": "object",
            "properties": {"shop": {"type": "string", "title": "店名", "maxLength": 10}},
            "required": ["shop"],
        }
    )
    with pytest.raises(ValidationError) as caught:
        submit(city, form_data={})
    assert list(caught.value.message_dict) == ["form_data.shop"]
    assert "店名" in caught.value.message_dict["form_data.shop"][0]  # the catalogue's words
    case = submit(city, form_data={"shop": "张三小吃"})
    assert case.form_data == {"shop": "张三小吃"}


def test_staff_cannot_apply(city):
    with pytest.raises(PermissionDenied):
        submit(city, actor=city.clerk, materials=city.materials(city.clerk))


def test_an_agent_applies_for_the_enterprise(city):
    case = submit(
        city,
        actor=city.agent,
        applicant=services.ApplicantInput(kind="legal_person", legal_person=city.enterprise),
        materials=city.materials(city.agent),
    )
    assert case.legal_person_id == city.enterprise.pk
    assert case.applicant_name == city.enterprise.name
    assert case.agent_name == "钱经办"
    assert case.applicant_kind == "legal_person"
    # the enterprise's cases are not the agent's private ones: without the authorisation,
    # the citizen cannot apply for it
    with pytest.raises(PermissionDenied):
        submit(
            city,
            applicant=services.ApplicantInput(kind="legal_person", legal_person=city.enterprise),
        )


def test_an_item_for_persons_only_refuses_a_legal_person(db):
    city = make_city(for_legal_persons=False)
    with pytest.raises(ValidationError) as caught:
        submit(
            city,
            actor=city.agent,
            applicant=services.ApplicantInput(kind="legal_person", legal_person=city.enterprise),
            materials=city.materials(city.agent),
        )
    assert caught.value.message_dict["applicant_kind"] == ["该事项不接受法人申请"]


def test_draft_then_submit_and_a_second_submit_returns_it(city):
    draft = services.case_draft_save(
        actor=city.citizen, item_id=city.item_id, form_data={"note": "先存着"}
    )
    assert draft.state == CaseState.DRAFT
    assert draft.number == ""
    draft = services.case_draft_save(
        actor=city.citizen,
        item_id=city.item_id,
        case=draft,
        materials=city.materials(),
        form_data={"note": "补全了"},
    )
    submitted = services.case_submit(actor=city.citizen, case=draft)
    assert submitted.pk == draft.pk
    assert submitted.state == CaseState.SUBMITTED
    assert submitted.number
    assert submitted.form_data == {"note": "补全了"}
    again = services.case_submit(actor=city.citizen, case=draft)
    assert again.pk == draft.pk
    assert Event.objects.filter(name="approvals.case.submitted").count() == 1
    with pytest.raises(PermissionDenied):
        services.case_submit(actor=city.agent, case=draft)


def test_correction_is_one_notice_and_stops_before_acceptance(city):
    case = submit(city)
    request = services.case_correction_request(
        actor=city.clerk,
        case=case,
        items=[
            services.CorrectionItem(material="食品经营许可申请书", reason="未签字"),
            services.CorrectionItem(material="申请表", reason="经营场所地址不完整"),
        ],
        note="请一次补齐",
    )
    case.refresh_from_db()
    assert case.state == CaseState.CORRECTION
    assert request.sequence == 1
    notice = Notice.objects.get(case=case, kind="correction")
    assert notice.number == f"{case.number}-BZ01"
    body = "\n".join(notice.paragraphs)
    assert "1. 食品经营许可申请书 —— 未签字" in body
    assert "2. 申请表 —— 经营场所地址不完整" in body
    assert not case.materials.get(name="食品经营许可申请书").is_checked
    # a second notice while the first is open breaks 一次性告知
    with pytest.raises(ValidationError) as caught:
        services.case_correction_request(
            actor=city.clerk,
            case=case,
            items=[services.CorrectionItem(material="营业执照", reason="过期")],
        )
    assert caught.value.messages == ["上一次补正告知尚未答复，不能再次告知"]
    # the applicant answers with a new upload; the old one is kept, not current
    answered = services.case_correction_answer(
        actor=city.citizen,
        case=case,
        materials=city.materials(),
        form_data={"address": "中山路1号"},
        note="已签字",
    )
    assert answered.state == CaseState.SUBMITTED
    assert answered.form_data == {"address": "中山路1号"}
    rows = CaseMaterial.objects.filter(case=case, name="食品经营许可申请书").order_by("pk")
    assert [(row.round, row.is_current) for row in rows] == [(0, False), (1, True)]
    request.refresh_from_db()
    assert request.answered_at is not None
    second = services.case_correction_request(
        actor=city.clerk,
        case=case,
        items=[services.CorrectionItem(material="营业执照", reason="证照信息不一致")],
    )
    assert second.sequence == 2
    names = list(
        Event.objects.filter(name__startswith="approvals.case.correction")
        .order_by("occurred_at")
        .values_list("name", "payload__correction_count")
    )
    first = Event.objects.filter(name="approvals.case.correction_requested").earliest("occurred_at")
    assert first.payload["extra"] == {
        "sequence": 1,
        "items": 2,
        "working_days_after_receipt": 0,
    }
    assert names == [
        ("approvals.case.correction_requested", 1),
        ("approvals.case.correction_answered", 1),
        ("approvals.case.correction_requested", 2),
    ]


def test_correction_needs_reasons_and_listed_materials(city):
    case = submit(city)
    with pytest.raises(ValidationError):
        services.case_correction_request(actor=city.clerk, case=case, items=[])
    with pytest.raises(ValidationError):
        services.case_correction_request(
            actor=city.clerk,
            case=case,
            items=[services.CorrectionItem(material="食品经营许可申请书", reason=" ")],
        )
    with pytest.raises(ValidationError) as caught:
        services.case_correction_request(
            actor=city.clerk,
            case=case,
            items=[services.CorrectionItem(material="结婚证", reason="缺")],
        )
    assert caught.value.message_dict["items"] == ["以下内容不在材料清单中：结婚证"]
    assert CorrectionRequest.objects.count() == 0


def test_refusing_acceptance_needs_reasons_and_ends_the_case(city):
    case = submit(city)
    with pytest.raises(ValidationError):
        services.case_refuse_acceptance(actor=city.clerk, case=case, reasons="  ")
    refused = services.case_refuse_acceptance(
        actor=city.clerk, case=case, reasons="申请事项依法不需要取得行政许可"
    )
    assert refused.state == CaseState.NOT_ACCEPTED
    assert refused.end_reason == "申请事项依法不需要取得行政许可"
    notice = Notice.objects.get(case=case, kind="not_accepted")
    assert "申请事项依法不需要取得行政许可" in notice.paragraphs
    assert any("行政复议" in paragraph for paragraph in notice.paragraphs)
    with pytest.raises(ValidationError):
        accept(city, refused)


def test_acceptance_checks_materials_and_starts_clock_and_process(city):
    case = submit(city)
    with pytest.raises(ValidationError) as caught:
        services.case_accept(actor=city.clerk, case=case)
    assert caught.value.message_dict["checked"] == ["以下材料尚未核验：食品经营许可申请书"]
    services.case_receive(actor=city.clerk, case=case, checked=["食品经营许可申请书"])
    accepted = services.case_accept(actor=city.clerk, case=case)
    assert accepted.state == CaseState.ACCEPTED
    assert accepted.accepted_at is not None
    assert accepted.accepted_by == city.clerk
    assert Notice.objects.get(case=case, kind="acceptance").number == f"{case.number}-SL01"
    tasks = list(WorkTask.objects.filter(instance_id=accepted.process_instance_id).order_by("pk"))
    assert [(t.spec_id, t.state) for t in tasks] == [
        ("accept", "completed"),
        ("review_1", "ready"),
    ]
    assert tasks[1].name == "审查"
    assert tasks[1].due_days == 7
    assert tasks[1].department_code == "SCJG"
    payload = Event.objects.get(name="approvals.case.accepted").payload
    assert payload["accepted_at"] == accepted.accepted_at.isoformat()
    assert payload["working_days_used"] == 0
    assert payload["working_days_left"] == 10
    assert payload["legal_days_left"] == 20
    assert payload["promised_deadline"] is not None
    assert [row.verb for row in accepted.timeline.all()] == ["submitted", "received", "accepted"]


def test_a_clerk_of_another_department_cannot_accept_and_nothing_changes(city):
    case = submit(city)
    with pytest.raises(PermissionDenied):
        services.case_accept(actor=city.outsider, case=case, checked=["食品经营许可申请书"])
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert not case.materials.filter(is_checked=True).exists()
    assert AuditEntry.objects.filter(action="approvals.case.accept", outcome="denied").count() == 1


def test_an_exception_mid_transition_leaves_the_case_unchanged(city, monkeypatch):
    case = submit(city)
    events_before = Event.objects.count()
    audits_before = AuditEntry.objects.count()

    def broken(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "event_publish", broken)
    with pytest.raises(RuntimeError):
        accept(city, case)
    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert case.accepted_at is None
    assert case.process_instance_id is None
    assert not case.materials.filter(is_checked=True).exists()
    assert not Notice.objects.filter(case=case).exists()
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert WorkTask.objects.count() == 0
    assert Event.objects.count() == events_before
    assert AuditEntry.objects.count() == audits_before
    monkeypatch.undo()
    assert accept(city, case).state == CaseState.ACCEPTED  # and it can be done afterwards


def test_withdraw_before_the_decision_cancels_the_process(city):
    case = accept(city, submit(city))
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=city.agent, case=case)
    withdrawn = services.case_withdraw(actor=city.citizen, case=case, reason="不开店了")
    assert withdrawn.state == CaseState.WITHDRAWN
    assert withdrawn.end_reason == "不开店了"
    assert not WorkTask.objects.filter(state__in=["ready", "claimed"]).exists()
    with pytest.raises(ValidationError):
        services.case_withdraw(actor=city.citizen, case=case)


def test_access_applicant_agent_staff_and_strangers(city):
    mine = submit(city)
    company = submit(
        city,
        actor=city.agent,
        applicant=services.ApplicantInput(kind="legal_person", legal_person=city.enterprise),
        materials=city.materials(city.agent),
    )
    assert access_case_by_id(city.citizen, mine.pk) == mine
    with pytest.raises(Http404):
        access_case_by_id(city.agent, mine.pk)
    assert access_case_by_id(city.agent, company.pk) == company
    assert access_case_by_id(city.officer, mine.pk) == mine  # review scope: the department
    assert access_case_by_id(city.supervisor, mine.pk) == mine  # read_all over the division
    with pytest.raises(Http404):
        access_case_by_id(city.outsider, mine.pk)
    assert access_case_by_id(city.clerk, mine.pk, "approvals.case.accept") == mine
    with pytest.raises(PermissionDenied):
        access_case_by_id(city.officer, mine.pk, "approvals.case.accept")
    with pytest.raises(PermissionDenied):
        access_case_by_id(city.supervisor, mine.pk, "approvals.case.decide")
    with pytest.raises(PermissionDenied):
        access_case_by_id(city.clerk, mine.pk, "applicant")


def test_rating_once_after_closing_and_bad_ones_are_followed_up(city, monkeypatch):
    case = accept(city, submit(city))
    with pytest.raises(ValidationError):
        services.case_rate(actor=city.citizen, case=case, level=5)
    Case.objects.filter(pk=case.pk).update(state=CaseState.DELIVERED)
    with pytest.raises(ValidationError) as caught:
        services.case_rate(actor=city.citizen, case=case, level=2)
    assert caught.value.message_dict["comment"] == ["差评请写明不满意的原因，以便整改"]
    rating = services.case_rate(actor=city.citizen, case=case, level=2, comment="等太久")
    assert rating.needs_follow_up is True
    assert rating.is_bad is True
    with pytest.raises(ValidationError) as caught:
        services.case_rate(actor=city.citizen, case=case, level=5)
    assert caught.value.messages == ["该办件已评价，每件只能评价一次"]
    assert Rating.objects.count() == 1
    payload = Event.objects.get(name="approvals.case.rated").payload
    assert payload["extra"] == {"level": 2, "needs_follow_up": True}


def test_send_back_returns_an_application(city):
    case = submit(city)
    returned = services.case_send_back(actor=city.clerk, case=case, reason="应向区级部门申请")
    assert returned.state == CaseState.RETURNED
    assert Notice.objects.get(case=case).kind == "returned"
    assert Event.objects.filter(name="approvals.case.sent_back").count() == 1


def test_another_department_item_uses_its_area_in_the_number(city):
    police = builders.department("GAJ2", "示范市公安局交警支队")
    version = builders.published_item(police, basic_code="000150001000", name="驾驶证补证")
    case = services.case_submit(
        actor=city.citizen,
        item_id=version.item_id,
        materials=city.materials(),
    )
    assert case.department_code == "GAJ2"
    assert case.number.startswith("990100000000")


def test_material_files_are_readable_by_the_cases_staff_only(city):
    from tongban.platform.files.services import file_can_read

    case = submit(city)
    stored = case.materials.get(name="食品经营许可申请书").file
    assert file_can_read(city.citizen, stored)  # the uploader
    assert file_can_read(city.officer, stored)
    assert not file_can_read(city.outsider, stored)
    assert not file_can_read(city.agent, stored)
