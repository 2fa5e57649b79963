"""Webhook deliveries through the event outbox (docs/decisions/0003).

``services`` publishes ``exchange.delivery.dispatch`` with the delivery's id; the outbox
runs ``on_dispatch`` after commit, retries it with exponential backoff when it raises and
calls ``on_dispatch_failed`` for every failed attempt (``dead`` after
``TONGBAN_EVENT_MAX_ATTEMPTS``): the delivery then fails and both sides are notified.

Every POST is signed: ``X-Tongban-Timestamp`` (Unix seconds) and ``X-Tongban-Signature:
hmac-sm3=<hex>``, the HMAC-SM3 of ``<timestamp>.<body>`` under the subscription's secret
(shown once to the consumer when it set the address).
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.error
import urllib.request
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone

from tongban.apps.exchange import services
from tongban.apps.exchange.models import DataFormat, Delivery, DeliveryStatus
from tongban.platform.events.services import backoff_seconds

TIMEOUT_SECONDS = 15
CONTENT_TYPES: dict[str, str] = {
    DataFormat.CSV: "text/csv; charset=utf-8",
    DataFormat.JSON: "application/json",
}


class WebhookFailed(Exception):
    """The receiver did not accept the dataset (network error or a non-2xx answer)."""


def _locked(event: Any) -> Delivery | None:
    delivery_id = int((event.payload or {}).get("delivery_id") or 0)
    return (
        Delivery.objects.select_for_update()
        .select_related("dataset__job__provider", "dataset__file")
        .filter(pk=delivery_id)
        .first()
    )


def webhook_post(delivery: Delivery) -> int:
    """POST the dataset's bytes to the delivery's webhook; the HTTP status, or raises."""
    problem = services.webhook_url_error(delivery.webhook_url)
    if problem:
        raise WebhookFailed(problem)
    dataset = delivery.dataset
    with default_storage.open(dataset.file.storage_name, "rb") as handle:
        body = handle.read()
    timestamp = str(int(time.time()))
    secret = services.webhook_secret(job_id=dataset.job_id, department_id=delivery.consumer_id)
    signed = (
        {
            "X-Tongban-Timestamp": timestamp,
            "X-Tongban-Signature": services.webhook_signature(
                secret=secret, timestamp=timestamp, body=body
            ),
        }
        if secret
        else {}
    )
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        delivery.webhook_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": CONTENT_TYPES.get(dataset.job.format, "application/octet-stream"),
            "X-Tongban-Delivery": str(delivery.pk),
            "X-Tongban-Job": str(dataset.job_id),
            "X-Tongban-Dataset": str(dataset.number),
            "X-Tongban-Resource": dataset.job.resource_code,
            "X-Tongban-Records": str(dataset.record_count),
            "X-Tongban-SM3": dataset.sm3,
            **signed,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            status = int(response.status)
    except urllib.error.HTTPError as error:
        raise WebhookFailed(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise WebhookFailed(f"{type(error).__name__}: {error}") from None
    if not 200 <= status < 300:
        raise WebhookFailed(f"HTTP {status}")
    return status


def on_dispatch(event: Any) -> None:
    """Outbox handler: send one pending webhook delivery (raises to be retried)."""
    delivery = _locked(event)
    if delivery is None or delivery.status != DeliveryStatus.PENDING or not delivery.webhook_url:
        return
    job = delivery.dataset.job
    if not services.grant_is_live(
        department_id=delivery.consumer_id, resource_code=job.resource_code
    ):
        delivery.attempts += 1
        services.delivery_mark_failed(delivery, error=str(services.grant_missing_message()))
        return
    webhook_post(delivery)
    delivery.attempts += 1
    services.delivery_mark_delivered(delivery)


def _short(error: str) -> str:
    lines = [line.strip() for line in error.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else error
    prefix = f"{WebhookFailed.__module__}.{WebhookFailed.__qualname__}: "
    return last.removeprefix(prefix)[:500]


def on_dispatch_failed(event: Any, *, error: str, attempts: int, dead: bool) -> None:
    """Outbox failure hook: keep the delivery's attempts and error in step; dead → failed."""
    delivery = _locked(event)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return
    delivery.attempts = attempts
    delivery.last_error = _short(error)
    if dead:
        services.delivery_mark_failed(delivery, error=delivery.last_error)
        return
    delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=backoff_seconds(attempts))
    delivery.save(update_fields=["attempts", "last_error", "next_attempt_at"])
