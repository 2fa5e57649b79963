"""Sharing events reaching supervision: an overdue sharing request and a citizen's report
of an improper data access each open one alert (with its correction item) for the
department concerned; a redelivery opens nothing more."""

from __future__ import annotations

import pytest

from tongban.apps.supervision.models import Alert, AlertKind, Correction, Dimension
from tongban.platform.events.models import Delivery, DeliveryStatus
from tongban.platform.events.services import delivery_run, event_publish
from tongban.platform.notify.models import Message

pytestmark = pytest.mark.django_db

HANDLERS = "tongban.apps.supervision.handlers_sharing."


def _deliver(prefix: str = HANDLERS) -> list[str]:
    pending = Delivery.objects.filter(
        subscriber__startswith=prefix, status=DeliveryStatus.PENDING
    ).order_by("pk")
    return [delivery_run(pk) for pk in pending.values_list("pk", flat=True)]


def _overdue(number: str = "GX202611300001", provider: str = "SCJGJ") -> dict[str, str]:
    return {
        "request_number": number,
        "resource_code": "1010010001",
        "resource_name": "人口基本信息",
        "provider_department_code": provider,
        "consumer_department_code": "WJW",
        "requested_at": "2026-11-20T09:00:00+08:00",
        "due_at": "2026-11-27T23:59:59+08:00",
    }


def _reported(report_id: int = 7, consumer: str = "WJW") -> dict[str, object]:
    return {
        "report_id": report_id,
        "call_id": 1234,
        "resource_code": "1010010001",
        "resource_name": "人口基本信息",
        "consumer_department_code": consumer,
        "consumer_system_code": "wjw-yiliao",
        "provider_department_code": "SCJGJ",
        "accessed_at": "2026-11-29T10:15:00+08:00",
        "reason": "我从未在该部门办理业务",
    }


def test_an_overdue_sharing_request_opens_a_timeliness_alert_for_the_provider(city) -> None:
    event_publish("sharing.request.overdue", _overdue())
    assert _deliver() == ["done"]
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.MANUAL
    assert alert.dimension == Dimension.TIMELINESS
    assert alert.department == city.market
    assert alert.case is None
    assert alert.opened_by is None
    assert "GX202611300001" in alert.detail
    assert "2026-11-27" in alert.detail
    assert alert.dedupe_key == "sharing.overdue:GX202611300001"
    assert Correction.objects.filter(alert=alert).exists()
    # the department's leader hears of it
    assert Message.objects.filter(recipient=city.leader, category="supervision").exists()


def test_a_redelivered_event_opens_nothing_more(city) -> None:
    event_publish("sharing.request.overdue", _overdue())
    event_publish("sharing.request.overdue", _overdue())
    assert _deliver() == ["done", "done"]
    assert Alert.objects.count() == 1
    assert Correction.objects.count() == 1


def test_a_reported_access_opens_an_inspection_alert_for_the_consumer(city) -> None:
    event_publish("sharing.access.reported", _reported())
    assert _deliver() == ["done"]
    alert = Alert.objects.get()
    assert alert.department == city.health
    assert alert.dimension == Dimension.INSPECTION
    assert "我从未在该部门办理业务" in alert.detail
    assert alert.dedupe_key == "sharing.access:7"


def test_an_unknown_department_is_dropped_without_an_alert(city) -> None:
    event_publish("sharing.request.overdue", _overdue(provider="NOPE"))
    event_publish("sharing.access.reported", _reported(consumer="NOPE"))
    assert _deliver() == ["done", "done"]
    assert not Alert.objects.exists()
