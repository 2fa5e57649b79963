"""approvals.case.* → supervision: real approvals cases driven through the approvals
services, their events delivered to ``handlers.on_case_event``, the projection checked."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from tongban.apps.approvals import services as approvals
from tongban.apps.approvals.tests.conftest import make_city
from tongban.apps.supervision import handlers
from tongban.apps.supervision.models import (
    Alert,
    AlertKind,
    CaseStatus,
    Correction,
    ReceivedEvent,
    SupervisedCase,
)
from tongban.platform.calendar import services as calendar_services
from tongban.platform.events.models import Delivery, DeliveryStatus
from tongban.platform.events.services import delivery_run
from tongban.platform.workflow.models import WorkTask

pytestmark = pytest.mark.django_db

SUBSCRIBER = "tongban.apps.supervision.handlers.on_case_event"


@pytest.fixture
def city(db):
    calendar_services.calendar_seed()
    calendar_services.get_calendar(refresh=True)
    services_cache_reset()
    yield make_city(for_legal_persons=True)
    calendar_services.invalidate()


def services_cache_reset() -> None:
    from tongban.apps.supervision import services

    services.forget_org_cache()
    handlers._ITEM_CODES.clear()


def deliver() -> list[str]:
    """Run the supervision deliveries still pending (what the worker would do)."""
    pending = Delivery.objects.filter(subscriber=SUBSCRIBER, status=DeliveryStatus.PENDING)
    return [
        delivery_run(pk)
        for pk in pending.order_by("event__occurred_at", "pk").values_list("pk", flat=True)
    ]


def submit(city):
    return approvals.case_submit(
        actor=city.citizen,
        item_id=city.item_id,
        idempotency_key="",
        applicant=approvals.ApplicantInput(contact_phone="13812345678"),
        materials=city.materials(),
    )


def accept(city, case):
    return approvals.case_accept(actor=city.clerk, case=case, checked=["食品经营许可申请书"])


def review(city, case):
    task = WorkTask.objects.get(
        instance_id=case.process_instance_id, role="review", state__in=["ready", "claimed"]
    )
    approvals.case_task_claim(actor=city.officer, case=case, task_id=task.pk)
    return approvals.case_task_complete(
        actor=city.officer, case=case, task_id=task.pk, opinion="材料齐全，符合条件"
    )


def test_a_full_lifecycle_builds_the_projection_and_a_redelivery_changes_nothing(city):
    case = review(city, accept(city, submit(city)))
    decided = approvals.case_decide(actor=city.leader, case=case, approve=True, opinion="同意")
    approvals.case_deliver(actor=city.clerk, case=decided, method="online")
    assert deliver() == ["done"] * 6
    supervised = SupervisedCase.objects.get(key=case.number)
    assert supervised.department == city.market
    assert supervised.status == CaseStatus.DELIVERED
    assert supervised.outcome == "approved"
    assert supervised.handler == "leader"  # the decider
    assert supervised.unit is not None
    assert supervised.unit.code == "SCJG-LD"  # the leader's primary posting
    assert supervised.item_code == handlers.item_code(
        {"item_version_id": case.item_version_id, "item_id": case.item_id}
    )
    assert supervised.item_code != ""
    assert (supervised.promised_limit_days, supervised.legal_limit_days) == (10, 20)
    assert supervised.working_days_used == 0
    assert supervised.completed_on == timezone.localdate(decided.closed_at)
    assert supervised.is_early is True
    # six approvals events, and the two steps they opened (review, decision)
    assert supervised.event_count == 8
    kinds = list(
        ReceivedEvent.objects.filter(case_key=case.number)
        .order_by("occurred_at", "id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "opened",
        "accepted",
        "step_started",
        "step_finished",
        "step_started",
        "decided",
        "closed",
        "delivered",
    ]
    assert all(
        event_id.startswith("approvals:")
        for event_id in ReceivedEvent.objects.values_list("source_event_id", flat=True)
    )
    assert Alert.objects.count() == 0
    # at least once: a second delivery of every event is a duplicate
    Delivery.objects.filter(subscriber=SUBSCRIBER).update(status=DeliveryStatus.PENDING)
    assert deliver() == ["done"] * 6
    supervised.refresh_from_db()
    assert supervised.event_count == 8
    assert ReceivedEvent.objects.count() == 8


def test_not_accepted_with_reasons_raises_nothing_and_ends_the_case(city):
    case = submit(city)
    approvals.case_refuse_acceptance(actor=city.clerk, case=case, reasons="不属于本机关职权范围")
    assert deliver() == ["done", "done"]
    supervised = SupervisedCase.objects.get(key=case.number)
    assert supervised.status == CaseStatus.NOT_ACCEPTED
    assert supervised.handler == ""  # the handler comes from acceptance, steps, decisions
    assert supervised.next_check_at is None
    assert Alert.objects.count() == 0


def test_a_case_decided_past_its_promised_limit_gets_a_yellow_card_with_a_correction(city):
    calendar = calendar_services.get_calendar()
    now = timezone.now()
    # accepted 12 working days ago: past the promised limit (10), within the legal (20)
    then = dt.datetime.combine(
        calendar.add_working_days(now, -12), dt.time(10), tzinfo=timezone.get_current_timezone()
    )
    with mock.patch.object(approvals, "_now", return_value=then):
        case = accept(city, submit(city))
    case = review(city, case)
    approvals.case_decide(actor=city.leader, case=case, approve=True, opinion="同意")
    assert set(deliver()) == {"done"}
    supervised = SupervisedCase.objects.get(key=case.number)
    assert supervised.is_overdue is True
    assert supervised.is_legally_overdue is False
    assert supervised.status == CaseStatus.DECIDED
    # delivered late (the acceptance arrives 12 working days after it happened): the
    # prompts the time-based rules missed fire as well, dated when they were due; the
    # review step took the 12 days too
    assert sorted(Alert.objects.values_list("kind", flat=True)) == [
        AlertKind.PROMPT_DAYS,
        AlertKind.PROMPT_RATIO,
        AlertKind.STEP_OVERRUN,
        AlertKind.YELLOW_CARD,
    ]
    alert = Alert.objects.get(kind=AlertKind.YELLOW_CARD)
    assert alert.department == city.market
    assert alert.handler == "clerk"  # the handler when the card fired (acceptance)
    assert supervised.promised_deadline is not None
    assert alert.occurred_on == supervised.promised_deadline + dt.timedelta(days=1)
    assert Correction.objects.filter(alert=alert).count() == 1


def test_a_bad_rating_and_a_refusal_map_to_their_events(city):
    case = review(city, accept(city, submit(city)))
    refused = approvals.case_decide(
        actor=city.leader,
        case=case,
        approve=False,
        reasons="经营场所与居住场所未有效隔离",
        appeal_rights=approvals.appeal_rights_default(case.department_name),
    )
    approvals.case_deliver(actor=city.clerk, case=refused, method="online")
    approvals.case_rate(actor=city.citizen, case=refused, level=1, comment="不满意")
    assert set(deliver()) == {"done"}
    supervised = SupervisedCase.objects.get(key=case.number)
    assert (supervised.outcome, supervised.rating) == ("refused", 1)
    # a refusal with reasons is no finding; the bad rating is
    assert list(Alert.objects.values_list("kind", flat=True)) == [AlertKind.BAD_RATING]


def test_the_mapping_skips_joint_parents_and_unapproved_extensions():
    payload = {
        "case_number": "P1",
        "is_joint": True,
        "department_code": "SCJG",
        "occurred_at": "2026-03-02T10:00:00+08:00",
    }
    assert handlers.intake_event("submitted", payload, event_id="x") is None
    payload["is_joint"] = False
    assert (
        handlers.intake_event(
            "extended", {**payload, "extra": {"days": 5, "approved": False}}, event_id="x"
        )
        is None
    )
    assert handlers.intake_event("claimed", payload, event_id="x") is None
    sent_back = handlers.intake_event(
        "sent_back", {**payload, "detail": "应向区级部门申请"}, event_id="y"
    )
    assert sent_back == {
        "id": "approvals:y",
        "kind": "withdrawn",
        "case": "P1",
        "occurred_at": "2026-03-02T10:00:00+08:00",
        "department": "SCJG",
        "legal_limit_days": 0,
        "promised_limit_days": 0,
        "detail": "退件：应向区级部门申请",
    }
    paused = handlers.intake_event(
        "paused", {**payload, "extra": {"kind": "hearing", "planned_days": 5}}, event_id="z"
    )
    assert paused is not None
    assert (paused["kind"], paused["pause_kind"], paused["pause_planned_days"]) == (
        "paused",
        "hearing",
        5,
    )


def test_a_running_step_is_timed_and_overruns_fire_on_the_minute_sweep(city):
    from tongban.apps.supervision import services

    case = accept(city, submit(city))
    assert set(deliver()) == {"done"}
    supervised = SupervisedCase.objects.get(key=case.number)
    task = WorkTask.objects.get(
        instance_id=case.process_instance_id, role="review", state__in=["ready", "claimed"]
    )
    assert task.due_days
    assert supervised.step_name == task.name
    assert supervised.step_limit_days == task.due_days
    assert supervised.step_deadline == calendar_services.get_calendar().add_working_days(
        task.created_at, task.due_days
    )
    assert supervised.next_check_at is not None
    # nothing is due yet; the day after the step's deadline the sweep fires the overrun
    assert services.clock_sweep(now=timezone.now()) == 0
    after = dt.datetime.combine(
        supervised.step_deadline + dt.timedelta(days=1),
        dt.time(0, 1),
        tzinfo=timezone.get_current_timezone(),
    )
    services.clock_sweep(now=after)
    assert Alert.objects.filter(case=supervised, kind=AlertKind.STEP_OVERRUN).count() == 1
    # completing the step later raises no second overrun for the same step
    review(city, case)
    assert set(deliver()) == {"done"}
    assert Alert.objects.filter(case=supervised, kind=AlertKind.STEP_OVERRUN).count() == 1
