"""Publishing events and delivering them, at least once, with retries and backoff."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import traceback
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tongban.platform.audit import context
from tongban.platform.events.models import Delivery, DeliveryStatus, Event
from tongban.platform.events.registry import handler, subscribers_for

logger = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 5.0
BACKOFF_MAX_SECONDS = 3600.0


def _as_payload(event: Any) -> tuple[str, dict[str, Any]]:
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        return str(event.name), dataclasses.asdict(event)  # type: ignore[attr-defined]
    raise TypeError("event_publish needs a name and a payload, or a dataclass with `name`")


def event_publish(name: Any, payload: dict[str, Any] | None = None, *,
                  actor: Any = None) -> Event:
    """Record an event in the caller's transaction; deliver it after commit.

    ``event_publish("approvals.case.accepted", {"case": 12}, actor=user)`` or
    ``event_publish(CaseAccepted(case=12))`` for a frozen dataclass with a ``name`` ClassVar.
    """
    if not isinstance(name, str):
        name, payload = _as_payload(name)
    now = timezone.now()
    event = Event.objects.create(
        name=name,
        payload=payload or {},
        occurred_at=now,
        actor_id=getattr(actor, "pk", None),
        request_id=context.current().request_id,
    )
    deliveries = [
        Delivery(event=event, subscriber=path, next_attempt_at=now)
        for path in subscribers_for(name)
    ]
    if deliveries:
        Delivery.objects.bulk_create(deliveries)
        ids = list(Delivery.objects.filter(event=event).values_list("pk", flat=True))
        transaction.on_commit(lambda: [enqueue_delivery(delivery_id) for delivery_id in ids])
    return event


def enqueue_delivery(delivery_id: int, *, run_after: dt.datetime | None = None) -> None:
    from tongban.platform.events.tasks import deliver

    task = deliver.using(run_after=run_after) if run_after else deliver
    task.enqueue(delivery_id)
    lease = timezone.now() + dt.timedelta(seconds=settings.TONGBAN_EVENT_LEASE_SECONDS)
    if run_after is not None:
        lease = max(lease, run_after + dt.timedelta(seconds=settings.TONGBAN_EVENT_LEASE_SECONDS))
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        lease_until=lease)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with full jitter: 5 s, 10 s, 20 s … at most one hour."""
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * (2 ** max(0, attempts - 1)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not crypto


def delivery_run(delivery_id: int) -> str:
    """Run one delivery. The handler's work and the "done" mark commit together, so a crash
    at any point leaves the delivery pending for the sweeper to re-enqueue."""
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
    except Exception:  # noqa: BLE001 - any handler failure is retried
        return _record_failure(delivery_id, traceback.format_exc(limit=8))


def _record_failure(delivery_id: int, error: str) -> str:
    with transaction.atomic():
        delivery = Delivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        delivery.attempts += 1
        delivery.last_error = error[-4000:]
        if delivery.attempts >= settings.TONGBAN_EVENT_MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.DEAD
            delivery.lease_until = None
            delivery.save()
            logger.error("event delivery %s is dead after %s attempts", delivery_id,
                         delivery.attempts)
            return "dead"
        delivery.next_attempt_at = timezone.now() + dt.timedelta(
            seconds=backoff_seconds(delivery.attempts))
        delivery.save()
        run_after = delivery.next_attempt_at
        transaction.on_commit(lambda: enqueue_delivery(delivery_id, run_after=run_after))
    return "retry"


def deliveries_sweep(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Re-enqueue pending, due deliveries whose lease expired (or never existed): the
    enqueue was lost, or a worker died holding the task. Returns how many."""
    now = now or timezone.now()
    stale = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .exclude(lease_until__gt=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in stale:
        enqueue_delivery(delivery_id)
    return len(stale)


def already_handled(*, subscriber: str, event: Event) -> bool:
    """True if this subscriber already finished this event (use in handlers whose effects
    live outside the delivery transaction)."""
    return Delivery.objects.filter(
        event=event, subscriber=subscriber, status=DeliveryStatus.DONE
    ).exists()
