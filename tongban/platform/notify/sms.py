"""SMS gateways. Operators plug in their carrier's gateway via TONGBAN_SMS_GATEWAY."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from tongban.platform.crypto.masking import mask_phone

logger = logging.getLogger("tongban.sms")


class SmsGateway(Protocol):
    def send(self, mobile: str, text: str) -> str:
        """Send one SMS; return the provider's message id; raise on failure."""
        ...


class LoggingSmsGateway:
    """Default gateway: logs the masked number and the text instead of sending."""

    def send(self, mobile: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        logger.info("SMS to %s: %s (id %s)", mask_phone(mobile), text, message_id)
        return message_id


def gateway() -> SmsGateway:
    gateway_class = import_string(settings.TONGBAN_SMS_GATEWAY)
    instance: SmsGateway = gateway_class()
    return instance
