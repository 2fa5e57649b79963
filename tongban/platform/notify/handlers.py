from __future__ import annotations

from typing import Any

from tongban.platform.notify.models import ChannelDelivery
from tongban.platform.notify.services import channel_send


def send_delivery(event: Any) -> None:
    """Outbox subscriber for ``notify.delivery.created``: send one email or SMS."""
    delivery = (ChannelDelivery.objects.select_related("message__recipient")
                .filter(pk=event.payload["delivery"]).first())
    if delivery is not None:
        channel_send(delivery)
