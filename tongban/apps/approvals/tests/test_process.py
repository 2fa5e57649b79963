"""Officers after acceptance: tasks, opinions, returns, countersigns, special procedures,
extensions, decisions with licences or written refusals, closing and delivery, 即办件."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.apps.approvals import selectors, services
from tongban.apps.approvals.models import (
    CaseState,
    Extension,
    Notice,
    Opinion,
    Outcome,
)
from tongban.apps.approvals.tests.conftest import make_city
from tongban.apps.approvals.tests.test_cases import accept, submit
from tongban.apps.licences import public as licences
from tongban.platform.events.models import Event
from tongban.platform.notify.models import Message
from tongban.platform.workflow.models import WorkTask

pytestmark = pytest.mark.django_db


def open_task(case, role: str = "review") -> WorkTask:
    return WorkTask.objects.get(
        instance_id=case.process_instance_id, role=role, state__in=["ready", "claimed"]
    )


def reviewed(city):
    case = accept(city, submit(city))
    task = open_task(case)
    services.case_task_claim(actor=city.officer, case=case, task_id=task.pk)
    return services.case_task_complete(
        actor=city.officer, case=case, task_id=task.pk, opinion="材料齐全，符合条件"
    )


def test_full_lifecycle_with_an_electronic_licence(city):
    case = reviewed(city)
    assert case.state == CaseState.IN_REVIEW
    assert open_task(case, "decide").name == "决定"
    decided = services.case_decide(actor=city.leader, case=case, approve=True, opinion="同意")
    assert decided.state == CaseState.DECIDED
    assert decided.outcome == Outcome.APPROVED
    assert decided.decided_by == city.leader
    [identifier] = decided.licence_identifiers
    info = licences.licence_get(identifier)
    assert info.holder_name == "张三"
    assert info.type_code == "000117001000"
    assert info.status == "valid"
    assert Notice.objects.get(case=case, kind="approval").number == f"{case.number}-ZY01"
    deliver_task = open_task(case, "deliver")
    delivered = services.case_deliver(actor=city.clerk, case=case, method="online")
    assert delivered.state == CaseState.DELIVERED
    assert delivered.closed_at is not None
    assert delivered.delivery_method == "online"
    deliver_task.refresh_from_db()
    assert deliver_task.state == "completed"
    assert [row.verb for row in delivered.timeline.all()] == [
        "submitted",
        "accepted",
        "claimed",
        "step_completed",
        "decided",
        "closed",
        "delivered",
    ]
    names = list(
        Event.objects.filter(name__startswith="approvals.case.")
        .order_by("occurred_at")
        .values_list("name", flat=True)
    )
    assert names == [
        "approvals.case.submitted",
        "approvals.case.accepted",
        "approvals.case.step_completed",
        "approvals.case.decided",
        "approvals.case.closed",
        "approvals.case.delivered",
    ]
    step = Event.objects.get(name="approvals.case.step_completed").payload
    assert (step["step_name"], step["step_role"], step["step_limit_days"]) == ("审查", "review", 7)
    assert step["step_days_used"] == 0
    final = Event.objects.get(name="approvals.case.delivered").payload
    assert final["outcome"] == "approved"
    assert final["decided_at"] == decided.decided_at.isoformat()
    assert final["working_days_used"] == 0
    assert (
        Message.objects.filter(recipient=city.citizen, category="approvals").count() == 5
    )  # closing and delivery: one message
    detail = selectors.case_detail(actor=city.citizen, case=delivered)
    assert [licence.identifier for licence in detail.licences] == [identifier]
    assert detail.opinions == []  # internal opinions are not shown to the applicant
    assert "case_rate" in detail.actions


def test_a_second_officer_completing_the_same_task_is_refused(city):
    case = accept(city, submit(city))
    task = open_task(case)
    services.case_task_complete(actor=city.officer, case=case, task_id=task.pk, opinion="同意")
    with pytest.raises(ValidationError) as caught:
        services.case_task_complete(actor=city.officer2, case=case, task_id=task.pk, opinion="同意")
    assert caught.value.messages == ["该环节已由他人办理，请刷新后查看最新进度"]
    assert Opinion.objects.filter(case=case).count() == 1


def test_a_claimed_task_is_not_completed_by_another(city):
    case = accept(city, submit(city))
    task = open_task(case)
    services.case_task_claim(actor=city.officer, case=case, task_id=task.pk)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.case_task_claim(actor=city.officer2, case=case, task_id=task.pk)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.case_task_complete(actor=city.officer2, case=case, task_id=task.pk, opinion="同意")


def test_officers_of_another_department_cannot_review(city):
    case = accept(city, submit(city))
    with pytest.raises(PermissionDenied):
        services.case_task_complete(
            actor=city.outsider, case=case, task_id=open_task(case).pk, opinion="同意"
        )


def test_decision_waits_for_the_review_steps(city):
    case = accept(city, submit(city))
    with pytest.raises(ValidationError) as caught:
        services.case_decide(actor=city.leader, case=case, approve=True)
    assert caught.value.messages == ["审查环节尚未完成，还不能作出决定"]


def test_return_to_the_review_step(city):
    case = reviewed(city)
    decide = open_task(case, "decide")
    with pytest.raises(ValidationError):
        services.case_return(
            actor=city.leader, case=case, task_id=decide.pk, to_spec_id="review_1", reason=" "
        )
    services.case_return(
        actor=city.leader,
        case=case,
        task_id=decide.pk,
        to_spec_id="review_1",
        reason="请核实经营场所面积",
    )
    again = open_task(case, "review")
    assert again.spec_id == "review_1"
    decide.refresh_from_db()
    assert decide.state == "completed"
    payload = Event.objects.get(name="approvals.case.returned").payload
    assert payload["step_name"] == "决定"
    assert "请核实经营场所面积" in payload["detail"]


def test_refusal_needs_reasons_and_appeal_rights_and_is_written(city):
    case = reviewed(city)
    with pytest.raises(ValidationError) as caught:
        services.case_decide(actor=city.leader, case=case, approve=False, reasons="场所不符")
    assert list(caught.value.message_dict) == ["appeal_rights"]
    rights = services.appeal_rights_default(case.department_name)
    refused = services.case_decide(
        actor=city.leader,
        case=case,
        approve=False,
        reasons="经营场所与居住场所未有效隔离",
        appeal_rights=rights,
    )
    assert refused.outcome == Outcome.REFUSED
    assert refused.licence_identifiers == []
    notice = Notice.objects.get(case=case, kind="refusal")
    assert "经营场所与居住场所未有效隔离" in notice.paragraphs
    assert rights in notice.paragraphs
    assert "六十日内" in rights
    assert "六个月内" in rights
    assert licences.licences_for_source(f"approvals.case:{case.pk}") == []


def test_countersign_must_be_answered_before_the_step_completes(city):
    case = accept(city, submit(city))
    police = city.outsider.postings.get().unit.department
    countersign = services.case_countersign_request(
        actor=city.officer, case=case, department=police, question="请核查申请人有无违法记录"
    )
    with pytest.raises(ValidationError):
        services.case_task_complete(
            actor=city.officer, case=case, task_id=open_task(case).pk, opinion="同意"
        )
    assert list(selectors.countersigns_open_for(actor=city.outsider)) == [countersign]
    with pytest.raises(PermissionDenied):
        services.case_countersign_answer(
            actor=city.officer, countersign=countersign, agrees=True, answer="无"
        )
    services.case_countersign_answer(
        actor=city.outsider, countersign=countersign, agrees=True, answer="经核查无违法记录"
    )
    services.case_task_complete(
        actor=city.officer, case=case, task_id=open_task(case).pk, opinion="同意"
    )
    texts = list(Opinion.objects.filter(case=case).values_list("text", flat=True))
    assert texts == ["同意：经核查无违法记录", "同意"]


def test_special_procedure_pauses_the_clock_and_notifies_in_writing(db):
    city = make_city(special_procedures=("hearing", "expert_review"))
    case = accept(city, submit(city))
    with pytest.raises(ValidationError) as caught:
        services.case_pause_start(actor=city.officer, case=case, kind="auction", reason="x")
    assert caught.value.message_dict["kind"] == ["该事项的办事指南未列明此特别程序"]
    pause = services.case_pause_start(
        actor=city.officer,
        case=case,
        kind="hearing",
        reason="涉及相邻权利人重大利益",
        planned_days=5,
    )
    assert pause.notice.kind == "special_procedure"
    assert any("第四十五条" in paragraph for paragraph in pause.notice.paragraphs)
    assert Message.objects.filter(recipient=city.citizen, body__contains="听证").count() == 1
    with pytest.raises(ValidationError):  # one at a time
        services.case_pause_start(actor=city.officer, case=case, kind="expert_review", reason="y")
    with pytest.raises(ValidationError):  # no step while paused
        services.case_task_complete(
            actor=city.officer, case=case, task_id=open_task(case).pk, opinion="同意"
        )
    services.case_pause_end(actor=city.officer, case=case, result="听证会已举行")
    with pytest.raises(ValidationError):
        services.case_pause_end(actor=city.officer, case=case)
    paused = Event.objects.get(name="approvals.case.paused").payload
    resumed = Event.objects.get(name="approvals.case.resumed").payload
    assert paused["detail"] == resumed["detail"] == "听证"
    assert resumed["paused_days"] == 0  # started and ended on the same day
    assert paused["extra"] == {"kind": "hearing", "planned_days": 5}
    assert resumed["extra"] == {"kind": "hearing", "planned_days": 5, "pause_days": 0}


def test_extension_is_approved_by_a_leader_within_the_legal_maximum(city):
    case = accept(city, submit(city))
    with pytest.raises(ValidationError) as caught:
        services.case_extension_request(actor=city.officer, case=case, days=11, reason="需现场核查")
    assert caught.value.message_dict["days"] == ["延长期限最多10个工作日（已延长0个工作日）"]
    extension = services.case_extension_request(
        actor=city.officer, case=case, days=7, reason="需现场核查"
    )
    with pytest.raises(PermissionDenied):  # officers do not approve
        services.case_extension_approve(actor=city.officer2, extension=extension)
    approved = services.case_extension_approve(
        actor=city.leader, extension=extension, comment="同意"
    )
    assert approved.state == "approved"
    assert approved.approver == city.leader
    payload = Event.objects.get(name="approvals.case.extended").payload
    assert payload["extension_days"] == 7
    assert payload["legal_days_left"] == 27
    assert payload["working_days_left"] == 17
    assert Notice.objects.filter(case=case, kind="extension").count() == 1
    second = services.case_extension_request(
        actor=city.officer, case=case, days=3, reason="还需专家意见"
    )
    with pytest.raises(ValidationError):
        services.case_extension_request(actor=city.officer, case=case, days=1, reason="再来")
    services.case_extension_approve(actor=city.leader, extension=second)
    third = Extension.objects.create(
        case=case,
        days=1,
        reason="超限",
        requested_by=city.officer,
        requested_at=second.requested_at,
    )
    with pytest.raises(ValidationError):  # 7 + 3 + 1 > 10
        services.case_extension_approve(actor=city.leader, extension=third)


def test_a_leader_does_not_approve_their_own_extension(city):
    case = accept(city, submit(city))
    extension = services.case_extension_request(
        actor=city.leader, case=case, days=2, reason="需要补充调查"
    )
    with pytest.raises(ValidationError):
        services.case_extension_approve(actor=city.leader, extension=extension)


def test_an_instant_item_is_decided_on_the_spot(db):
    city = make_city(case_type="instant", legal_limit_days=1, promised_limit_days=0)
    case = submit(city)
    with pytest.raises(ValidationError):
        accept(city, case)
    done = services.case_decide_on_the_spot(
        actor=city.clerk, case=case, approve=True, checked=["食品经营许可申请书"]
    )
    assert done.state == CaseState.DELIVERED
    assert done.decided_at >= done.accepted_at
    assert done.delivery_method == "collect"
    assert done.process_instance_id is None
    names = list(
        Event.objects.filter(name__startswith="approvals.case.")
        .order_by("occurred_at")
        .values_list("name", flat=True)
    )
    assert names[1:] == [
        "approvals.case.accepted",
        "approvals.case.decided",
        "approvals.case.closed",
        "approvals.case.delivered",
    ]


def test_inbox_lists_the_officers_tasks_with_clocks(city):
    case = accept(city, submit(city))
    entries = selectors.task_inbox(actor=city.officer)
    assert [(entry.case.pk, entry.task.spec_id) for entry in entries] == [(case.pk, "review_1")]
    assert entries[0].step.limit_days == 7
    assert entries[0].clock.promised_days_left == 10
    assert selectors.task_inbox(actor=city.outsider) == []
    detail = selectors.case_detail(actor=city.officer, case=case)
    assert {"case_task_complete", "case_pause_start", "case_countersign_request"} <= detail.actions
    assert "case_decide" not in detail.actions
    assert "case_accept" not in detail.actions


def test_public_summaries_and_counts_for_supervision(city):
    from tongban.apps.approvals import public

    done = reviewed(city)
    services.case_decide(actor=city.leader, case=done, approve=True)
    services.case_close(actor=city.leader, case=done)
    waiting = accept(city, submit(city))
    submit(city)
    summary = public.case_summary(done.number)
    assert summary.state == "closed"
    assert summary.working_days_used == 0
    assert summary.working_days_left == 10
    assert summary.department_code == "SCJG"
    assert public.case_summary("nope") is None
    numbers = [waiting.number, "missing", done.number]
    assert [s.number for s in public.case_summaries(numbers)] == [waiting.number, done.number]
    counts = public.case_counts(department_code="SCJG")
    assert (counts.received, counts.accepted, counts.completed) == (3, 2, 1)
    assert (counts.completed_promised, counts.completed_early, counts.completed_overdue) == (
        1,
        1,
        0,
    )
    assert (counts.in_progress, counts.overdue_now) == (1, 0)
    assert public.case_counts(department_code="GAJ").received == 0
