from __future__ import annotations

from django.db.models import Min
from django.utils import timezone

from tongban.platform.events.models import Delivery, DeliveryStatus


def worker_lag_seconds() -> float | None:
    """Age of the oldest pending, due delivery; None when nothing waits."""
    now = timezone.now()
    oldest = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    ).aggregate(oldest=Min("next_attempt_at"))["oldest"]
    if oldest is None:
        return None
    return max(0.0, (now - oldest).total_seconds())


def dead_deliveries_count() -> int:
    return Delivery.objects.filter(status=DeliveryStatus.DEAD).count()
