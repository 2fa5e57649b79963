from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tongban.platform.audit.models import AuditEntry
from tongban.platform.events import registry
from tongban.platform.events.models import Delivery, DeliveryStatus, Event
from tongban.platform.events.selectors import dead_deliveries_count, worker_lag_seconds
from tongban.platform.events.services import delivery_run, deliveries_sweep, event_publish

HANDLERS = "tongban.platform.events.tests.handlers"


@pytest.fixture
def subscribed():
    added: list[tuple[str, str]] = []

    def add(pattern: str, name: str) -> None:
        registry.subscribe(pattern, f"{HANDLERS}.{name}")
        added.append((pattern, f"{HANDLERS}.{name}"))

    yield add
    for pattern, path in added:
        registry.unsubscribe(pattern, path)


def handled() -> int:
    return AuditEntry.objects.filter(action="test.event.handled").count()


@pytest.mark.django_db(transaction=True)
def test_events_are_delivered_after_commit(subscribed):
    subscribed("test.thing.*", "record")
    with transaction.atomic():
        event_publish("test.thing.done", {"n": 1})
        assert handled() == 0  # nothing runs before commit
    assert handled() == 1
    assert Delivery.objects.get().status == DeliveryStatus.DONE


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_publishes_nothing(subscribed):
    subscribed("test.thing.done", "record")
    with pytest.raises(RuntimeError), transaction.atomic():
        event_publish("test.thing.done", {"n": 1})
        raise RuntimeError("the change failed")
    assert Event.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert handled() == 0


@pytest.mark.django_db
def test_failures_back_off_then_succeed(subscribed):
    subscribed("test.flaky", "fail_twice")
    event = event_publish("test.flaky", {})
    delivery = Delivery.objects.get(event=event)
    assert delivery_run(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    assert "temporary failure" in delivery.last_error
    assert delivery_run(delivery.pk) == "retry"
    assert delivery_run(delivery.pk) == "done"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DONE, 3)
    assert handled() == 1
    assert delivery_run(delivery.pk) == "skipped"  # a duplicate task changes nothing
    assert handled() == 1


@pytest.mark.django_db
def test_a_delivery_dies_after_the_maximum_attempts(subscribed, settings):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 3
    subscribed("test.broken", "always_fail")
    delivery = Delivery.objects.get(event=event_publish("test.broken", {}))
    results = [delivery_run(delivery.pk) for _ in range(3)]
    assert results == ["retry", "retry", "dead"]
    assert dead_deliveries_count() == 1


@pytest.mark.django_db
def test_the_sweeper_reenqueues_lost_deliveries_and_lag_is_reported(subscribed):
    subscribed("test.lost", "record")
    event = event_publish("test.lost", {})  # on_commit never runs here: the enqueue is "lost"
    delivery = Delivery.objects.get(event=event)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=10))
    assert worker_lag_seconds() >= 599
    assert deliveries_sweep() == 1  # immediate backend in tests: runs at once
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert worker_lag_seconds() is None
    assert deliveries_sweep() == 0
