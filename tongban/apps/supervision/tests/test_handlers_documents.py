"""Documents events reaching supervision: a unit that did not sign for a document in time
and an overdue supervised task each open alerts (with correction items) for the
departments concerned; a redelivery opens nothing more; unknown departments are dropped."""

from __future__ import annotations

import pytest

from tongban.apps.supervision import handlers_documents  # noqa: F401  (registers them)
from tongban.apps.supervision.models import Alert, AlertKind, Correction, Dimension
from tongban.platform.events.models import Delivery, DeliveryStatus
from tongban.platform.events.services import delivery_run, event_publish
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db

HANDLERS = "tongban.apps.supervision.handlers_documents."


def _deliver() -> list[str]:
    pending = Delivery.objects.filter(
        subscriber__startswith=HANDLERS, status=DeliveryStatus.PENDING
    ).order_by("pk")
    return [delivery_run(pk) for pk in pending.values_list("pk", flat=True)]


def _delivery_overdue(delivery: int = 41, recipient: str = "SCJGJ") -> dict[str, object]:
    return {
        "delivery": delivery,
        "dispatch": 9,
        "document": "7c1d5b7e-0000-4000-8000-000000000001",
        "number": "示范府〔2026〕12号",
        "title": "关于进一步优化营商环境的通知",
        "sender": "SZF",
        "recipient": recipient,
        "delivered_at": "2026-11-27T09:00:00+08:00",
        "due_at": "2026-11-28T09:00:00+08:00",
    }


def _task_overdue(owners: list[str]) -> dict[str, object]:
    return {
        "task": "DB2026-0003",
        "title": "完成政务服务事项标准化梳理",
        "supervisor": "DCS",
        "owners": owners,
        "deadline": "2026-11-25",
    }


def test_an_unsigned_delivery_opens_a_timeliness_alert_for_the_recipient(city) -> None:
    event_publish("documents.delivery.overdue", _delivery_overdue())
    event_publish("documents.delivery.overdue", _delivery_overdue())  # redelivered
    assert _deliver() == ["done", "done"]
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.MANUAL
    assert alert.dimension == Dimension.TIMELINESS
    assert alert.department == city.market
    assert alert.case is None
    assert "示范府〔2026〕12号" in alert.detail
    assert "2026-11-28 09:00" in alert.detail
    assert alert.dedupe_key == "documents.delivery:41"
    assert Correction.objects.filter(alert=alert).count() == 1
    assert Message.objects.filter(recipient=city.leader, category="supervision").exists()


def test_an_overdue_task_opens_one_alert_per_unfinished_owner(city) -> None:
    event_publish("documents.task.overdue", _task_overdue(["SCJGJ", "WJW", "NOPE"]))
    event_publish("documents.task.overdue", _task_overdue(["SCJGJ", "WJW"]))
    assert _deliver() == ["done", "done"]
    alerts = {alert.department_id: alert for alert in Alert.objects.all()}
    assert set(alerts) == {city.market.pk, city.health.pk}
    assert alerts[city.health.pk].dedupe_key == "documents.task:DB2026-0003:WJW"
    assert "DB2026-0003" in alerts[city.health.pk].detail
    assert Correction.objects.count() == 2


def test_events_without_a_subject_or_with_an_unknown_department_are_dropped(city) -> None:
    event_publish("documents.delivery.overdue", _delivery_overdue(recipient="NOPE"))
    event_publish("documents.delivery.overdue", {"recipient": "SCJGJ"})
    event_publish("documents.task.overdue", {"owners": ["SCJGJ"]})
    assert _deliver() == ["done", "done", "done"]
    assert not Alert.objects.exists()
