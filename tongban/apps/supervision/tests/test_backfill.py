"""Backfill: approvals cases without events → canonical history events → the projection."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from tongban.apps.approvals import public
from tongban.apps.approvals.tests.conftest import make_city
from tongban.apps.supervision import backfill, handlers, services
from tongban.apps.supervision.models import Alert, CaseStatus, ReceivedEvent, SupervisedCase
from tongban.apps.supervision.tests.test_handlers import accept, deliver, review, submit
from tongban.platform.calendar import services as calendar_services
from tongban.platform.events.models import Delivery

pytestmark = pytest.mark.django_db

TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def city(db):
    calendar_services.calendar_seed()
    calendar_services.get_calendar(refresh=True)
    services.forget_org_cache()
    handlers._ITEM_CODES.clear()
    yield make_city(for_legal_persons=True)
    calendar_services.invalidate()


def silent_cases(city, count: int) -> list:
    """Cases as history leaves them: written, their events never delivered."""
    cases = [review(city, accept(city, submit(city))) for _ in range(count)]
    Delivery.objects.all().delete()
    return cases


def test_timelines_come_in_id_order_in_chunks_without_joint_parents(city):
    cases = silent_cases(city, 3)
    chunks = list(public.case_timelines(chunk=2))
    assert [[t.id for t in chunk] for chunk in chunks] == [
        [cases[0].pk, cases[1].pk],
        [cases[2].pk],
    ]
    first = chunks[0][0]
    assert (first.number, first.department_code, first.state) == (
        cases[0].number,
        "SCJG",
        "in_review",
    )
    assert first.accepted_by == "clerk"
    assert first.working_days_used == 0
    assert first.promised_deadline is not None
    assert list(public.case_timelines(after_id=cases[2].pk)) == []


def test_timeline_events_have_history_ids_and_the_clock_deadlines():
    moment = dt.datetime(2026, 3, 2, 10, tzinfo=TZ)
    timeline = public.CaseTimeline(
        id=7,
        number="N7",
        parent_number="",
        department_code="SCJG",
        item_id=3,
        item_version_id=4,
        item_code="",
        item_name="食品经营许可",
        case_type="promised",
        state="delivered",
        outcome="refused",
        legal_limit_days=20,
        promised_limit_days=10,
        submitted_at=moment,
        accepted_at=moment,
        decided_at=moment + dt.timedelta(days=14),
        closed_at=moment + dt.timedelta(days=14),
        delivered_at=moment + dt.timedelta(days=15),
        ended_at=None,
        end_reason="",
        decision_reasons="",
        accepted_by="clerk",
        decided_by="leader",
        corrections=(
            public.TimelineCorrection(moment, moment, 1),
            public.TimelineCorrection(moment, moment, 2),
        ),
        pauses=(),
        extensions=(),
        rating_level=2,
        rated_at=moment + dt.timedelta(days=16),
        legal_deadline=dt.date(2026, 3, 30),
        promised_deadline=dt.date(2026, 3, 16),
        working_days_used=10,
        paused_days=0,
        extension_days=0,
        as_of=moment,
    )
    events = backfill.timeline_events(timeline, units={"leader": ("SCJG-LD", "SCJG")})
    assert [event["id"] for event in events] == [
        "approvals-history:7:opened",
        "approvals-history:7:correction_requested:1",
        "approvals-history:7:correction_answered:1",
        "approvals-history:7:correction_requested:2",
        "approvals-history:7:correction_answered:2",
        "approvals-history:7:accepted",
        "approvals-history:7:decided",
        "approvals-history:7:closed",
        "approvals-history:7:delivered",
        "approvals-history:7:rated",
    ]
    decided = events[6]
    assert decided["handler"] == "leader"
    assert decided["unit"] == "SCJG-LD"
    assert decided["outcome"] == "refused"
    assert "reasons" not in decided  # a refusal without reasons: the rule will see it
    assert decided["promised_deadline"] == "2026-03-16"
    assert events[0]["item_code"] == "item-3"
    assert events[5]["handler"] == "clerk"
    assert "unit" not in events[5]  # no posting known for the clerk


def test_backfill_projects_history_and_a_second_run_is_all_duplicates(city):
    cases = silent_cases(city, 3)
    # opened and accepted (steps carry no limits in history); a case never straddles batches
    first = backfill.backfill_approvals(batch=3)
    assert (first.cases, first.skipped, first.accepted, first.rejected) == (3, 0, 6, 0)
    assert first.batches == 3
    supervised = SupervisedCase.objects.get(key=cases[0].number)
    assert supervised.status == CaseStatus.ACCEPTED
    assert supervised.handler == "clerk"
    assert supervised.event_count == 2
    again = backfill.backfill_approvals()
    assert (again.accepted, again.duplicates, again.batches) == (0, 6, 1)
    assert ReceivedEvent.objects.count() == 6
    assert Alert.objects.count() == 0


def test_live_events_and_the_backfill_do_not_describe_a_case_twice(city):
    followed = review(city, accept(city, submit(city)))
    assert set(deliver()) == {"done"}  # followed live
    silent = silent_cases(city, 1)[0]
    result = backfill.backfill_approvals()
    assert (result.cases, result.skipped) == (1, 1)
    assert not ReceivedEvent.objects.filter(
        case_key=followed.number, source_event_id__startswith="approvals-history:"
    ).exists()
    # the backfilled case's older events, delivered late, are covered by the backfill …
    ReceivedEvent.objects.filter(case_key=silent.number).update(
        received_at=dt.datetime(2100, 1, 1, tzinfo=TZ)
    )
    from tongban.platform.events.models import Event

    old = Event.objects.filter(name="approvals.case.accepted", payload__case_id=silent.pk).get()
    handlers.on_case_event(old)
    assert SupervisedCase.objects.get(key=silent.number).event_count == 2
    # … and an event newer than the backfill is applied (with the step it opened)
    ReceivedEvent.objects.filter(case_key=silent.number).update(
        received_at=dt.datetime(2001, 1, 1, tzinfo=TZ)
    )
    handlers.on_case_event(old)
    assert SupervisedCase.objects.get(key=silent.number).event_count == 4


def test_the_command_runs_twice(city):
    silent_cases(city, 2)
    out = StringIO()
    call_command("supervision_backfill", stdout=out)
    assert "2 cases (0 followed live, skipped): 4 events new, 0 already received" in out.getvalue()
    out = StringIO()
    call_command("supervision_backfill", stdout=out)
    assert "0 events new, 4 already received, 0 rejected" in out.getvalue()
