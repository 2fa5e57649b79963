"""Warning and correction (预警纠错): notifications, the correction flow, escalation to a red
card, manual alerts, scoping (services, on a real database)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tongban.apps.supervision import config, corrections, permissions, services, workbench
from tongban.apps.supervision.models import (
    Alert,
    AlertKind,
    AlertState,
    Correction,
    CorrectionAction,
    CorrectionEntry,
    CorrectionState,
    Dimension,
    Severity,
    SupervisedCase,
)
from tongban.apps.supervision.tests.conftest import at, event, opened_and_accepted
from tongban.platform.access.models import Scope
from tongban.platform.audit.models import AuditEntry
from tongban.platform.notify.models import Channel, ChannelDelivery, DeliveryState, Message

# 2026-03: Mon 2 … Fri 6, Mon 9 … Fri 13, Mon 16 … (no holidays in March)


def yellow_card(city, case: str = "C1") -> Alert:
    """A case accepted on Mon 2 March with a 10-day promise (due Mon 16), swept on Tue 17
    at midnight: a yellow card, its correction item due three working days later."""
    city.ingest(*opened_and_accepted(case, at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    services.clock_sweep(now=at(2026, 3, 17, 0, 0))
    return Alert.objects.get(case__key=case, kind=AlertKind.YELLOW_CARD)


def with_mobiles(city) -> None:
    for user, number in ((city.handler, "13800000001"), (city.leader, "13800000002")):
        user.set_mobile(number)
        user.save()


def test_an_alert_notifies_the_handler_and_the_leader_in_app_and_by_sms(city):
    with_mobiles(city)
    alert = yellow_card(city)
    item = alert.correction
    assert item.due_on == dt.date(2026, 3, 20)  # 3 working days after Tue 17
    assert item.state == CorrectionState.OPEN
    assert [e.action for e in item.entries.all()] == [CorrectionAction.OPENED]
    card_messages = Message.objects.filter(template_code=corrections.TEMPLATE_ALERT).order_by(
        "recipient__username"
    )
    # prompts notify too (two prompts on Fri 13 were swept in the same run) but open nothing
    assert Message.objects.filter(template_code=corrections.TEMPLATE_ALERT).count() == 6
    yellow_messages = [m for m in card_messages if "黄牌" in m.subject]
    assert sorted(m.recipient.username for m in yellow_messages) == ["wang", "zhang"]
    message = yellow_messages[0]
    assert message.category == "supervision"
    assert message.link == f"/supervision/alerts/{alert.pk}/"
    assert message.subject == "【黄牌】黄牌（超承诺时限）：办件C1"
    assert "请于2026-03-20前说明情况或完成整改" in message.body
    assert message.sms_text.startswith(
        "【电子监察】示范市市场监督管理局办件C1（食品经营许可）黄牌（超承诺时限）：已超过承诺期限"
    )
    sms = ChannelDelivery.objects.filter(message__in=yellow_messages, channel=Channel.SMS)
    assert sorted(d.status for d in sms) == [DeliveryState.PENDING, DeliveryState.PENDING]
    in_app = ChannelDelivery.objects.filter(message__in=yellow_messages, channel=Channel.IN_APP)
    assert [d.status for d in in_app] == [DeliveryState.SENT, DeliveryState.SENT]
    prompts = Alert.objects.filter(kind__in=[AlertKind.PROMPT_DAYS, AlertKind.PROMPT_RATIO])
    assert prompts.count() == 2
    assert not Correction.objects.filter(alert__in=prompts).exists()


def test_without_a_leader_posting_the_department_respondents_are_told(city):
    # the health department has no leader posting: its CORRECTION_RESPOND holders are
    health_case = opened_and_accepted("H1", at(2026, 3, 2), department="WJW", unit="WJW-YZ")
    health_case[0]["handler"] = "nobody"
    city.ingest(*health_case, now=at(2026, 3, 2, 11))
    services.clock_sweep(now=at(2026, 3, 17, 0, 0))
    yellow = Alert.objects.get(kind=AlertKind.YELLOW_CARD)
    recipients = set(
        Message.objects.filter(link=f"/supervision/alerts/{yellow.pk}/").values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {"li"}


def test_an_alert_raised_for_long_ago_opens_its_item_but_notifies_nobody(city):
    city.ingest(*opened_and_accepted("OLD", at(2026, 1, 5)), now=at(2026, 1, 5, 11))
    services.clock_sweep(now=at(2026, 3, 2))  # history: the card's moment was in January
    yellow = Alert.objects.get(kind=AlertKind.YELLOW_CARD)
    assert Correction.objects.filter(alert=yellow).exists()
    assert Message.objects.count() == 0


def test_explain_then_accept_closes_the_item_and_the_alert_on_time(city):
    alert = yellow_card(city)
    item = corrections.correction_explain(
        actor=city.handler,
        correction=alert.correction,
        text="申请人补充材料延误，已办结",
        rectified=True,
        now=at(2026, 3, 19, 9),
    )
    assert item.state == CorrectionState.EXPLAINED
    assert item.explained_at == at(2026, 3, 19, 9)
    item = corrections.correction_accept(
        actor=city.supervisor, correction=item, note="同意", now=at(2026, 3, 23, 9)
    )
    item.refresh_from_db()
    assert item.state == CorrectionState.ACCEPTED
    assert item.is_on_time is True
    assert item.closed_at == at(2026, 3, 23, 9)
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED
    assert [(e.action, e.text, e.actor) for e in item.entries.all()] == [
        (CorrectionAction.OPENED, "", None),
        (CorrectionAction.RECTIFIED, "申请人补充材料延误，已办结", city.handler),
        (CorrectionAction.ACCEPTED, "同意", city.supervisor),
    ]
    actions = list(
        AuditEntry.objects.filter(action__startswith="supervision.correction.")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["supervision.correction.explain", "supervision.correction.accept"]


def test_an_explanation_after_the_due_date_is_accepted_as_late(city):
    alert = yellow_card(city)
    item = corrections.correction_explain(
        actor=city.leader,
        correction=alert.correction,
        text="说明",
        rectified=False,
        now=at(2026, 3, 21, 9),  # due Fri 20
    )
    item = corrections.correction_accept(actor=city.supervisor, correction=item)
    assert item.is_on_time is False


def test_reject_needs_a_reason_and_reopens_with_a_new_due_date(city):
    alert = yellow_card(city)
    item = corrections.correction_explain(
        actor=city.handler,
        correction=alert.correction,
        text="说明",
        rectified=False,
        now=at(2026, 3, 18, 9),
    )
    with pytest.raises(ValidationError) as error:
        corrections.correction_reject(actor=city.supervisor, correction=item, reason="  ")
    assert error.value.messages == ["退回时必须填写理由"]
    item.refresh_from_db()
    assert item.state == CorrectionState.EXPLAINED
    before = Message.objects.count()
    item = corrections.correction_reject(
        actor=city.supervisor,
        correction=item,
        reason="说明不充分",
        now=at(2026, 3, 19, 15),
    )
    item.refresh_from_db()
    assert item.state == CorrectionState.OPEN
    assert item.explained_at is None
    assert item.due_on == dt.date(2026, 3, 24)  # 3 working days after Thu 19
    assert [e.action for e in item.entries.all()][-1] == CorrectionAction.REJECTED
    returned = Message.objects.filter(template_code=corrections.TEMPLATE_RETURNED)
    assert Message.objects.count() - before == 2
    assert all("说明不充分" in message.body for message in returned)
    # accepting an open item is refused
    with pytest.raises(ValidationError):
        corrections.correction_accept(actor=city.supervisor, correction=item)


def test_a_bad_explanation_saves_nothing(city):
    alert = yellow_card(city)
    with pytest.raises(ValidationError) as error:
        corrections.correction_explain(
            actor=city.handler, correction=alert.correction, text="", rectified=False
        )
    assert error.value.messages == ["请填写情况说明或整改情况"]
    assert CorrectionEntry.objects.filter(correction=alert.correction).count() == 1
    assert Correction.objects.get(pk=alert.correction.pk).state == CorrectionState.OPEN


def test_another_department_may_not_explain_and_nothing_changes(city):
    alert = yellow_card(city)
    with pytest.raises(PermissionDenied):
        corrections.correction_explain(
            actor=city.health_handler, correction=alert.correction, text="x", rectified=False
        )
    # a department officer is no supervisor either
    corrections.correction_explain(
        actor=city.handler, correction=alert.correction, text="说明", rectified=False
    )
    with pytest.raises(PermissionDenied):
        corrections.correction_accept(actor=city.handler, correction=alert.correction)
    item = Correction.objects.get(pk=alert.correction.pk)
    assert item.state == CorrectionState.EXPLAINED
    assert CorrectionEntry.objects.filter(correction=item).count() == 2
    denied = AuditEntry.objects.filter(outcome="denied").values_list("action", flat=True)
    assert sorted(denied) == [permissions.CORRECTION_RESPOND, permissions.CORRECTION_REVIEW]


def test_an_unrectified_yellow_card_escalates_to_a_red_card(city):
    with_mobiles(city)
    alert = yellow_card(city)
    assert corrections.corrections_escalate(now=at(2026, 3, 20, 23)) == 0  # still due today
    assert corrections.corrections_escalate(now=at(2026, 3, 21, 1)) == 1
    item = Correction.objects.get(alert=alert)
    assert item.state == CorrectionState.ESCALATED
    assert [e.action for e in item.entries.all()] == [
        CorrectionAction.OPENED,
        CorrectionAction.ESCALATED,
    ]
    assert [e.text for e in item.entries.all()][-1] == "逾期未整改，升级为红牌"
    red = Alert.objects.get(kind=AlertKind.RED_CARD)
    assert red.escalated_from == alert
    assert red.dedupe_key == f"red_card:{alert.pk}"
    assert (red.severity, red.dimension) == (Severity.RED, Dimension.TIMELINESS)
    assert (red.department, red.unit, red.handler) == (city.market, city.market_unit, "zhang")
    assert red.occurred_on == dt.date(2026, 3, 21)
    assert red.correction.due_on == dt.date(2026, 3, 25)  # 3 working days after Sat 21
    assert sorted(
        Message.objects.filter(link=f"/supervision/alerts/{red.pk}/").values_list(
            "recipient__username", flat=True
        )
    ) == ["wang", "zhang"]
    # the hourly run again: nothing new
    assert corrections.corrections_escalate(now=at(2026, 3, 21, 2)) == 0
    assert Alert.objects.filter(kind=AlertKind.RED_CARD).count() == 1
    # the escalated yellow card's item is carried on by the red card's
    with pytest.raises(ValidationError):
        corrections.correction_explain(
            actor=city.handler, correction=item, text="x", rectified=False
        )
    # accepting the red card closes both cards
    red_item = corrections.correction_explain(
        actor=city.handler, correction=red.correction, text="已整改", rectified=True
    )
    corrections.correction_accept(actor=city.supervisor, correction=red_item)
    states = dict(Alert.objects.values_list("kind", "state"))
    assert states[AlertKind.YELLOW_CARD] == AlertState.CLOSED
    assert states[AlertKind.RED_CARD] == AlertState.CLOSED


def test_a_quiet_escalation_records_the_red_card_but_tells_nobody(city):
    with_mobiles(city)
    yellow_card(city)
    before = Message.objects.count()
    assert corrections.corrections_escalate(now=at(2026, 3, 21, 1), notify=False) == 1
    red = Alert.objects.get(kind=AlertKind.RED_CARD)
    assert red.correction.state == CorrectionState.OPEN
    assert Message.objects.count() == before


def test_red_card_after_days_delays_the_escalation(city):
    config.rules_update(actor=city.supervisor, data={"red_card_after_days": 2}, note="宽限")
    yellow_card(city)
    assert corrections.corrections_escalate(now=at(2026, 3, 24, 12)) == 0  # due 20 + 2 = 24
    assert corrections.corrections_escalate(now=at(2026, 3, 25, 0, 30)) == 1


def test_other_kinds_escalate_with_a_notice_to_the_leaders_and_may_still_be_explained(city):
    with_mobiles(city)
    city.ingest(*opened_and_accepted("C2", at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    city.ingest(event("decided", "C2", at(2026, 3, 3), outcome="refused"), now=at(2026, 3, 3, 11))
    refusal = Alert.objects.get(kind=AlertKind.REFUSAL_WITHOUT_REASONS)
    assert refusal.correction.due_on == dt.date(2026, 3, 6)
    assert corrections.corrections_escalate(now=at(2026, 3, 9, 8)) == 1
    assert not Alert.objects.filter(kind=AlertKind.RED_CARD).exists()
    notices = Message.objects.filter(template_code=corrections.TEMPLATE_ESCALATED)
    assert [m.recipient.username for m in notices] == ["wang"]
    item = corrections.correction_explain(
        actor=city.handler,
        correction=refusal.correction,
        text="已补充说明理由",
        rectified=True,
        now=at(2026, 3, 10),
    )
    item = corrections.correction_accept(actor=city.supervisor, correction=item)
    assert (item.state, item.is_on_time) == (CorrectionState.ACCEPTED, False)


def test_remind_notifies_and_records(city):
    alert = yellow_card(city)
    corrections.correction_remind(actor=city.supervisor, correction=alert.correction, text="请抓紧")
    assert [e.action for e in alert.correction.entries.all()][-1] == CorrectionAction.REMINDED
    reminders = Message.objects.filter(template_code=corrections.TEMPLATE_REMINDER)
    assert sorted(m.recipient.username for m in reminders) == ["wang", "zhang"]
    with pytest.raises(PermissionDenied):
        corrections.correction_remind(actor=city.handler, correction=alert.correction)


def test_a_manual_alert_opens_an_item_and_notifies(city):
    city.ingest(*opened_and_accepted("C3", at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    case = SupervisedCase.objects.get(key="C3")
    alert = corrections.alert_open_manual(
        actor=city.supervisor,
        department=city.market,
        case=case,
        dimension=Dimension.ATTITUDE,
        detail="12345热线投诉：窗口人员态度生硬",
        now=at(2026, 3, 4, 10),
    )
    assert (alert.kind, alert.severity, alert.dimension) == (
        AlertKind.MANUAL,
        Severity.WARNING,
        Dimension.ATTITUDE,
    )
    assert (alert.handler, alert.unit, alert.opened_by) == (
        "zhang",
        city.market_unit,
        city.supervisor,
    )
    assert alert.occurred_on == dt.date(2026, 3, 4)
    assert alert.correction.due_on == dt.date(2026, 3, 9)
    assert sorted(
        Message.objects.filter(link=f"/supervision/alerts/{alert.pk}/").values_list(
            "recipient__username", flat=True
        )
    ) == ["wang", "zhang"]
    entry = AuditEntry.objects.get(action="supervision.alert.open_manual")
    assert json.loads(entry.detail) == {"department": city.market.pk, "case": case.pk}


def test_a_manual_alert_with_bad_input_saves_nothing(city):
    city.ingest(*opened_and_accepted("C3", at(2026, 3, 2)), now=at(2026, 3, 2, 11))
    case = SupervisedCase.objects.get(key="C3")
    cases = [
        ({"detail": " "}, "请填写督办事由"),
        ({"dimension": "nope"}, "请选择考核维度"),
        ({"department": city.health}, "所选办件不属于该部门"),
        ({"case": None, "unit": city.health_unit}, "所选科室不属于该部门"),
    ]
    for change, message in cases:
        arguments = {
            "actor": city.supervisor,
            "department": city.market,
            "case": case,
            "dimension": Dimension.INSPECTION,
            "detail": "投诉",
            **change,
        }
        with pytest.raises(ValidationError) as error:
            corrections.alert_open_manual(**arguments)
        assert error.value.messages == [message]
    assert not Alert.objects.exists()
    assert not Message.objects.exists()
    with pytest.raises(PermissionDenied):
        corrections.alert_open_manual(
            actor=city.handler,
            department=city.market,
            case=None,
            dimension=Dimension.INSPECTION,
            detail="投诉",
        )
    assert not Alert.objects.exists()


def test_a_department_scoped_supervisor_cannot_open_alerts_elsewhere(city):
    role = factories.role("dept_supervisor", [permissions.ALERT_OPEN])
    local = factories.staff("jubu", city.health_unit, role_obj=role, scope=Scope.DEPARTMENT)
    with pytest.raises(PermissionDenied):
        corrections.alert_open_manual(
            actor=local,
            department=city.market,
            case=None,
            dimension=Dimension.INSPECTION,
            detail="投诉",
        )
    alert = corrections.alert_open_manual(
        actor=local, department=city.health, case=None, dimension=Dimension.INSPECTION, detail="x"
    )
    assert alert.department == city.health
    assert alert.correction.department == city.health


def test_each_department_sees_only_its_own_items(city):
    yellow_card(city)
    city.ingest(
        *opened_and_accepted("H1", at(2026, 3, 2), department="WJW", unit="WJW-YZ", handler="li"),
        now=at(2026, 3, 2, 11),
    )
    services.clock_sweep(now=at(2026, 3, 17, 0, 0))
    market_items = list(corrections.corrections_to_respond(city.handler))
    health_items = list(corrections.corrections_to_respond(city.health_handler))
    assert [i.alert.case_id for i in market_items] == [SupervisedCase.objects.get(key="C1").pk]
    assert [i.alert.case_id for i in health_items] == [SupervisedCase.objects.get(key="H1").pk]
    assert corrections.alerts_visible(city.health_handler).filter(case__key="C1").count() == 0
    assert corrections.alerts_visible(city.supervisor).count() == 6
    # the workbench: the officer's items to do; the supervisor's explanations to review
    corrections.correction_explain(
        actor=city.handler, correction=market_items[0], text="说明", rectified=False
    )
    assert workbench.todo(city.handler, 10) == []
    todo = workbench.todo(city.supervisor, 10)
    assert [item.title for item in todo] == ["待审核纠错说明：黄牌（超承诺时限）（C1）"]
    health = workbench.todo(city.health_handler, 10)
    assert [(item.title, item.due, item.urgent) for item in health] == [
        ("纠错：黄牌（超承诺时限）（H1）", dt.date(2026, 3, 20), True)
    ]
