"""Identity services: persons, legal persons, agents, passwords, tokens, sessions."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.platform.access.permissions import PERSON_REVEAL_ID
from tongban.platform.access.services import require
from tongban.platform.accounts.idnumbers import (
    InvalidIdNumber,
    resident_birth_date,
    resident_is_male,
    validate_resident_id,
    validate_uscc,
)
from tongban.platform.accounts.models import (
    AccessToken,
    AgentAuthorisation,
    LegalPerson,
    NaturalPerson,
    User,
    UserKind,
)
from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.masking import mask_id_number, mask_phone
from tongban.platform.crypto.sm import lookup_hmac, sm3_hex

ID_PURPOSE = "person.id_number"
TOKEN_PREFIX = "tb_"  # noqa: S105 - a public prefix, not a secret


def session_expire(*, request: HttpRequest, user: Any) -> None:
    audit_record(action="accounts.session.expire", actor=user, target=user)


def _id_number(value: str, field: str = "id_number") -> str:
    try:
        return validate_resident_id(value)
    except InvalidIdNumber as error:
        raise ValidationError({field: str(error)}, code=error.code) from error


def person_find_by_id_number(number: str) -> NaturalPerson | None:
    try:
        normalised = validate_resident_id(number)
    except InvalidIdNumber:
        return None
    digest = lookup_hmac(normalised, purpose=ID_PURPOSE)
    return NaturalPerson.objects.filter(id_number_hmac=digest).first()


@transaction.atomic
def person_register(
    *,
    actor: Any,
    name: str,
    id_number: str,
    mobile: str = "",
    address: str = "",
) -> NaturalPerson:
    """Record a natural person; the ID number is validated, encrypted and HMAC-indexed."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写姓名")})
    number = _id_number(id_number)
    digest = lookup_hmac(number, purpose=ID_PURPOSE)
    if NaturalPerson.objects.filter(id_number_hmac=digest).exists():
        raise ValidationError({"id_number": _("该公民身份号码已登记")})
    person = NaturalPerson(
        name=name,
        id_number=number,
        id_number_hmac=digest,
        id_number_masked=mask_id_number(number),
        gender="M" if resident_is_male(number) else "F",
        birth_date=resident_birth_date(number),
        mobile=mobile or None,
        mobile_masked=mask_phone(mobile) if mobile else "",
        address=address or None,
    )
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as error:
        raise ValidationError({"id_number": _("该公民身份号码已登记")}) from error
    audit_record(action="accounts.person.register", actor=actor, target=person)
    return person


def person_reveal_id_number(*, actor: Any, person: NaturalPerson) -> str:
    """The full ID number: a separate permission, and every read is audited (the check
    comes first, outside the transaction, so a denial's audit entry is kept)."""
    require(actor, PERSON_REVEAL_ID)
    with transaction.atomic():
        audit_record(
            action="accounts.person.reveal_id_number",
            actor=actor,
            target=person,
            detail={"personal_data": "id_number"},
        )
    return str(person.id_number)


@transaction.atomic
def citizen_register(
    *,
    username: str,
    password: str,
    name: str,
    id_number: str,
    mobile: str = "",
) -> User:
    """Self-registration of a citizen: a real-name person and a public login, together."""
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username=username).exists():
        errors["username"] = [_("该用户名已被使用")]
    probe = User(username=username, display_name=name, kind=UserKind.PUBLIC)
    try:
        validate_password(password, probe)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    person = person_register(actor=None, name=name, id_number=id_number, mobile=mobile)
    user = User.objects.create_user(
        username, password, display_name=name, kind=UserKind.PUBLIC, person=person
    )
    if mobile:
        user.set_mobile(mobile)
    user.password_changed_at = timezone.now()
    user.save()
    audit_record(action="accounts.user.register", actor=user, target=user)
    return user


@transaction.atomic
def legal_person_register(
    *,
    actor: Any,
    name: str,
    uscc: str,
    kind: str,
    legal_representative: str,
    address: str = "",
) -> LegalPerson:
    try:
        code = validate_uscc(uscc)
    except InvalidIdNumber as error:
        raise ValidationError({"uscc": str(error)}, code=error.code) from error
    if LegalPerson.objects.filter(uscc=code).exists():
        raise ValidationError({"uscc": _("该统一社会信用代码已登记")})
    legal_person = LegalPerson.objects.create(
        name=name.strip(),
        uscc=code,
        kind=kind,
        legal_representative=legal_representative.strip(),
        address=address,
    )
    audit_record(action="accounts.legal_person.register", actor=actor, target=legal_person)
    return legal_person


@transaction.atomic
def agent_authorise(
    *,
    actor: Any,
    agent: User,
    legal_person: LegalPerson,
    valid_from: dt.date,
    valid_until: dt.date | None = None,
) -> AgentAuthorisation:
    if agent.kind != UserKind.PUBLIC or agent.person_id is None:
        raise ValidationError(_("经办人必须是已实名的公众用户"))
    if valid_until is not None and valid_until < valid_from:
        raise ValidationError(_("失效日期不能早于生效日期"))
    if AgentAuthorisation.objects.filter(
        agent=agent, legal_person=legal_person, revoked_at__isnull=True
    ).exists():
        raise ValidationError(_("该经办人已获授权"))
    authorisation = AgentAuthorisation.objects.create(
        agent=agent,
        legal_person=legal_person,
        granted_by=actor if getattr(actor, "pk", None) else None,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    audit_record(
        action="accounts.agent.authorise",
        actor=actor,
        target=authorisation,
        detail={"agent": agent.username, "legal_person": legal_person.uscc},
    )
    return authorisation


@transaction.atomic
def agent_revoke(*, actor: Any, authorisation: AgentAuthorisation) -> None:
    authorisation.revoked_at = timezone.now()
    authorisation.save(update_fields=["revoked_at"])
    audit_record(action="accounts.agent.revoke", actor=actor, target=authorisation)


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise ValidationError({"old_password": _("原密码不正确")})
    try:
        validate_password(new_password, actor)
    except ValidationError as error:
        raise ValidationError({"new_password": list(error.messages)}) from error
    actor.set_password(new_password)
    actor.password_changed_at = timezone.now()
    actor.save(update_fields=["password", "password_changed_at"])
    audit_record(action="accounts.password.change", actor=actor, target=actor)


def token_hash(secret: str) -> str:
    return sm3_hex(secret.encode("utf-8"))


@transaction.atomic
def token_create(
    *, actor: User, name: str, expires_at: dt.datetime | None = None
) -> tuple[AccessToken, str]:
    """A personal access token for ``actor``; the secret is returned once, only its hash
    is kept."""
    if not name.strip():
        raise ValidationError({"name": _("请填写令牌名称")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken.objects.create(
        user=actor,
        name=name.strip(),
        prefix=secret[:10],
        token_hash=token_hash(secret),
        expires_at=expires_at,
    )
    audit_record(action="accounts.token.create", actor=actor, target=token)
    return token, secret


@transaction.atomic
def token_revoke(*, actor: User, token: AccessToken) -> None:
    if token.user_id != actor.pk:
        raise ValidationError(_("只能撤销自己的令牌"))
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(action="accounts.token.revoke", actor=actor, target=token)


def token_authenticate(secret: str) -> User | None:
    """The active user owning a live token, or None. Updates last use."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        AccessToken.objects.select_related("user")
        .filter(token_hash=token_hash(secret), revoked_at__isnull=True)
        .first()
    )
    now = timezone.now()
    if token is None or not token.user.is_active:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def login_record(
    *, user: Any, request: HttpRequest | None, success: bool, username: str = ""
) -> None:
    audit_record(
        action="accounts.login",
        actor=user if success else None,
        object_type="accounts.user",
        object_id=str(user.pk) if success and user is not None else "",
        object_label=username,
        outcome=Outcome.SUCCESS if success else Outcome.FAILURE,
        detail={"username": username},
    )
