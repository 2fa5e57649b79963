"""Outbox subscribers of the message centre (registered in ``NotifyConfig.ready``)."""

from __future__ import annotations

from tongban.platform.events.models import Event
from tongban.platform.notify.models import ChannelDelivery
from tongban.platform.notify.services import channel_failed, channel_send


def send_delivery(event: Event) -> None:
    """``notify.delivery.created``: send one email or SMS. Idempotent: a delivery that is
    no longer pending is left alone."""
    delivery = (
        ChannelDelivery.objects.select_related("message__recipient")
        .filter(pk=event.payload["delivery"])
        .first()
    )
    if delivery is not None:
        channel_send(delivery)


def send_delivery_failed(event: Event, *, error: str, attempts: int, dead: bool) -> None:
    channel_failed(delivery_id=int(event.payload["delivery"]), error=error, dead=dead)
