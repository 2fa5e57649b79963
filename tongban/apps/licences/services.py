"""Every write to the licences: issue, renew (new version), revoke, licence types.

Each service checks permissions before opening its transaction, validates the whole input
(``ValidationError`` with Chinese messages keyed by field), then writes, signs, audits and
publishes in one transaction. ``actor=None`` is the system (demo loader).

Issuance is usually asked for by another application through ``public.py`` (approvals
issues the licence when a case is approved): that caller has already checked its own
permission to decide, so it passes ``caller_checked=True``. The API and the pages check
``licences.licence.issue`` over the issuing department.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.licences import permissions, signing
from tongban.apps.licences.events import LICENCE_ISSUED, LICENCE_REVOKED
from tongban.apps.licences.identifiers import TYPE_CODE, identifier_build
from tongban.apps.licences.models import (
    HOLDER_ID_PURPOSE,
    HolderIdType,
    Licence,
    LicenceStatus,
    LicenceType,
    SerialCounter,
)
from tongban.platform.access.services import ScopePaths, can_access, deny, has_permission
from tongban.platform.accounts.idnumbers import InvalidIdNumber, validate_resident_id, validate_uscc
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.masking import mask_id_number, mask_middle
from tongban.platform.crypto.sm import DecryptionError, decrypt_text
from tongban.platform.events.services import event_publish
from tongban.platform.orgs.models import Department

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

LICENCE_SCOPE = permissions.LICENCE_SCOPE
DEPARTMENT_SELF = ScopePaths(department="", division="division")

OTHER_ID = re.compile(r"^[0-9A-Z\-]{4,40}$")
MAX_FIELDS = 40
MAX_FIELD_LABEL = 50
MAX_FIELD_VALUE = 500
MAX_REASON = 500


# ---------------------------------------------------------------- checks


def _require_issue(actor: User | None, department: Department) -> None:
    if actor is None:
        return
    if not can_access(actor, department, permissions.LICENCE_ISSUE, DEPARTMENT_SELF):
        deny(actor, permissions.LICENCE_ISSUE, target=department)


def holder_id_normalise(id_type: str, number: str) -> str:
    """The ID number in its normal form, or ``ValidationError`` on ``holder_id_number``."""
    try:
        if id_type == HolderIdType.RESIDENT_ID:
            return validate_resident_id(number)
        if id_type == HolderIdType.USCC:
            return validate_uscc(number)
    except InvalidIdNumber as error:
        raise ValidationError({"holder_id_number": [str(error)]}, code=error.code) from error
    value = number.strip().upper().replace(" ", "")
    if not OTHER_ID.match(value):
        raise ValidationError({"holder_id_number": [_("证件号码应为4至40位字母、数字或连字符")]})
    return value


def holder_id_mask(id_type: str, number: str) -> str:
    """Resident IDs as ``4401**********1234``; an enterprise's USCC is public and shown whole."""
    if id_type == HolderIdType.USCC:
        return number
    if id_type == HolderIdType.RESIDENT_ID:
        return mask_id_number(number)
    return mask_middle(number, keep_start=2, keep_end=2)


def _fields_check(fields: Mapping[str, str], add: Any) -> dict[str, str]:
    if len(fields) > MAX_FIELDS:
        add("fields", _("照面信息最多%(n)d项") % {"n": MAX_FIELDS})
    clean: dict[str, str] = {}
    for label, value in fields.items():
        label_text = str(label).strip()
        if not label_text or len(label_text) > MAX_FIELD_LABEL:
            add("fields", _("照面信息的名称不能为空，且不超过%(n)d个字") % {"n": MAX_FIELD_LABEL})
            continue
        if not isinstance(value, str) or len(value) > MAX_FIELD_VALUE:
            add(
                "fields",
                _("照面信息“%(label)s”应为不超过%(n)d个字的文字")
                % {"label": label_text, "n": MAX_FIELD_VALUE},
            )
            continue
        clean[label_text] = value.strip()
    return clean


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# ---------------------------------------------------------------- licence types


def licence_type_save(
    *,
    actor: User | None,
    code: str,
    name: str,
    default_validity_years: int = 0,
    issuing_department_id: int | None = None,
) -> LicenceType:
    """Create or update a licence type (its code is part of every identifier: fixed)."""
    if actor is not None and not has_permission(actor, permissions.TYPE_MANAGE):
        deny(actor, permissions.TYPE_MANAGE)
    code = code.strip().upper()
    errors: dict[str, list[str]] = {}
    if not TYPE_CODE.match(code):
        errors["code"] = [_("证照类型代码应为1至40位数字或大写字母")]
    if not name.strip() or len(name.strip()) > 100:
        errors["name"] = [_("请填写证照类型名称（不超过100字）")]
    if not 0 <= default_validity_years <= 100:
        errors["default_validity_years"] = [_("默认有效期应在0至100年之间")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        licence_type, created = LicenceType.objects.update_or_create(
            code=code,
            defaults={
                "name": name.strip(),
                "default_validity_years": default_validity_years,
                "issuing_department_id": issuing_department_id,
            },
        )
        audit_record(
            action="licences.type.save",
            actor=actor,
            target=licence_type,
            detail={"code": code, "created": created},
        )
    return licence_type


def _type_for_issue(*, actor: User | None, code: str, name: str, issuer: Department) -> LicenceType:
    """The licence type; an unknown (well-formed) code registers a type named after the
    licence, so a newly approved item can issue before an administrator lists it."""
    found = LicenceType.objects.filter(code=code).first()
    if found is not None:
        if not found.is_active:
            raise ValidationError({"type_code": [_("该证照类型已停用")]})
        return found
    licence_type, created = LicenceType.objects.get_or_create(
        code=code, defaults={"name": name, "issuing_department": issuer}
    )
    if created:
        audit_record(
            action="licences.type.save",
            actor=actor,
            target=licence_type,
            detail={"code": code, "created": True, "automatic": True},
        )
    return licence_type


# ---------------------------------------------------------------- issue


def _lock_counter(licence_type: LicenceType, issuer: Department) -> SerialCounter:
    """Lock the (type, issuer) serial counter. Serials are gap-free because the increment
    commits or rolls back with the licence it numbers, and issuers of one type at one
    department queue on this row."""
    SerialCounter.objects.get_or_create(licence_type=licence_type, department=issuer)
    return SerialCounter.objects.select_for_update().get(
        licence_type=licence_type, department=issuer
    )


def _take_serial(counter: SerialCounter) -> int:
    counter.last_serial += 1
    counter.save(update_fields=["last_serial"])
    return counter.last_serial


def _number(type_code: str, issuer: Department, serial: int, version: int) -> str:
    """证照编号: type code, the issuer's organisation code (USCC characters 9–17), serial."""
    base = f"{type_code}-{issuer.uscc[8:17]}-{serial:06d}"
    return base if version == 1 else f"{base}-{version}"


def _write_licence(
    *,
    licence_type: LicenceType,
    issuer: Department,
    serial: int,
    version: int,
    name: str,
    holder_name: str,
    holder_id_type: str,
    holder_id_number: str,
    issued_on: dt.date,
    valid_until: dt.date | None,
    fields: dict[str, str],
    source: str,
    previous: Licence | None,
) -> Licence:
    key = signing.issuer_key_for(issuer)
    identifier = identifier_build(
        type_code=licence_type.code, issuer_uscc=issuer.uscc, serial=serial, version=version
    )
    licence = Licence(
        identifier=identifier,
        number=_number(licence_type.code, issuer, serial, version),
        name=name,
        licence_type=licence_type,
        serial=serial,
        version=version,
        holder_name=holder_name,
        holder_id_type=holder_id_type,
        holder_id_number=holder_id_number,
        holder_id_hmac=signing.holder_hmac(holder_id_type, holder_id_number),
        holder_id_masked=holder_id_mask(holder_id_type, holder_id_number),
        issuer=issuer,
        issuer_name=issuer.name,
        issued_on=issued_on,
        valid_from=issued_on,
        valid_until=valid_until,
        status=LicenceStatus.VALID,
        previous=previous,
        fields=fields,
        source=source,
        signing_key=key,
    )
    data = signing.canonical_bytes(
        signing.licence_data(licence, key_fingerprint=key.fingerprint, issuer_uscc=issuer.uscc)
    )
    licence.canonical = data
    licence.signature = signing.sign_with(key, data)
    licence.save()
    return licence


def _issued_payload(licence: Licence) -> dict[str, Any]:
    return {
        "identifier": licence.identifier,
        "number": licence.number,
        "name": licence.name,
        "type_code": licence.licence_type.code,
        "issuer_department_code": licence.issuer.code,
        "issued_on": licence.issued_on.isoformat(),
        "valid_from": licence.valid_from.isoformat(),
        "valid_until": licence.valid_until.isoformat() if licence.valid_until else None,
        "source": licence.source,
        "previous": licence.previous.identifier if licence.previous else None,
    }


def _audit_issue(actor: User | None, licence: Licence, action: str) -> None:
    audit_record(
        action=action,
        actor=actor,
        target=licence,
        object_label=f"{licence.name} {licence.number}",
        detail={
            "identifier": licence.identifier,
            "source": licence.source,
            "holder_id_masked": licence.holder_id_masked,
            "previous": licence.previous.identifier if licence.previous else None,
        },
    )


def _existing_for_source(type_code: str, source: str) -> Licence | None:
    if not source:
        return None
    return (
        Licence.objects.select_related("licence_type", "issuer")
        .filter(licence_type__code=type_code, source=source)
        .first()
    )


def licence_issue(
    *,
    actor: User | None,
    type_code: str,
    name: str,
    holder_name: str,
    holder_id_type: str,
    holder_id_number: str,
    issuer_department_id: int,
    valid_until: dt.date | None,
    fields: Mapping[str, str],
    source: str,
    caller_checked: bool = False,
    issued_on: dt.date | None = None,
) -> Licence:
    """Issue and sign a licence, version 001 with the next serial of its type at the issuer.

    Idempotent per ``source`` + ``type_code``: a second call returns the first licence.
    ``valid_until=None`` takes the type's default validity (none: 长期有效).
    """
    issuer = Department.objects.filter(pk=issuer_department_id, is_active=True).first()
    if issuer is None:
        raise ValidationError({"issuer_department_id": [_("发证部门不存在或已停用")]})
    if not caller_checked:
        _require_issue(actor, issuer)
    type_code = type_code.strip().upper()
    source = source.strip()
    existing = _existing_for_source(type_code, source)
    if existing is not None:
        return existing
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not TYPE_CODE.match(type_code):
        add("type_code", _("证照类型代码应为1至40位数字或大写字母"))
    name = name.strip()
    if not name or len(name) > 100:
        add("name", _("请填写证照名称（不超过100字）"))
    holder_name = holder_name.strip()
    if not holder_name or len(holder_name) > 200:
        add("holder_name", _("请填写持证主体名称（不超过200字）"))
    if holder_id_type not in HolderIdType.values:
        add("holder_id_type", _("持证主体证件类型无效"))
        number = ""
    else:
        try:
            number = holder_id_normalise(holder_id_type, holder_id_number)
        except ValidationError as error:
            number = ""
            for message in error.message_dict["holder_id_number"]:
                add("holder_id_number", message)
    if len(source) > 200:
        add("source", _("来源标识不超过200个字符"))
    clean_fields = _fields_check(fields, add)
    day = issued_on or timezone.localdate()
    if valid_until is not None and valid_until < day:
        add("valid_until", _("有效期截止日期不能早于发证日期"))
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            licence_type = _type_for_issue(actor=actor, code=type_code, name=name, issuer=issuer)
            if valid_until is None and licence_type.default_validity_years:
                valid_until = _add_years(day, licence_type.default_validity_years) - dt.timedelta(
                    days=1
                )
            counter = _lock_counter(licence_type, issuer)
            existing = _existing_for_source(type_code, source)  # a twin held the lock
            if existing is not None:
                return existing
            licence = _write_licence(
                licence_type=licence_type,
                issuer=issuer,
                serial=_take_serial(counter),
                version=1,
                name=name,
                holder_name=holder_name,
                holder_id_type=holder_id_type,
                holder_id_number=number,
                issued_on=day,
                valid_until=valid_until,
                fields=clean_fields,
                source=source,
                previous=None,
            )
            _audit_issue(actor, licence, "licences.licence.issue")
            event_publish(LICENCE_ISSUED, _issued_payload(licence), actor=actor)
    except IntegrityError:
        existing = _existing_for_source(type_code, source)
        if existing is None:
            raise
        return existing
    return licence


# ---------------------------------------------------------------- revoke and renew


def _revoke_locked(locked: Licence, *, actor: User | None, reason: str, replaced_by: str) -> None:
    locked.status = LicenceStatus.REVOKED
    locked.revoked_at = timezone.now()
    locked.revoke_reason = reason
    locked.revoked_by = actor if actor is not None and actor.is_authenticated else None
    locked.revocation_signature = signing.sign_with(
        locked.signing_key, signing.revocation_bytes(locked)
    )
    locked.save(
        update_fields=[
            "status",
            "revoked_at",
            "revoke_reason",
            "revoked_by",
            "revocation_signature",
        ]
    )
    audit_record(
        action=signing.REVOKE_ACTION,
        actor=actor,
        target=locked,
        object_label=f"{locked.name} {locked.number}",
        detail={"identifier": locked.identifier, "reason": reason, "replaced_by": replaced_by},
    )
    event_publish(
        LICENCE_REVOKED,
        {
            "identifier": locked.identifier,
            "number": locked.number,
            "type_code": locked.licence_type.code,
            "issuer_department_code": locked.issuer.code,
            "revoked_at": locked.revoked_at.isoformat(),
            "reason": reason,
            "replaced_by": replaced_by or None,
        },
        actor=actor,
    )


def _lock(licence: Licence) -> Licence:
    return (
        Licence.objects.select_for_update(of=("self",))
        .select_related("licence_type", "issuer", "signing_key", "previous")
        .get(pk=licence.pk)
    )


def licence_revoke(*, actor: User | None, licence: Licence, reason: str) -> Licence:
    """Revoke (撤销) a licence with written reasons; needs ``licences.licence.revoke``
    over the issuing department. The revocation is signed like the licence."""
    if actor is not None and not can_access(
        actor, licence, permissions.LICENCE_REVOKE, LICENCE_SCOPE
    ):
        deny(actor, permissions.LICENCE_REVOKE, target=licence)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("请写明撤销原因")]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [_("撤销原因不超过%(n)d字") % {"n": MAX_REASON}]})
    with transaction.atomic():
        locked = _lock(licence)
        if locked.status == LicenceStatus.REVOKED:
            raise ValidationError(_("该证照已撤销"))
        _revoke_locked(locked, actor=actor, reason=reason, replaced_by="")
    return locked


def _holder_number(licence: Licence) -> str:
    try:
        return decrypt_text(signing._raw_holder_id(licence), purpose=HOLDER_ID_PURPOSE)
    except (DecryptionError, ValueError) as error:
        raise ValidationError(_("原证照数据验证失败，不能换发")) from error


def licence_renew(
    *,
    actor: User | None,
    licence: Licence,
    valid_until: dt.date | None,
    fields: Mapping[str, str] | None = None,
    name: str = "",
    holder_name: str = "",
    source: str = "",
    caller_checked: bool = False,
) -> Licence:
    """换发 (renewal or change): a new version of the same serial, linked to the old one,
    which is revoked with the new identifier as its reason. Idempotent per ``source``."""
    if not caller_checked:
        _require_issue(actor, licence.issuer)
    source = source.strip()
    existing = _existing_for_source(licence.licence_type.code, source)
    if existing is not None:
        return existing
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    clean_fields = _fields_check(fields, add) if fields is not None else None
    day = timezone.localdate()
    if valid_until is not None and valid_until < day:
        add("valid_until", _("有效期截止日期不能早于发证日期"))
    if len(holder_name.strip()) > 200 or len(name.strip()) > 100:
        add("name", _("名称过长"))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        old = _lock(licence)
        if old.status == LicenceStatus.REVOKED:
            raise ValidationError(_("已撤销的证照不能换发"))
        if old.version >= 999:
            raise ValidationError(_("该证照的版本号已用尽"))
        if not signing.is_intact(old):
            raise ValidationError(_("原证照数据验证失败，不能换发"))
        licence_type = old.licence_type
        if valid_until is None and licence_type.default_validity_years:
            valid_until = _add_years(day, licence_type.default_validity_years) - dt.timedelta(
                days=1
            )
        new = _write_licence(
            licence_type=licence_type,
            issuer=old.issuer,
            serial=old.serial,
            version=old.version + 1,
            name=name.strip() or old.name,
            holder_name=holder_name.strip() or old.holder_name,
            holder_id_type=old.holder_id_type,
            holder_id_number=_holder_number(old),
            issued_on=day,
            valid_until=valid_until,
            fields=clean_fields if clean_fields is not None else dict(old.fields),
            source=source,
            previous=old,
        )
        _audit_issue(actor, new, "licences.licence.renew")
        event_publish(LICENCE_ISSUED, _issued_payload(new), actor=actor)
        _revoke_locked(
            old,
            actor=actor,
            reason=_("已换发新证（%(identifier)s）") % {"identifier": new.identifier},
            replaced_by=new.identifier,
        )
    return new
