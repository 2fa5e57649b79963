"""Identity services: persons, legal persons, agents, passwords, tokens, sessions."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.platform.access.models import RoleAssignment
from tongban.platform.access.permissions import PERSON_REVEAL_ID, ROLES_ASSIGN, USERS_MANAGE
from tongban.platform.access.services import forget_grants, require
from tongban.platform.accounts.idnumbers import (
    InvalidIdNumber,
    resident_birth_date,
    resident_is_male,
    validate_resident_id,
    validate_uscc,
)
from tongban.platform.accounts.models import (
    AccessToken,
    AdminRole,
    AgentAuthorisation,
    Gender,
    LegalPerson,
    LegalPersonKind,
    NaturalPerson,
    SM2Device,
    User,
    UserKind,
)
from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.masking import mask_id_number, mask_phone
from tongban.platform.crypto.sm import lookup_hmac, sm3_hex
from tongban.platform.crypto.sm2 import PublicKeyInvalid, normalise_public_key_pem

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
    gender: str | None = None,
    birth_date: dt.date | None = None,
    address: str = "",
) -> NaturalPerson:
    """Record a natural person; the ID number is validated, encrypted and HMAC-indexed.

    Gender and birth date come from the number; when given they must agree with it.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写姓名")})
    number = _id_number(id_number)
    derived_gender = Gender.MALE if resident_is_male(number) else Gender.FEMALE
    derived_birth = resident_birth_date(number)
    if gender not in (None, "") and gender != derived_gender:
        raise ValidationError({"gender": _("性别与公民身份号码不符")})
    if birth_date is not None and birth_date != derived_birth:
        raise ValidationError({"birth_date": _("出生日期与公民身份号码不符")})
    mobile = mobile.strip()
    if mobile and not (len(mobile) == 11 and mobile.isdigit() and mobile.startswith("1")):
        raise ValidationError({"mobile": _("请输入11位手机号码")})
    digest = lookup_hmac(number, purpose=ID_PURPOSE)
    if NaturalPerson.objects.filter(id_number_hmac=digest).exists():
        raise ValidationError({"id_number": _("该公民身份号码已登记")})
    person = NaturalPerson(
        name=name,
        id_number=number,
        id_number_hmac=digest,
        id_number_masked=mask_id_number(number),
        gender=derived_gender,
        birth_date=derived_birth,
        mobile=mobile or None,
        mobile_masked=mask_phone(mobile) if mobile else "",
        address=address or None,
    )
    try:
        with transaction.atomic():
            person.save()
    except IntegrityError as error:
        raise ValidationError({"id_number": _("该公民身份号码已登记")}) from error
    audit_record(
        action="accounts.person.register",
        actor=actor,
        target=person,
        detail={"id_number_masked": person.id_number_masked},
    )
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
    try:
        validate_resident_id(id_number)
    except InvalidIdNumber as error:
        errors["id_number"] = [str(error)]
    if errors:
        raise ValidationError(errors)
    person = person_register(actor=None, name=name, id_number=id_number, mobile=mobile)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username, password, display_name=name, kind=UserKind.PUBLIC, person=person
            )
    except IntegrityError as error:
        raise ValidationError({"username": _("该用户名已被使用")}) from error
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
    legal_representative_person: NaturalPerson | None = None,
    address: str = "",
    registered_on: dt.date | None = None,
) -> LegalPerson:
    """Record a legal person identified by its unified social credit code (GB 32100)."""
    errors: dict[str, list[str]] = {}
    name = name.strip()
    legal_representative = legal_representative.strip()
    if not name:
        errors["name"] = [_("请填写名称")]
    if kind not in LegalPersonKind.values:
        errors["kind"] = [_("法人类型无效")]
    if not legal_representative:
        errors["legal_representative"] = [_("请填写法定代表人")]
    code = ""
    try:
        code = validate_uscc(uscc)
    except InvalidIdNumber as error:
        errors["uscc"] = [str(error)]
    if code and LegalPerson.objects.filter(uscc=code).exists():
        errors["uscc"] = [_("该统一社会信用代码已登记")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            legal_person = LegalPerson.objects.create(
                name=name,
                uscc=code,
                kind=kind,
                legal_representative=legal_representative,
                legal_representative_person=legal_representative_person,
                address=address.strip(),
                registered_on=registered_on,
            )
    except IntegrityError as error:
        raise ValidationError({"uscc": _("该统一社会信用代码已登记")}) from error
    audit_record(
        action="accounts.legal_person.register",
        actor=actor,
        target=legal_person,
        detail={"uscc": code},
    )
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
    """End an agent's authority now; the agent's acting-for session ends on its next request."""
    locked = AgentAuthorisation.objects.select_for_update().get(pk=authorisation.pk)
    if locked.revoked_at is not None:
        raise ValidationError(_("该授权已撤销"))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    authorisation.revoked_at = locked.revoked_at
    audit_record(
        action="accounts.agent.revoke",
        actor=actor,
        target=locked,
        detail={"agent": locked.agent.username, "legal_person": locked.legal_person.uscc},
    )


@transaction.atomic
def password_change(*, actor: User, old_password: str, new_password: str) -> None:
    if not actor.check_password(old_password):
        raise ValidationError({"old_password": _("原密码不正确")})
    try:
        validate_password(new_password, actor)
    except ValidationError as error:
        raise ValidationError({"new_password": list(error.messages)}) from error
    if actor.check_password(new_password):
        raise ValidationError({"new_password": _("新密码不能与原密码相同")})
    actor.set_password(new_password)
    actor.password_changed_at = timezone.now()
    actor.password_change_required = False
    actor.save(update_fields=["password", "password_changed_at", "password_change_required"])
    audit_record(action="accounts.password.change", actor=actor, target=actor)


def password_change_reason(user: User, *, now: dt.datetime | None = None) -> str:
    """Why ``user`` must change their password before anything else: ``"initial"`` (set by
    an administrator), ``"expired"`` (a staff password older than
    ``TONGBAN_PASSWORD_MAX_AGE_DAYS``), or ``""``. Citizens' and enterprises' passwords do
    not expire; a password whose age is unknown (no ``password_changed_at``) neither."""
    if user.password_change_required:
        return "initial"
    days = settings.TONGBAN_PASSWORD_MAX_AGE_DAYS
    if days <= 0 or user.kind != UserKind.STAFF or user.password_changed_at is None:
        return ""
    if (now or timezone.now()) - user.password_changed_at > dt.timedelta(days=days):
        return "expired"
    return ""


def token_hash(secret: str) -> str:
    return sm3_hex(secret.encode("utf-8"))


def _require_for_other(actor: User, user: User) -> None:
    """Acting on someone else's tokens needs the user-management permission (checked before
    any transaction, so a denial's audit entry is kept)."""
    if actor.pk != user.pk:
        require(actor, USERS_MANAGE, target=user)


def token_create(
    *, actor: User, user: User, name: str, expires_at: dt.datetime | None = None
) -> tuple[AccessToken, str]:
    """A personal access token for ``user``. The secret is returned once; only its SM3 hash
    and a short prefix (for display) are kept. Administrator accounts get no tokens: a token
    would bypass their second factor."""
    _require_for_other(actor, user)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写令牌名称")})
    if user.admin_role:
        raise ValidationError({"name": _("管理员账号不能创建访问令牌")})
    if not user.is_active:
        raise ValidationError({"name": _("该账号已停用")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("过期时间必须晚于当前时间")})
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 32 random bytes
    with transaction.atomic():
        token = AccessToken.objects.create(
            user=user,
            name=name[:100],
            prefix=secret[:10],
            token_hash=token_hash(secret),
            expires_at=expires_at,
        )
        audit_record(
            action="accounts.token.create",
            actor=actor,
            target=token,
            detail={"user": user.username, "prefix": token.prefix},
        )
    return token, secret


def token_revoke(*, actor: User, token: AccessToken) -> None:
    _require_for_other(actor, token.user)
    with transaction.atomic():
        updated = AccessToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if not updated:
            raise ValidationError(_("该令牌已撤销"))
        token.refresh_from_db(fields=["revoked_at"])
        audit_record(
            action="accounts.token.revoke",
            actor=actor,
            target=token,
            detail={"user": token.user.username, "prefix": token.prefix},
        )


TOKEN_USE_RECORD_INTERVAL = dt.timedelta(minutes=1)


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
    if token is None or not token.user.is_active or token.user.admin_role:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RECORD_INTERVAL:
        # a busy machine client would otherwise write this row on every request
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


def holds_role_assignment_elsewhere(user: User) -> bool:
    """True when a live role assignment gives ``user`` the role-assignment permission."""
    now = timezone.now()
    return (
        RoleAssignment.objects.filter(user=user, role__permissions__code=ROLES_ASSIGN)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .exists()
    )


def _check_admin_role(admin_role: str) -> None:
    if admin_role not in {AdminRole.SYSTEM, AdminRole.SECURITY, AdminRole.AUDITOR}:
        raise ValidationError({"admin_role": _("管理员角色无效")})


def admin_role_grant(*, actor: User | None, user: User, admin_role: str) -> User:
    """Make an existing staff login one of the three administrators (三权分立).

    ``actor`` None means the command line (``tongban createadmin``); a signed-in actor
    needs the role-assignment permission. An account holds at most one administrator
    role (one column), and a user who can already assign roles through ordinary role
    assignments may not also become an administrator.
    """
    if actor is not None:
        require(actor, ROLES_ASSIGN, target=user)
    _check_admin_role(admin_role)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.kind != UserKind.STAFF:
            raise ValidationError({"username": _("只有工作人员账号可以担任管理员")})
        if locked.admin_role and locked.admin_role != admin_role:
            raise ValidationError(
                {"admin_role": _("该账号已担任其他管理员角色，一个账号只能担任一种管理员角色")}
            )
        if locked.admin_role == admin_role:
            raise ValidationError({"admin_role": _("该账号已担任此管理员角色")})
        if holds_role_assignment_elsewhere(locked):
            raise ValidationError(
                {"admin_role": _("该账号已通过其他角色拥有分配角色的权限，不能再担任管理员")}
            )
        locked.admin_role = admin_role
        locked.is_staff = True
        locked.save(update_fields=["admin_role", "is_staff"])
        audit_record(
            action="accounts.admin_role.grant",
            actor=actor,
            target=locked,
            detail={"admin_role": admin_role, "source": "command" if actor is None else "web"},
        )
    forget_grants(user)
    user.admin_role, user.is_staff = locked.admin_role, True
    return locked


def _validate_new_staff_login(username: str, display_name: str, password: str) -> tuple[str, str]:
    """Check a new staff login's fields together; raise one ValidationError naming each."""
    errors: dict[str, list[str]] = {}
    username, display_name = username.strip(), display_name.strip()
    if not username:
        errors["username"] = [_("请填写用户名")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("该用户名已被使用")]
    if not display_name:
        errors["display_name"] = [_("请填写姓名")]
    probe = User(username=username, display_name=display_name, kind=UserKind.STAFF)
    try:
        validate_password(password, probe)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise ValidationError(errors)
    return username, display_name


def admin_create(
    *, actor: User | None, admin_role: str, username: str, display_name: str, password: str
) -> User:
    """Create a new administrator login (see ``admin_role_grant`` for the rules)."""
    if actor is not None:
        require(actor, ROLES_ASSIGN)
    _check_admin_role(admin_role)
    username, display_name = _validate_new_staff_login(username, display_name, password)
    with transaction.atomic():
        user = User.objects.create_user(
            username,
            password,
            display_name=display_name,
            kind=UserKind.STAFF,
            admin_role=admin_role,
            is_staff=True,
            password_changed_at=timezone.now(),
        )
        audit_record(
            action="accounts.admin.create",
            actor=actor,
            target=user,
            detail={"admin_role": admin_role, "source": "command" if actor is None else "web"},
        )
    return user


STAFF_UPDATABLE = frozenset({"display_name", "email", "is_active", "is_staff", "mobile"})


def staff_create(
    *,
    actor: User,
    username: str,
    display_name: str,
    password: str,
    email: str = "",
    mobile: str = "",
) -> User:
    """A staff login, created by a user manager (the system administrator)."""
    require(actor, USERS_MANAGE)
    username, display_name = _validate_new_staff_login(username, display_name, password)
    with transaction.atomic():
        user = User.objects.create_user(
            username,
            password,
            display_name=display_name,
            kind=UserKind.STAFF,
            email=email,
            password_changed_at=timezone.now(),
            password_change_required=True,  # the administrator knows this password
        )
        if mobile:
            user.set_mobile(mobile)
            user.save(update_fields=["mobile", "mobile_masked"])
        audit_record(action="accounts.user.create", actor=actor, target=user)
    return user


def user_update(*, actor: User, user: User, changes: dict[str, Any]) -> User:
    """Change a login's ordinary fields. Administrator roles are not changed here (only
    ``admin_role_grant``), nor passwords (only their owner, ``password_change``)."""
    require(actor, USERS_MANAGE, target=user)
    unknown = set(changes) - STAFF_UPDATABLE
    if unknown:
        raise ValueError(f"not updatable here: {sorted(unknown)}")
    if actor.pk == user.pk and changes.get("is_active") is False:
        raise ValidationError({"is_active": _("不能停用自己的账号")})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        changed: list[str] = []
        for field, value in changes.items():
            if field == "mobile":
                if (locked.mobile or "") != (value or ""):
                    locked.set_mobile(value or "")
                    changed += ["mobile", "mobile_masked"]
            elif getattr(locked, field) != value:
                setattr(locked, field, value)
                changed.append(field)
        if changed:
            locked.save(update_fields=changed)
            audit_record(
                action="accounts.user.update",
                actor=actor,
                target=locked,
                detail={"fields": sorted(set(changed))},
            )
    return locked


# ---------------------------------------------------------------- SM2 key (UKey) second factor


def sm2_device_enrol(*, actor: User, public_key_pem: str, name: str = "") -> SM2Device:
    """Start enrolling the SM2 public key of the actor's UKey: an unconfirmed device (any
    earlier unconfirmed one is replaced) with a challenge to sign. ValidationError for a
    key that is not an SM2 public key; nothing is saved then."""
    try:
        pem = normalise_public_key_pem(public_key_pem)
    except PublicKeyInvalid as error:
        raise ValidationError({"public_key_pem": error.message}) from error
    label = (name or "").strip()[:64] or _("SM2证书")
    with transaction.atomic():
        SM2Device.objects.filter(user=actor, confirmed=False).delete()
        device = SM2Device.objects.create(
            user=actor,
            name=label,
            confirmed=False,
            public_key_pem=pem,
            fingerprint=sm3_hex(pem.encode("ascii")),
        )
        device.generate_challenge()
    return device


def sm2_device_confirm(*, actor: User, device: SM2Device, signature: str) -> bool:
    """Finish enrolling: the UKey signed the challenge. On success the device replaces
    any earlier SM2 device of the actor and their second factor is on; both outcomes are
    audited. A failed attempt needs a new challenge."""
    if device.user_id != actor.pk or device.confirmed:
        raise ValidationError({"signature": _("请重新开始绑定")})
    with transaction.atomic():
        if not device.verify_token(signature):
            audit_record(
                action="accounts.mfa.sm2.enable",
                actor=actor,
                target=actor,
                outcome=Outcome.FAILURE,
                detail={"fingerprint": device.fingerprint},
            )
            device.generate_challenge()
            return False
        SM2Device.objects.filter(user=actor, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        actor.mfa_enabled = True
        actor.save(update_fields=["mfa_enabled"])
        audit_record(
            action="accounts.mfa.sm2.enable",
            actor=actor,
            target=actor,
            detail={"fingerprint": device.fingerprint},
        )
    return True
