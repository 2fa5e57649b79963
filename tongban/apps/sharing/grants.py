"""Consumer systems, sharing requests and grants (共享申请与授权).

A department's system administrators register the systems that call the gateway and
manage their credentials (a client secret shown once and stored only as a salted password
hash, an SM2 public key for signed requests). A consumer department's officer requests a
published resource for one of its systems: an unconditional resource is granted at once,
a conditional one goes to the provider, who approves (possibly narrowing the items and
choosing which arrive masked) or refuses with reasons within
``settings.SHARING_REVIEW_WORKING_DAYS`` working days; ``requests_report_overdue`` (a
periodic job) tells supervision about requests left undecided. A grant can be revoked.

Every write checks its permission first (a denial is audited in its own transaction and
leaves nothing else behind), then validates, writes, audits, publishes and notifies in one
transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.sharing import permissions
from tongban.apps.sharing.grants_selectors import (
    DEPARTMENT_SCOPE,
    GRANT_SCOPE_PROVIDER,
    department_in_scope,
)
from tongban.apps.sharing.models import (
    REQUEST_SCOPE_CONSUMER,
    REQUEST_SCOPE_PROVIDER,
    SYSTEM_SCOPE,
    AccessToken,
    ConsumerSystem,
    Grant,
    InfoItem,
    RequestStatus,
    Resource,
    Sensitivity,
    ShareType,
    SharingRequest,
)
from tongban.apps.sharing.public import GrantInfo
from tongban.platform.access.holders import department_holders
from tongban.platform.access.services import can_access, deny
from tongban.platform.audit.services import audit_record
from tongban.platform.calendar.services import get_calendar
from tongban.platform.crypto.sm2 import PublicKeyInvalid, normalise_public_key_pem
from tongban.platform.events.services import event_publish
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department

SECRET_PREFIX = "tbs_"  # noqa: S105  (a marker, not a secret)
#: the longest period a request may ask for
MAX_PERIOD_DAYS = 3 * 365 + 1
MAX_TEXT = 2000
DEFAULT_RATE_LIMIT = 600
MAX_RATE_LIMIT = 100_000
#: items masked by default in a grant
MASKED_SENSITIVITIES = (Sensitivity.PERSONAL, Sensitivity.SENSITIVE)
NUMBER_ATTEMPTS = 8
NOTIFY_CATEGORY = "sharing"

EVENT_OVERDUE = "sharing.request.overdue"
EVENT_GRANT_CREATED = "sharing.grant.created"
EVENT_GRANT_REVOKED = "sharing.grant.revoked"


def review_working_days() -> int:
    return int(getattr(settings, "SHARING_REVIEW_WORKING_DAYS", 5))


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=_zone())


def _day_end(day: dt.date) -> dt.datetime:
    """The last moment of ``day`` (local time): deadlines and expiries are whole days."""
    return _day_start(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def _text(value: str | None, field: str, message: str, *, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: message})
    if len(text) > limit:
        raise ValidationError({field: _("内容不能超过%(n)d个字") % {"n": limit}})
    return text


# ---------------------------------------------------------------------------------------
# consumer systems


def _new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _set_secret(system: ConsumerSystem, secret: str, now: dt.datetime) -> None:
    # a salted password hash with the project's hasher (Argon2 in production): the secret
    # is only checked when a token is issued, which is rare; calls carry tokens
    system.secret_hash = make_password(secret)
    system.secret_prefix = secret[: len(SECRET_PREFIX) + 6]
    system.secret_set_at = now


def system_check_secret(system: ConsumerSystem, secret: str) -> bool:
    """Whether ``secret`` is the system's client secret (for the gateway's token endpoint)."""
    if not system.secret_hash or not secret:
        return False
    return check_password(secret, system.secret_hash)


def system_authenticate(*, client_id: str, secret: str) -> ConsumerSystem | None:
    """The active system with this client id and secret, else None."""
    system = (
        ConsumerSystem.objects.select_related("department")
        .filter(client_id=client_id, is_active=True)
        .first()
    )
    if system is None or not system_check_secret(system, secret):
        return None
    return system


def validate_sm2_public_key(pem: str, field: str = "public_key_pem") -> str:
    """The PEM of an SM2 public key (SubjectPublicKeyInfo), normalised; else ValidationError."""
    try:
        return normalise_public_key_pem(pem)
    except PublicKeyInvalid as error:
        raise ValidationError({field: error.message}) from error


def _require_system_department(actor: Any, department: Department) -> None:
    if not department_in_scope(actor, department, permissions.SYSTEM_MANAGE):
        deny(actor, permissions.SYSTEM_MANAGE, target=department)


def _require_system(actor: Any, system: ConsumerSystem) -> None:
    if not can_access(actor, system, permissions.SYSTEM_MANAGE, SYSTEM_SCOPE):
        deny(actor, permissions.SYSTEM_MANAGE, target=system)


def system_create(
    *,
    actor: Any,
    department: Department,
    code: str,
    name: str,
    contact: str = "",
    is_platform: bool = False,
    public_key_pem: str = "",
) -> tuple[ConsumerSystem, str]:
    """Register a system of ``department``; returns it with its client secret (shown once)."""
    _require_system_department(actor, department)
    code = (code or "").strip().lower()
    errors: dict[str, str] = {}
    from django.core.validators import validate_slug

    try:
        validate_slug(code)
    except ValidationError:
        errors["code"] = _("系统代码只能包含字母、数字、连字符和下划线")
    if code and len(code) > 40:
        errors["code"] = _("系统代码不能超过40个字符")
    name = (name or "").strip()
    if not name:
        errors["name"] = _("请填写系统名称")
    elif len(name) > 100:
        errors["name"] = _("系统名称不能超过100个字")
    if "code" not in errors and ConsumerSystem.objects.filter(code=code).exists():
        errors["code"] = _("系统代码已被使用")
    if (
        is_platform
        and ConsumerSystem.objects.filter(
            department=department, is_platform=True, is_active=True
        ).exists()
    ):
        errors["is_platform"] = _("该部门已有平台内应用")
    if errors:
        raise ValidationError(errors)
    key = validate_sm2_public_key(public_key_pem) if (public_key_pem or "").strip() else ""
    now = timezone.now()
    secret = _new_secret()
    with transaction.atomic():
        system = ConsumerSystem(
            code=code,
            name=name,
            department=department,
            client_id="tbc_" + secrets.token_hex(12),
            contact=(contact or "").strip()[:60],
            is_platform=is_platform,
            public_key_pem=key,
        )
        _set_secret(system, secret, now)
        try:
            with transaction.atomic():
                system.save()
        except IntegrityError as error:
            raise ValidationError({"code": _("系统代码已被使用")}) from error
        audit_record(
            actor=actor,
            action="sharing.system.create",
            target=system,
            detail={"department": department.pk, "is_platform": is_platform},
        )
    return system, secret


def system_rotate_secret(*, actor: Any, system: ConsumerSystem) -> str:
    """A new client secret (shown once); the old one and its live tokens stop working."""
    _require_system(actor, system)
    now = timezone.now()
    secret = _new_secret()
    with transaction.atomic():
        locked = ConsumerSystem.objects.select_for_update().get(pk=system.pk)
        _set_secret(locked, secret, now)
        locked.save(update_fields=["secret_hash", "secret_prefix", "secret_set_at"])
        revoked = AccessToken.objects.filter(
            system=locked, revoked_at__isnull=True, expires_at__gt=now
        ).update(revoked_at=now)
        audit_record(
            actor=actor,
            action="sharing.system.rotate_secret",
            target=locked,
            detail={"tokens_revoked": revoked},
        )
    system.refresh_from_db()
    return secret


def system_set_public_key(*, actor: Any, system: ConsumerSystem, public_key_pem: str) -> None:
    _require_system(actor, system)
    key = validate_sm2_public_key(public_key_pem)
    with transaction.atomic():
        ConsumerSystem.objects.filter(pk=system.pk).update(public_key_pem=key)
        audit_record(actor=actor, action="sharing.system.set_public_key", target=system)
    system.public_key_pem = key


def system_set_active(*, actor: Any, system: ConsumerSystem, active: bool) -> None:
    """Deactivate (its tokens are revoked at once) or reactivate a system."""
    _require_system(actor, system)
    if active and system.is_platform:
        others = ConsumerSystem.objects.filter(
            department_id=system.department_id, is_platform=True, is_active=True
        ).exclude(pk=system.pk)
        if others.exists():
            raise ValidationError({"is_platform": _("该部门已有平台内应用")})
    now = timezone.now()
    with transaction.atomic():
        ConsumerSystem.objects.filter(pk=system.pk).update(is_active=active)
        revoked = 0
        if not active:
            revoked = AccessToken.objects.filter(
                system_id=system.pk, revoked_at__isnull=True, expires_at__gt=now
            ).update(revoked_at=now)
        audit_record(
            actor=actor,
            action="sharing.system.activate" if active else "sharing.system.deactivate",
            target=system,
            detail={"tokens_revoked": revoked},
        )
    system.is_active = active


# ---------------------------------------------------------------------------------------
# recipients


def _holders(permission: str, department_id: int, *, limit: int = 50) -> list[Any]:
    """Active users holding ``permission`` scoped to the department (department or unit
    grants); city-wide administrators are not bothered with every request."""
    return department_holders(permission, [department_id], limit=limit).get(department_id, [])


def _notify(recipients: Iterable[Any], subject: str, body: str, link: str, actor: Any) -> None:
    users = [user for user in recipients if user is not None]
    if users:
        notify_send(
            recipients=users,
            template_code="platform.generic",
            context={"subject": subject, "body": body},
            category=NOTIFY_CATEGORY,
            link=link,
            actor=actor,
        )


# ---------------------------------------------------------------------------------------
# requests


def _next_number(now: dt.datetime) -> tuple[str, int]:
    prefix = f"GX{now.astimezone(_zone()):%Y%m%d}"
    last = (
        SharingRequest.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return prefix, sequence


def _save_numbered(request: SharingRequest, now: dt.datetime) -> None:
    """Give the request the next free number of the day. The number is unique in the
    database: a concurrent request that took the same number makes the insert fail in its
    savepoint and the next number is tried."""
    prefix, sequence = _next_number(now)
    for _attempt in range(NUMBER_ATTEMPTS):
        request.number = f"{prefix}{sequence:04d}"
        try:
            with transaction.atomic():
                request.save()
        except IntegrityError:
            if not SharingRequest.objects.filter(number=request.number).exists():
                raise
            prefix, fresh = _next_number(now)
            sequence = max(sequence + 1, fresh)
            continue
        return
    raise ValidationError(_("系统繁忙，请稍后重试"))


def _current_items(resource: Resource) -> list[InfoItem]:
    return list(InfoItem.objects.filter(version_id=resource.current_id).order_by("order", "id"))


def _clean_items(chosen: Sequence[str], available: Sequence[str], field: str) -> list[str]:
    wanted = {str(code).strip() for code in chosen if str(code).strip()}
    if not wanted:
        raise ValidationError({field: _("请至少选择一个信息项")})
    unknown = wanted - set(available)
    if unknown:
        raise ValidationError(
            {field: _("信息项不属于该资源：%(codes)s") % {"codes": "、".join(sorted(unknown))}}
        )
    return [code for code in available if code in wanted]  # catalogue order


def default_masked_items(items: Sequence[str], catalogue: Sequence[InfoItem]) -> list[str]:
    """The items a grant masks unless the provider says otherwise: personal and sensitive."""
    sensitive = {item.code for item in catalogue if item.sensitivity in MASKED_SENSITIVITIES}
    return [code for code in items if code in sensitive]


def request_create(
    *,
    actor: Any,
    resource: Resource,
    system: ConsumerSystem,
    items: Sequence[str],
    purpose: str,
    legal_basis: str,
    period_start: dt.date,
    period_end: dt.date,
) -> SharingRequest:
    """A consumer department asks to use ``resource`` for ``system`` (one of its own)."""
    if not can_access(actor, system, permissions.REQUEST_CREATE, SYSTEM_SCOPE):
        deny(actor, permissions.REQUEST_CREATE, target=system)
    if not system.is_active:
        raise ValidationError({"system": _("该接入系统已停用")})
    version = resource.current
    if resource.is_withdrawn or version is None:
        raise ValidationError({"resource": _("该资源未发布或已撤销，不能申请")})
    if version.share_type == ShareType.NONE:
        raise ValidationError(
            {
                "resource": _("该资源为不予共享类，不能申请共享。依据：%(basis)s")
                % {"basis": version.share_conditions}
            }
        )
    if resource.provider_id == system.department_id:
        raise ValidationError({"resource": _("本部门提供的资源无需申请")})
    catalogue = _current_items(resource)
    chosen = _clean_items(items, [item.code for item in catalogue], "items")
    purpose = _text(purpose, "purpose", _("请填写使用用途"))
    legal_basis = _text(legal_basis, "legal_basis", _("请填写申请依据"))
    now = timezone.now()
    today = now.astimezone(_zone()).date()
    if period_start is None or period_end is None:
        raise ValidationError({"period_end": _("请填写使用期限")})
    if period_end < period_start:
        raise ValidationError({"period_end": _("使用期限止不能早于起始日期")})
    if period_end < today:
        raise ValidationError({"period_end": _("使用期限已过")})
    if (period_end - period_start).days > MAX_PERIOD_DAYS:
        raise ValidationError({"period_end": _("使用期限不能超过三年")})
    unconditional = version.share_type == ShareType.UNCONDITIONAL
    with transaction.atomic():
        request = SharingRequest(
            resource=resource,
            resource_version=version,
            consumer_department_id=system.department_id,
            consumer_system=system,
            items=chosen,
            purpose=purpose,
            legal_basis=legal_basis,
            period_start=period_start,
            period_end=period_end,
            requested_by=actor,
        )
        if unconditional:
            request.status = RequestStatus.APPROVED
            request.decided_at = now
            request.decision_reasons = _("无条件共享资源，自动授权")
        else:
            due_day = get_calendar().add_working_days(now, review_working_days())
            request.due_at = _day_end(due_day)
        _save_numbered(request, now)
        audit_record(
            actor=actor,
            action="sharing.request.create",
            target=request,
            detail={
                "resource": resource.code,
                "system": system.code,
                "items": chosen,
                "share_type": version.share_type,
            },
        )
        link = reverse("sharing:request", args=[request.pk])
        reviewers = _holders(permissions.REQUEST_REVIEW, resource.provider_id)
        if unconditional:
            _grant_create(
                actor=actor,
                request=request,
                items=chosen,
                masked_items=default_masked_items(chosen, catalogue),
                rate_limit=DEFAULT_RATE_LIMIT,
                expires_on=period_end,
                now=now,
            )
            _notify(
                [actor],
                _("共享申请已获授权：%(name)s") % {"name": version.name},
                _("申请%(number)s（%(name)s）为无条件共享，已自动授权给%(system)s。")
                % {"number": request.number, "name": version.name, "system": system.name},
                link,
                actor,
            )
            _notify(
                [user for user in reviewers if user.pk != actor.pk],
                _("本部门资源已被无条件共享：%(name)s") % {"name": version.name},
                _("%(department)s的%(system)s已获得资源“%(name)s”的授权（申请%(number)s）。")
                % {
                    "department": system.department.name,
                    "system": system.name,
                    "name": version.name,
                    "number": request.number,
                },
                link,
                actor,
            )
        else:
            assert request.due_at is not None
            _notify(
                [user for user in reviewers if user.pk != actor.pk],
                _("待审核共享申请：%(name)s") % {"name": version.name},
                _("%(department)s申请使用资源“%(name)s”（申请%(number)s），请于%(due)s前审核。")
                % {
                    "department": system.department.name,
                    "name": version.name,
                    "number": request.number,
                    "due": f"{request.due_at.astimezone(_zone()):%Y-%m-%d}",
                },
                link,
                actor,
            )
    return request


def _require_review(actor: Any, request: SharingRequest) -> None:
    if not can_access(actor, request, permissions.REQUEST_REVIEW, REQUEST_SCOPE_PROVIDER):
        deny(actor, permissions.REQUEST_REVIEW, target=request)


def _locked_submitted(request: SharingRequest) -> SharingRequest:
    locked = (
        SharingRequest.objects.select_for_update(of=("self",))
        .select_related("resource", "resource_version", "consumer_system", "consumer_department")
        .get(pk=request.pk)
    )
    if locked.status != RequestStatus.SUBMITTED:
        raise ValidationError(_("该申请已处理，不能重复操作"))
    return locked


def request_approve(
    *,
    actor: Any,
    request: SharingRequest,
    items: Sequence[str] | None = None,
    masked_items: Sequence[str] | None = None,
    rate_limit: int | None = None,
    expires_on: dt.date | None = None,
    comment: str = "",
) -> Grant:
    """The provider approves: the grant may narrow the items (never widen them), names the
    masked items (default: personal and sensitive ones), a rate limit and an expiry no
    later than the requested period's end."""
    _require_review(actor, request)
    catalogue = _current_items(request.resource)
    granted = _clean_items(request.items if items is None else items, list(request.items), "items")
    if masked_items is None:
        masked = default_masked_items(granted, catalogue)
    else:
        wanted = {str(code).strip() for code in masked_items if str(code).strip()}
        if wanted - set(granted):
            raise ValidationError({"masked_items": _("脱敏信息项必须是授权信息项")})
        masked = [code for code in granted if code in wanted]
    limit = DEFAULT_RATE_LIMIT if rate_limit is None else rate_limit
    if not 1 <= limit <= MAX_RATE_LIMIT:
        raise ValidationError(
            {"rate_limit": _("调用频率上限应在1至%(n)d次/分钟之间") % {"n": MAX_RATE_LIMIT}}
        )
    now = timezone.now()
    today = now.astimezone(_zone()).date()
    expiry = expires_on or request.period_end
    if expiry > request.period_end:
        raise ValidationError({"expires_on": _("授权到期日不能晚于申请的使用期限")})
    if expiry < today:
        raise ValidationError({"expires_on": _("授权到期日不能早于今天")})
    comment = (comment or "").strip()[:MAX_TEXT]
    with transaction.atomic():
        locked = _locked_submitted(request)
        locked.status = RequestStatus.APPROVED
        locked.decided_by = actor
        locked.decided_at = now
        locked.decision_reasons = comment
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reasons"])
        audit_record(
            actor=actor,
            action="sharing.request.approve",
            target=locked,
            detail={"items": granted, "masked_items": masked, "rate_limit": limit},
        )
        grant = _grant_create(
            actor=actor,
            request=locked,
            items=granted,
            masked_items=masked,
            rate_limit=limit,
            expires_on=expiry,
            now=now,
        )
        name = locked.resource_version.name
        _notify(
            [locked.requested_by],
            _("共享申请已同意：%(name)s") % {"name": name},
            _("申请%(number)s（%(name)s）已同意，授权至%(expiry)s。")
            % {"number": locked.number, "name": name, "expiry": f"{expiry:%Y-%m-%d}"},
            reverse("sharing:grant", args=[grant.pk]),
            actor,
        )
    request.refresh_from_db()
    return grant


def request_refuse(*, actor: Any, request: SharingRequest, reasons: str) -> SharingRequest:
    _require_review(actor, request)
    reasons = _text(reasons, "reasons", _("拒绝共享申请必须说明理由"))
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_submitted(request)
        locked.status = RequestStatus.REFUSED
        locked.decided_by = actor
        locked.decided_at = now
        locked.decision_reasons = reasons
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reasons"])
        audit_record(actor=actor, action="sharing.request.refuse", target=locked)
        name = locked.resource_version.name
        _notify(
            [locked.requested_by],
            _("共享申请未获同意：%(name)s") % {"name": name},
            _("申请%(number)s（%(name)s）未获同意。理由：%(reasons)s")
            % {"number": locked.number, "name": name, "reasons": reasons},
            reverse("sharing:request", args=[locked.pk]),
            actor,
        )
    request.refresh_from_db()
    return request


def request_withdraw(*, actor: Any, request: SharingRequest) -> SharingRequest:
    """The consumer department takes back a request not yet decided."""
    if not can_access(actor, request, permissions.REQUEST_CREATE, REQUEST_SCOPE_CONSUMER):
        deny(actor, permissions.REQUEST_CREATE, target=request)
    now = timezone.now()
    with transaction.atomic():
        locked = _locked_submitted(request)
        locked.status = RequestStatus.WITHDRAWN
        locked.decided_at = now
        locked.save(update_fields=["status", "decided_at"])
        audit_record(actor=actor, action="sharing.request.withdraw", target=locked)
        _notify(
            [
                user
                for user in _holders(permissions.REQUEST_REVIEW, locked.resource.provider_id)
                if user.pk != actor.pk
            ],
            _("共享申请已撤回：%(number)s") % {"number": locked.number},
            _("%(department)s已撤回申请%(number)s（%(name)s）。")
            % {
                "department": locked.consumer_department.name,
                "number": locked.number,
                "name": locked.resource_version.name,
            },
            reverse("sharing:request", args=[locked.pk]),
            actor,
        )
    request.refresh_from_db()
    return request


def requests_report_overdue(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Publish ``sharing.request.overdue`` once for every request still undecided after its
    deadline. Each row is claimed with a conditional UPDATE (``overdue_reported_at`` still
    null) in the transaction that publishes its event, so two workers never report the
    same request twice."""
    now = now or timezone.now()
    candidates = list(
        SharingRequest.objects.filter(
            status=RequestStatus.SUBMITTED, overdue_reported_at__isnull=True, due_at__lt=now
        )
        .order_by("due_at")
        .values_list("pk", flat=True)[:batch]
    )
    reported = 0
    for pk in candidates:
        with transaction.atomic():
            claimed = SharingRequest.objects.filter(
                pk=pk, status=RequestStatus.SUBMITTED, overdue_reported_at__isnull=True
            ).update(overdue_reported_at=now)
            if not claimed:
                continue
            request = SharingRequest.objects.select_related(
                "resource__provider", "resource_version", "consumer_department"
            ).get(pk=pk)
            assert request.due_at is not None
            event_publish(
                EVENT_OVERDUE,
                {
                    "request_number": request.number,
                    "resource_code": request.resource.code,
                    "resource_name": request.resource_version.name,
                    "provider_department_code": request.resource.provider.code,
                    "consumer_department_code": request.consumer_department.code,
                    "requested_at": request.requested_at.isoformat(),
                    "due_at": request.due_at.isoformat(),
                },
            )
            audit_record(action="sharing.request.overdue", target=request)
            _notify(
                _holders(permissions.REQUEST_REVIEW, request.resource.provider_id),
                _("共享申请已超期未审核：%(number)s") % {"number": request.number},
                _("申请%(number)s（%(name)s）已超过审核期限，已报送电子监察。")
                % {"number": request.number, "name": request.resource_version.name},
                reverse("sharing:request", args=[request.pk]),
                None,
            )
            reported += 1
    return reported


# ---------------------------------------------------------------------------------------
# grants


def _grant_create(
    *,
    actor: Any,
    request: SharingRequest,
    items: list[str],
    masked_items: list[str],
    rate_limit: int,
    expires_on: dt.date,
    now: dt.datetime,
) -> Grant:
    valid_from = max(now, _day_start(request.period_start))
    grant = Grant.objects.create(
        request=request,
        resource=request.resource,
        consumer_system=request.consumer_system,
        consumer_department_id=request.consumer_department_id,
        items=items,
        masked_items=masked_items,
        purpose=request.purpose,
        rate_limit_per_minute=rate_limit,
        valid_from=valid_from,
        expires_at=_day_end(expires_on),
        created_by=actor,
    )
    audit_record(
        actor=actor,
        action="sharing.grant.create",
        target=grant,
        detail={"request": request.number, "items": items, "masked_items": masked_items},
    )
    event_publish(
        EVENT_GRANT_CREATED,
        {
            "grant_id": grant.pk,
            "resource_code": request.resource.code,
            "consumer_system_code": request.consumer_system.code,
            "consumer_department_code": request.consumer_department.code,
        },
        actor=actor,
    )
    return grant


def grant_revoke(*, actor: Any, grant: Grant, reason: str) -> Grant:
    """The provider (or the city) withdraws a grant; the gateway refuses its calls at once."""
    if not can_access(actor, grant, permissions.GRANT_MANAGE, GRANT_SCOPE_PROVIDER):
        deny(actor, permissions.GRANT_MANAGE, target=grant)
    reason = _text(reason, "reason", _("请填写撤销原因"))
    now = timezone.now()
    with transaction.atomic():
        locked = (
            Grant.objects.select_for_update(of=("self",))
            .select_related("resource", "consumer_system", "consumer_department", "request")
            .get(pk=grant.pk)
        )
        if locked.revoked_at is not None:
            raise ValidationError(_("该授权已撤销"))
        locked.revoked_at = now
        locked.revoked_by = actor
        locked.revoke_reason = reason
        locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit_record(actor=actor, action="sharing.grant.revoke", target=locked)
        event_publish(
            EVENT_GRANT_REVOKED,
            {
                "grant_id": locked.pk,
                "resource_code": locked.resource.code,
                "consumer_system_code": locked.consumer_system.code,
                "consumer_department_code": locked.consumer_department.code,
            },
            actor=actor,
        )
        recipients = _holders(permissions.REQUEST_CREATE, locked.consumer_department_id)
        if locked.request is not None:
            recipients.append(locked.request.requested_by)
        _notify(
            {user.pk: user for user in recipients if user.pk != actor.pk}.values(),
            _("共享授权已撤销：%(code)s") % {"code": locked.resource.code},
            _("%(system)s对资源%(code)s的授权已被撤销。原因：%(reason)s")
            % {
                "system": locked.consumer_system.name,
                "code": locked.resource.code,
                "reason": reason,
            },
            reverse("sharing:grant", args=[locked.pk]),
            actor,
        )
    grant.refresh_from_db()
    return grant


def live_grants(now: dt.datetime | None = None) -> Any:
    """Grants in force at ``now``: not revoked, started, not expired."""
    now = now or timezone.now()
    return Grant.objects.filter(revoked_at__isnull=True, valid_from__lte=now, expires_at__gt=now)


def grant_lookup(
    *, department_id: int, resource_code: str, now: dt.datetime | None = None
) -> GrantInfo | None:
    """The live grant of any active system of the department on the resource (the latest
    if there are several), else None."""
    grant = (
        live_grants(now)
        .filter(
            consumer_department_id=department_id,
            resource__code=resource_code,
            consumer_system__is_active=True,
        )
        .select_related("consumer_system")
        .order_by("-expires_at", "-pk")
        .first()
    )
    if grant is None:
        return None
    return GrantInfo(
        grant_id=grant.pk,
        resource_code=resource_code,
        consumer_department_id=grant.consumer_department_id,
        consumer_system_code=grant.consumer_system.code,
        items=list(grant.items),
        masked_items=list(grant.masked_items),
        expires_at=grant.expires_at,
    )


__all__ = [
    "DEPARTMENT_SCOPE",
    "grant_lookup",
    "grant_revoke",
    "request_approve",
    "request_create",
    "request_refuse",
    "request_withdraw",
    "requests_report_overdue",
    "system_authenticate",
    "system_check_secret",
    "system_create",
    "system_rotate_secret",
    "system_set_active",
    "system_set_public_key",
    "validate_sm2_public_key",
]
