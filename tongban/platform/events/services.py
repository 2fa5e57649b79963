"""Publishing events and delivering them, at least once, with retries and backoff.

``event_publish`` writes an ``Event`` and one ``Delivery`` per subscriber in the caller's
transaction and enqueues one django-tasks task per delivery after commit. The task
(``delivery_run``) locks the delivery, runs the handler and marks it done in one
transaction. ``deliveries_sweep`` (run by every ``tongban worker``) re-enqueues pending,
due deliveries nobody looks after any more: the enqueue was lost, or the worker that had
claimed the task died.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import traceback
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tongban.platform.audit import context
from tongban.platform.audit.services import audit_record
from tongban.platform.events.models import Delivery, DeliveryStatus, Event, ProcessedMarker
from tongban.platform.events.registry import failure_hook, handler, subscribers_for

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0
WORKER_LOST = "tongban.platform.events.WorkerLost"


def _lease_seconds() -> int:
    return int(getattr(settings, "TONGBAN_EVENT_LEASE_SECONDS", 300))


def _max_attempts() -> int:
    return int(getattr(settings, "TONGBAN_EVENT_MAX_ATTEMPTS", 8))


def _as_payload(event: Any) -> tuple[str, dict[str, Any]]:
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        name = getattr(event, "name", None)
        if isinstance(name, str) and name:
            return name, dataclasses.asdict(event)
    raise TypeError("event_publish needs a name and a payload, or a dataclass with `name`")


def event_publish(name: Any, payload: dict[str, Any] | None = None, *, actor: Any = None) -> Event:
    """Record an event in the caller's transaction; deliver it after commit.

    ``event_publish("approvals.case.accepted", {"case": 12}, actor=user)`` or
    ``event_publish(CaseAccepted(case=12))`` for a frozen dataclass with a ``name`` ClassVar.
    If the caller's transaction rolls back, the event and its deliveries vanish with it.
    """
    if not isinstance(name, str):
        name, payload = _as_payload(name)
    now = timezone.now()
    with transaction.atomic():
        event = Event.objects.create(
            name=name,
            payload=payload or {},
            occurred_at=now,
            actor_id=getattr(actor, "pk", None),
            request_id=context.current().request_id,
        )
        deliveries = Delivery.objects.bulk_create(
            Delivery(event=event, subscriber=path, next_attempt_at=now)
            for path in subscribers_for(name)
        )
        ids = [delivery.pk for delivery in deliveries]
        if None in ids:  # a database that does not return ids from bulk inserts
            ids = list(Delivery.objects.filter(event=event).values_list("pk", flat=True))
        if ids:
            transaction.on_commit(lambda: _enqueue_all(ids))
    return event


def _enqueue_all(delivery_ids: list[int]) -> None:
    for delivery_id in delivery_ids:
        enqueue_delivery(delivery_id)


def enqueue_delivery(delivery_id: int, *, run_after: dt.datetime | None = None) -> None:
    """Put one delivery on the "events" queue and give it a lease (the time after which
    the sweeper checks whether anybody still looks after it)."""
    from tongban.platform.events.tasks import deliver

    now = timezone.now()
    lease = (run_after or now) + dt.timedelta(seconds=_lease_seconds())
    if run_after is not None and not deliver.get_backend().supports_defer:
        # A backend without deferred tasks (the immediate backend in tests): the sweeper
        # re-enqueues the delivery once it is due.
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
            lease_until=lease, task_id=""
        )
        return
    task = deliver.using(run_after=run_after) if run_after is not None else deliver
    result = task.enqueue(delivery_id)
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        lease_until=lease, task_id=str(result.id)[:64]
    )


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: about 5 s, 10 s, 20 s … at most one hour."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempts - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


def delivery_run(delivery_id: int) -> str:
    """Run one delivery: "done", "retry", "dead" or "skipped" (already done, or dead).

    The handler's writes and the "done" mark commit together, so a crash at any point
    leaves the delivery pending for the sweeper to re-enqueue.
    """
    try:
        with transaction.atomic():
            delivery = (
                Delivery.objects.select_for_update()
                .select_related("event")
                .filter(pk=delivery_id)
                .first()
            )
            if delivery is None or delivery.status != DeliveryStatus.PENDING:
                return "skipped"
            handler(delivery.subscriber)(delivery.event)
            delivery.status = DeliveryStatus.DONE
            delivery.attempts += 1
            delivery.done_at = timezone.now()
            delivery.lease_until = None
            delivery.last_error = ""
            delivery.save()
            return "done"
    except Exception:  # any handler failure is retried
        return _record_failure(delivery_id, traceback.format_exc(limit=8))


def _record_failure(delivery_id: int, error: str) -> str:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("event")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        delivery.attempts += 1
        delivery.last_error = error[-4000:]
        dead = delivery.attempts >= _max_attempts()
        hook = failure_hook(delivery.subscriber)
        if hook is not None:
            hook(delivery.event, error=error, attempts=delivery.attempts, dead=dead)
        if dead:
            delivery.status = DeliveryStatus.DEAD
            delivery.lease_until = None
            delivery.save()
            audit_record(
                action="events.delivery.dead",
                target=delivery,
                detail={
                    "event": delivery.event.name,
                    "subscriber": delivery.subscriber,
                    "attempts": delivery.attempts,
                },
            )
            logger.error(
                "event delivery %s (%s → %s) is dead after %s attempts",
                delivery_id,
                delivery.event.name,
                delivery.subscriber,
                delivery.attempts,
            )
            return "dead"
        delivery.next_attempt_at = timezone.now() + dt.timedelta(
            seconds=backoff_seconds(delivery.attempts)
        )
        delivery.lease_until = delivery.next_attempt_at + dt.timedelta(seconds=_lease_seconds())
        delivery.save()
        run_after = delivery.next_attempt_at
        transaction.on_commit(lambda: enqueue_delivery(delivery_id, run_after=run_after))
    return "retry"


def _task_states(task_ids: list[str]) -> dict[str, str]:
    valid: list[uuid.UUID] = []
    for task_id in task_ids:
        try:
            valid.append(uuid.UUID(task_id))
        except ValueError:
            continue
    rows = DBTaskResult.objects.filter(id__in=valid).values_list("id", "status")
    return {str(task_id): str(status) for task_id, status in rows}


def deliveries_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Re-enqueue pending, due deliveries whose lease expired and whose task will not run:
    none was enqueued (lost after commit), or it is stranded RUNNING (its worker was
    killed) or finished without finishing the delivery. Returns how many.

    A delivery whose task is still READY (queued behind others) only gets a longer lease;
    on PostgreSQL one that a live worker is running right now is row-locked and skipped.
    """
    now = now or timezone.now()
    candidates = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .exclude(lease_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("pk", "task_id")[:limit]
    )
    states = _task_states([task_id for _, task_id in candidates if task_id])
    lease = now + dt.timedelta(seconds=_lease_seconds())
    requeued = 0
    for delivery_id, task_id in candidates:
        state = states.get(task_id)
        if state == TaskResultStatus.READY:
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
                lease_until=lease
            )
            continue
        with transaction.atomic():
            still_pending = (
                Delivery.objects.select_for_update(skip_locked=True)
                .filter(pk=delivery_id, status=DeliveryStatus.PENDING, task_id=task_id)
                .exclude(lease_until__gt=now)
                .values_list("pk", flat=True)
                .first()
            )
            if still_pending is None:  # being run right now, finished, or re-enqueued
                continue
            if state == TaskResultStatus.RUNNING:
                DBTaskResult.objects.filter(id=task_id, status=TaskResultStatus.RUNNING).update(
                    status=TaskResultStatus.FAILED,
                    finished_at=now,
                    exception_class_path=WORKER_LOST,
                    traceback="The worker running this task stopped (killed or crashed).",
                )
            logger.warning(
                "re-enqueueing event delivery %s (task %s: %s)",
                delivery_id,
                task_id or "-",
                state or "none",
            )
            enqueue_delivery(delivery_id)
            requeued += 1
    return requeued


def event_mark_processed(*, key: str, event: Event) -> bool:
    """Idempotency helper for handlers: True the first time ``(key, event)`` is marked,
    False if it already was. Call it inside the handler; the mark commits (or rolls back)
    with the handler's other writes::

        def on_case_accepted(event):
            if not event_mark_processed(key="supervision.case_accepted", event=event):
                return
            ...

    Deliveries are at least once; this makes a handler safe against a second delivery of
    the same event (a replay, or the same effect wired to several subscriptions).
    """
    try:
        with transaction.atomic():
            ProcessedMarker.objects.create(key=key[:200], event=event)
    except IntegrityError:
        return False
    return True


def delivery_retry(*, actor: Any, delivery: Delivery) -> Delivery:
    """Give a dead delivery a fresh set of attempts (operator action, audited)."""
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status != DeliveryStatus.DEAD:
            return locked
        locked.status = DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        locked.lease_until = None
        locked.save()
        audit_record(
            action="events.delivery.retry",
            actor=actor,
            target=locked,
            detail={"subscriber": locked.subscriber},
        )
        transaction.on_commit(lambda: enqueue_delivery(locked.pk))
    return locked
