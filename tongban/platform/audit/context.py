"""Per-request context (request id, client IP, acting-for) read by the audit log and logs."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str = ""
    acting_for_type: str = ""
    acting_for_id: str = ""
    acting_for_label: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "tongban_request_context",
    default=RequestContext(),  # noqa: B039 - frozen, immutable
)


def current() -> RequestContext:
    return _current.get()


def set_current(context: RequestContext) -> contextvars.Token[RequestContext]:
    return _current.set(context)


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
