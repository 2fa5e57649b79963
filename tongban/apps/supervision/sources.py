"""The systems that feed supervision and their intake keys.

A key is ``tbsrc_<code>.<secret>``; only its SM3 digest is stored and it is shown once, at
creation or rotation. The built-in ``approvals`` source has no key (its events come
through the platform's event outbox).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from tongban.apps.supervision import permissions
from tongban.apps.supervision.models import Source
from tongban.platform.access.services import require
from tongban.platform.api.errors import ServiceError
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import sm3_hex
from tongban.platform.orgs.models import Department

KEY_PREFIX = "tbsrc_"
APPROVALS_SOURCE = "approvals"


def _digest(secret: str) -> str:
    return sm3_hex(secret.encode())


def _new_key(code: str) -> tuple[str, str]:
    key = f"{KEY_PREFIX}{code}.{secrets.token_urlsafe(32)}"
    return key, _digest(key)


def source_create(
    *, actor: Any, code: str, name: str, department: Department | None = None
) -> tuple[Source, str]:
    """Register a system; returns it and its key (shown once)."""
    require(actor, permissions.SOURCE_MANAGE)
    code = code.strip().lower()
    if not code or not code.replace("-", "").replace("_", "").isalnum() or len(code) > 40:
        raise ServiceError(
            "invalid_code", _("系统代码只能包含字母、数字、连字符和下划线，最长40位")
        )
    if code == APPROVALS_SOURCE or Source.objects.filter(code=code).exists():
        raise ServiceError("duplicate_code", _("系统代码已存在：%(code)s") % {"code": code})
    key, digest = _new_key(code)
    with transaction.atomic():
        source = Source.objects.create(
            code=code,
            name=name.strip()[:100] or code,
            department=department,
            key_hash=digest,
            key_prefix=key[: len(KEY_PREFIX) + 8],
        )
        audit_record(actor=actor, action="supervision.source.create", target=source)
    return source, key


def source_rotate_key(*, actor: Any, source: Source) -> str:
    require(actor, permissions.SOURCE_MANAGE)
    if source.code == APPROVALS_SOURCE:
        raise ServiceError("internal_source", _("内置的审批系统来源不使用接入密钥"))
    key, digest = _new_key(source.code)
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(
            key_hash=digest, key_prefix=key[: len(KEY_PREFIX) + 8]
        )
        audit_record(actor=actor, action="supervision.source.rotate_key", target=source)
    return key


def source_set_active(*, actor: Any, source: Source, active: bool) -> None:
    require(actor, permissions.SOURCE_MANAGE)
    with transaction.atomic():
        Source.objects.filter(pk=source.pk).update(is_active=active)
        audit_record(
            actor=actor,
            action="supervision.source.activate" if active else "supervision.source.deactivate",
            target=source,
        )


def source_authenticate(key: str) -> Source | None:
    """The active source owning ``key``, or None."""
    if not key.startswith(KEY_PREFIX) or "." not in key:
        return None
    code = key[len(KEY_PREFIX) :].split(".", 1)[0]
    source = Source.objects.filter(code=code, is_active=True).first()
    if source is None or not source.key_hash:
        return None
    if not hmac.compare_digest(source.key_hash, _digest(key)):
        return None
    return source


def approvals_source() -> Source:
    source, _created = Source.objects.get_or_create(
        code=APPROVALS_SOURCE, defaults={"name": "网上审批系统"}
    )
    return source
