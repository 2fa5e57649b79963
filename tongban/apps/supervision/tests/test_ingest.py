"""Intake and rules: events in, projection and alerts out (services, on a real database)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from tongban.apps.supervision import config, services
from tongban.apps.supervision.models import (
    Alert,
    CaseStatus,
    Correction,
    ReceivedEvent,
    SupervisedCase,
)
from tongban.apps.supervision.rules import ParamsError
from tongban.apps.supervision.tests.conftest import at, event, opened_and_accepted
from tongban.platform.audit.models import AuditEntry

# 2026-03: Mon 2, Fri 6, Mon 9 … (no holidays in March)


def test_a_lifecycle_builds_the_projection_and_counts_working_days(city):
    result = city.ingest(
        *opened_and_accepted("C1", at(2026, 3, 2)),
        event("decided", "C1", at(2026, 3, 9), outcome="approved"),
        event("closed", "C1", at(2026, 3, 9, 15)),
        now=at(2026, 3, 9, 16),
    )
    assert (result.accepted, result.duplicates, result.rejected, result.alerts) == (4, 0, [], 0)
    case = SupervisedCase.objects.get(key="C1")
    assert case.department == city.market
    assert case.unit == city.market_unit
    assert case.status == CaseStatus.CLOSED
    assert case.promised_deadline == dt.date(2026, 3, 16)  # 10 working days after 2 March
    assert case.legal_deadline == dt.date(2026, 3, 30)
    assert case.working_days_used == 5
    assert case.is_early
    assert not case.is_overdue
    assert case.completed_on == dt.date(2026, 3, 9)
    assert case.next_check_at is None
    entry = AuditEntry.objects.filter(action="supervision.events.ingest").latest("id")
    assert json.loads(entry.detail)["accepted"] == 4


def test_replayed_events_are_harmless_and_invalid_ones_are_rejected_one_by_one(city):
    events = opened_and_accepted("C2", at(2026, 3, 2))
    city.ingest(*events, now=at(2026, 3, 2, 11))
    bad = {"id": "x1", "kind": "exploded", "case": "C2", "occurred_at": at(2026, 3, 3).isoformat()}
    naive = {"id": "x2", "kind": "decided", "case": "C2", "occurred_at": "2026-03-03T10:00:00"}
    stranger = event("opened", "C3", at(2026, 3, 3), department="NOPE")
    orphan = event("decided", "C9", at(2026, 3, 3))
    result = city.ingest(
        *events,
        bad,
        naive,
        stranger,
        orphan,
        event("step_started", "C2", at(2026, 3, 3), step_name="审查", step_limit_days=3),
        now=at(2026, 3, 3, 11),
    )
    assert result.accepted == 1
    assert result.duplicates == 2
    codes = {rejection.id: rejection.code for rejection in result.rejected}
    assert codes["x1"] == "invalid_field"
    assert codes["x2"] == "naive_datetime"
    assert codes[stranger["id"]] == "unknown_department"
    assert codes[orphan["id"]] == "unknown_case"
    messages = [rejection.message for rejection in result.rejected]
    assert any("时区" in message for message in messages)
    assert ReceivedEvent.objects.filter(case_key="C2").count() == 3
    assert SupervisedCase.objects.get(key="C2").event_count == 3
    assert not SupervisedCase.objects.filter(key__in=["C3", "C9"]).exists()


def test_a_late_decision_raises_a_yellow_card_and_a_legal_breach_once(city):
    city.ingest(*opened_and_accepted("C4", at(2026, 3, 2), legal_limit_days=12))
    result = city.ingest(
        event("decided", "C4", at(2026, 3, 20), outcome="approved"), now=at(2026, 3, 20, 12)
    )
    kinds = sorted(Alert.objects.filter(case__key="C4").values_list("kind", flat=True))
    assert kinds == ["legal_breach", "yellow_card"]
    assert result.alerts == 2
    yellow = Alert.objects.get(case__key="C4", kind="yellow_card")
    assert yellow.occurred_on == dt.date(2026, 3, 17)  # the first day past the promise
    assert yellow.department == city.market
    assert yellow.handler == "zhang"
    assert Correction.objects.filter(alert=yellow).exists()
    case = SupervisedCase.objects.get(key="C4")
    assert case.is_overdue
    assert case.is_legally_overdue
    assert not case.is_early
    # the same decision replayed under a new id raises nothing new
    city.ingest(event("decided", "C4", at(2026, 3, 20), outcome="approved"))
    assert Alert.objects.filter(case__key="C4").count() == 2


def test_the_minute_sweep_fires_prompts_and_cards_at_their_moment(city):
    city.ingest(*opened_and_accepted("C5", at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    case = SupervisedCase.objects.get(key="C5")
    # 80% of 10 days used → 2 days left: at the start of Fri 13 March
    assert case.next_check_at == at(2026, 3, 13, 0)
    assert services.clock_sweep(now=at(2026, 3, 12, 23, 59)) == 0
    # 80% used and one working day before the deadline (Mon 16) fall on the same day
    assert services.clock_sweep(now=at(2026, 3, 13, 0, 1)) == 2
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["prompt_days", "prompt_ratio"]
    assert services.clock_sweep(now=at(2026, 3, 13, 0, 2)) == 0
    assert services.clock_sweep(now=at(2026, 3, 16, 23, 0)) == 0
    assert (
        services.clock_sweep(
            now=at(
                2026,
                3,
                17,
                0,
                0,
            )
        )
        == 1
    )  # yellow card
    assert Alert.objects.filter(kind="yellow_card", occurred_on=dt.date(2026, 3, 17)).exists()
    # prompts open no correction item; the card does
    assert Correction.objects.count() == 1
    assert services.clock_sweep(now=at(2026, 3, 18)) == 0


def test_event_rules(city):
    city.ingest(*opened_and_accepted("C6", at(2026, 3, 2)))
    city.ingest(
        event("correction_requested", "C6", at(2026, 3, 2, 11)),
        event("correction_requested", "C6", at(2026, 3, 2, 12)),
        event("step_started", "C6", at(2026, 3, 2, 13), step_name="审查", step_limit_days=2),
        event("step_finished", "C6", at(2026, 3, 6), step_name="审查"),
        event("fee_charged", "C6", at(2026, 3, 6), fee_amount="120.00", fee_standard="100.00"),
        event("decided", "C6", at(2026, 3, 6, 11), outcome="refused"),
        event("closed", "C6", at(2026, 3, 6, 12)),
        event("rated", "C6", at(2026, 3, 7), rating=1),
        now=at(2026, 3, 9),
    )
    kinds = sorted(Alert.objects.filter(case__key="C6").values_list("kind", flat=True))
    assert kinds == [
        "bad_rating",
        "fee_mismatch",
        "refusal_without_reasons",
        "repeated_corrections",
        "step_overrun",
    ]


def test_decision_without_acceptance_and_too_fast(city):
    config.rules_update(
        actor=city.supervisor, data={"min_handling_minutes": {"ITEM-1": 30}}, note="测试"
    )
    city.ingest(
        event(
            "opened",
            "C7",
            at(2026, 3, 2),
            department="SCJGJ",
            item_code="ITEM-1",
            promised_limit_days=5,
        ),
        event("decided", "C7", at(2026, 3, 3), outcome="approved"),
    )
    city.ingest(
        *opened_and_accepted("C8", at(2026, 3, 2)),
        event("decided", "C8", at(2026, 3, 2, 10, 5), outcome="approved"),
        event("closed", "C8", at(2026, 3, 2, 10, 10)),
    )
    assert Alert.objects.get(case__key="C7").kind == "decision_without_acceptance"
    assert Alert.objects.get(case__key="C8").kind == "too_fast"


def test_a_pause_beyond_its_planned_length(city):
    city.ingest(
        *opened_and_accepted("C10", at(2026, 3, 2)),
        event("paused", "C10", at(2026, 3, 3), pause_kind="expert_review", pause_planned_days=2),
        now=at(2026, 3, 3, 11),
    )
    case = SupervisedCase.objects.get(key="C10")
    assert case.status == CaseStatus.PAUSED
    assert case.next_check_at == at(2026, 3, 6, 0)  # after Thu 5 (two working days)
    assert services.clock_sweep(now=at(2026, 3, 6, 0, 1)) == 1
    city.ingest(event("resumed", "C10", at(2026, 3, 9)), now=at(2026, 3, 9, 11))
    case.refresh_from_db()
    assert case.paused_days == 4
    assert case.promised_deadline == dt.date(2026, 3, 20)
    assert Alert.objects.filter(case=case, kind="pause_overrun").count() == 1


def test_rule_changes_are_versioned_validated_and_audited(city):
    version = config.rules_update(actor=city.supervisor, data={"prompt_days_before": 2})
    assert version.number == 2
    assert config.rules_current()[1].prompt_days_before == 2
    with pytest.raises(ParamsError) as raised:
        config.rules_update(actor=city.supervisor, data={"prompt_elapsed_ratio": "1.5", "x": 1})
    assert "未知参数" in str(raised.value)
    assert "比例" in str(raised.value)
    assert config.rules_current()[0].number == 2
    assert AuditEntry.objects.filter(action="supervision.rulesetversion.create").count() >= 2


def test_fee_standard_decimal(city):
    city.ingest(*opened_and_accepted("C11", at(2026, 3, 2)))
    city.ingest(event("fee_charged", "C11", at(2026, 3, 3), fee_amount="100", fee_standard="100"))
    assert SupervisedCase.objects.get(key="C11").fee_amount == Decimal("100")
    assert not Alert.objects.filter(case__key="C11").exists()
