from __future__ import annotations

import logging

from tongban.platform.audit import context


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current().request_id or "-"
        return True
