from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import ClassVar

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tongban.platform.audit.models import AuditEntry
from tongban.platform.events import registry
from tongban.platform.events.models import Delivery, DeliveryStatus, Event, ProcessedMarker
from tongban.platform.events.selectors import dead_deliveries_count, worker_lag_seconds
from tongban.platform.events.services import (
    WORKER_LOST,
    deliveries_sweep,
    delivery_retry,
    delivery_run,
    event_publish,
)
from tongban.platform.events.tests import handlers

HANDLERS = "tongban.platform.events.tests.handlers"


DATABASE_TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "events", "notify"],
    }
}


@pytest.fixture
def subscribed():
    added: list[tuple[str, str]] = []

    def add(pattern: str, name: str, on_failure: str | None = None) -> None:
        registry.subscribe(
            pattern,
            f"{HANDLERS}.{name}",
            on_failure=f"{HANDLERS}.{on_failure}" if on_failure else None,
        )
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

    def change_that_fails() -> None:
        with transaction.atomic():
            event_publish("test.thing.done", {"n": 1})
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change_that_fails()
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
    assert delivery_run(delivery.pk) == "skipped"
    dead = AuditEntry.objects.get(action="events.delivery.dead")
    assert dead.object_id == str(delivery.pk)
    assert json.loads(dead.detail)["attempts"] == 3


@pytest.mark.django_db
def test_the_sweeper_reenqueues_lost_deliveries_and_lag_is_reported(subscribed):
    subscribed("test.lost", "record")
    event = event_publish("test.lost", {})  # on_commit never runs here: the enqueue is "lost"
    delivery = Delivery.objects.get(event=event)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=10)
    )
    assert worker_lag_seconds() >= 599
    assert deliveries_sweep() == 1  # immediate backend in tests: runs at once
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DONE
    assert worker_lag_seconds() is None
    assert deliveries_sweep() == 0


@dataclass(frozen=True)
class ThingShipped:
    name: ClassVar[str] = "test.thing.shipped"
    thing: int
    when: dt.date


@pytest.mark.django_db
def test_a_dataclass_event_is_published_with_its_name_and_fields(subscribed):
    subscribed("test.thing.*", "record")
    subscribed("test.other", "record")
    event = event_publish(ThingShipped(thing=7, when=dt.date(2026, 3, 1)))
    event.refresh_from_db()
    assert (event.name, event.payload) == ("test.thing.shipped", {"thing": 7, "when": "2026-03-01"})
    assert list(Delivery.objects.values_list("subscriber", flat=True)) == [f"{HANDLERS}.record"]


@pytest.mark.django_db
def test_the_failure_hook_runs_in_the_transaction_that_records_the_failure(subscribed, settings):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 2
    subscribed("test.hooked", "always_fail", on_failure="remember_failure")
    event = event_publish("test.hooked", {})
    delivery = Delivery.objects.get(event=event)
    assert [delivery_run(delivery.pk), delivery_run(delivery.pk)] == ["retry", "dead"]
    hooks = AuditEntry.objects.filter(action="test.event.failure_hook").order_by("seq")
    assert [json.loads(entry.detail) for entry in hooks] == [
        {"attempts": 1, "dead": False},
        {"attempts": 2, "dead": True},
    ]


@pytest.mark.django_db
def test_a_dead_delivery_can_be_retried_by_an_operator(subscribed, settings, django_user_model):
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 1
    subscribed("test.revived", "fail_twice")
    delivery = Delivery.objects.get(event=event_publish("test.revived", {}))
    assert delivery_run(delivery.pk) == "dead"
    operator = django_user_model.objects.create_user(
        username="ops",
        password="x",  # noqa: S106
        display_name="运维",
        kind="staff",
    )
    settings.TONGBAN_EVENT_MAX_ATTEMPTS = 5
    delivery = delivery_retry(actor=operator, delivery=delivery)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)
    assert AuditEntry.objects.get(action="events.delivery.retry").actor_id == operator.pk
    assert [delivery_run(delivery.pk), delivery_run(delivery.pk)] == ["retry", "done"]


@pytest.mark.django_db
def test_the_processed_marker_makes_a_second_delivery_harmless(subscribed):
    subscribed("test.twice", "record_once")
    event = event_publish("test.twice", {})
    delivery = Delivery.objects.get(event=event)
    assert delivery_run(delivery.pk) == "done"
    # the same event delivered again (say, replayed by an operator)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING)
    assert delivery_run(delivery.pk) == "done"
    assert handled() == 1
    assert ProcessedMarker.objects.filter(event=event, key="test.record_once").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_leaves_queued_tasks_alone_and_rescues_stranded_ones(subscribed, settings):
    settings.TASKS = DATABASE_TASKS
    subscribed("test.swept", "record")
    queued, stranded, lost = (event_publish("test.swept", {"n": n}) for n in range(3))
    deliveries = {event.pk: Delivery.objects.get(event=event) for event in (queued, stranded, lost)}
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 3
    # a worker claimed the second task and was killed; the third task row was never written
    DBTaskResult.objects.filter(id=deliveries[stranded.pk].task_id).update(
        status=TaskResultStatus.RUNNING
    )
    DBTaskResult.objects.filter(id=deliveries[lost.pk].task_id).delete()
    later = timezone.now() + dt.timedelta(seconds=settings.TONGBAN_EVENT_LEASE_SECONDS + 1)

    assert deliveries_sweep(now=later) == 2

    refreshed = {pk: Delivery.objects.get(pk=delivery.pk) for pk, delivery in deliveries.items()}
    assert refreshed[queued.pk].task_id == deliveries[queued.pk].task_id
    assert refreshed[queued.pk].lease_until > later
    for event in (stranded, lost):
        assert refreshed[event.pk].task_id not in {"", deliveries[event.pk].task_id}
    old = DBTaskResult.objects.get(id=deliveries[stranded.pk].task_id)
    assert (old.status, old.exception_class_path) == (TaskResultStatus.FAILED, WORKER_LOST)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 3
    assert deliveries_sweep(now=later) == 0  # nothing to do twice


@registry.subscriber("test.decorated.*")
def decorated_handler(event: Event) -> None:
    handlers.record(event)


@pytest.mark.django_db
def test_the_decorator_registers_a_handler_by_its_dotted_path():
    path = f"{__name__}.decorated_handler"
    try:
        assert registry.subscribers_for("test.decorated.thing") == [path]
        delivery = Delivery.objects.get(event=event_publish("test.decorated.thing", {}))
        assert delivery_run(delivery.pk) == "done"
        assert handled() == 1
    finally:
        registry.unsubscribe("test.decorated.*", path)
