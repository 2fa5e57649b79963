"""Account services (filled in by the identity work)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tongban.platform.audit.services import audit_record


def session_expire(*, request: HttpRequest, user: Any) -> None:
    audit_record(action="accounts.session.expire", actor=user, target=user)
