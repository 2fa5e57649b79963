"""One login model for staff, natural persons and enterprise agents.

A ``User`` is a login. A citizen's login links to a ``NaturalPerson`` (real-name identity).
An enterprise agent is a natural person's login acting for a ``LegalPerson`` under an
``AgentAuthorisation``. Staff logins hold postings in units (``orgs.Posting``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin

from tongban.platform.crypto.fields import EncryptedTextField
from tongban.platform.crypto.masking import mask_phone


class UserKind(models.TextChoices):
    STAFF = "staff", _("工作人员")
    PUBLIC = "public", _("公众用户")


class AdminRole(models.TextChoices):
    """三权分立: an account holds at most one of the three administrator roles.

    Stored as one column, so holding two is impossible by construction.
    """

    NONE = "", _("无")
    SYSTEM = "system_admin", _("系统管理员")
    SECURITY = "security_admin", _("安全管理员")
    AUDITOR = "auditor", _("安全审计员")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> User:
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("kind", UserKind.STAFF)
        extra.setdefault("admin_role", AdminRole.SYSTEM)
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]  # django-otp devices
    username = models.CharField(_("用户名"), max_length=150, unique=True)
    display_name = models.CharField(_("姓名"), max_length=100)
    kind = models.CharField(_("用户类型"), max_length=10, choices=UserKind.choices)
    admin_role = models.CharField(
        _("管理员角色"),
        max_length=20,
        choices=AdminRole.choices,
        default=AdminRole.NONE,
        blank=True,
    )
    person = models.OneToOneField(
        "NaturalPerson",
        verbose_name=_("实名身份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="user",
    )
    email = models.EmailField(_("电子邮箱"), blank=True)
    mobile = EncryptedTextField(_("手机号码"), purpose="user.mobile", null=True, blank=True)
    mobile_masked = models.CharField(_("手机号码"), max_length=20, blank=True)
    preferred_language = models.CharField(_("界面语言"), max_length=10, default="zh-hans")
    is_active = models.BooleanField(_("启用"), default=True)
    is_staff = models.BooleanField(_("可进入管理后台"), default=False)
    mfa_enabled = models.BooleanField(_("已启用双因素认证"), default=False)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    #: the password was set by someone else (an administrator creating the login): the
    #: owner must change it before doing anything else
    password_change_required = models.BooleanField(_("须修改初始密码"), default=False)
    date_joined = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["display_name", "kind"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=Q(admin_role="") | Q(kind="staff"),
                name="accounts_admin_roles_are_staff",
            ),
            models.CheckConstraint(
                condition=Q(admin_role__in=["", "system_admin", "security_admin", "auditor"]),
                name="accounts_admin_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_staff_member(self) -> bool:
        return self.kind == UserKind.STAFF

    @property
    def mfa_required(self) -> bool:
        """Administrators and supervisors must use a second factor; so must anyone who
        enabled one (it is then checked at every login)."""
        if self.admin_role or self.mfa_enabled:
            return True
        from tongban.platform.access.services import user_requires_mfa

        return user_requires_mfa(self)

    def set_mobile(self, number: str) -> None:
        self.mobile = number or None
        self.mobile_masked = mask_phone(number) if number else ""


class Gender(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class NaturalPerson(models.Model):
    """A natural person with a real-name identity. The ID number is stored encrypted
    (SM4-GCM), found by its keyed SM3 HMAC, and shown masked."""

    name = models.CharField(_("姓名"), max_length=100)
    id_number = EncryptedTextField(_("公民身份号码"), purpose="person.id_number")
    id_number_hmac = models.CharField(max_length=64, unique=True, editable=False)
    id_number_masked = models.CharField(_("公民身份号码"), max_length=18, editable=False)
    gender = models.CharField(_("性别"), max_length=1, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    mobile = EncryptedTextField(_("手机号码"), purpose="person.mobile", null=True, blank=True)
    mobile_masked = models.CharField(_("手机号码"), max_length=20, blank=True)
    address = EncryptedTextField(_("住址"), purpose="person.address", null=True, blank=True)
    verified_at = models.DateTimeField(_("实名核验时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("自然人")
        verbose_name_plural = _("自然人")

    def __str__(self) -> str:
        return f"{self.name}（{self.id_number_masked}）"

    @property
    def masked_id(self) -> str:
        return self.id_number_masked


class LegalPersonKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INSTITUTION = "institution", _("事业单位")
    SOCIAL_ORG = "social_org", _("社会组织")
    INDIVIDUAL_BUSINESS = "individual", _("个体工商户")


class LegalPerson(models.Model):
    """An enterprise, institution or social organisation, identified by its USCC."""

    name = models.CharField(_("名称"), max_length=200)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=LegalPersonKind.choices)
    legal_representative = models.CharField(_("法定代表人"), max_length=100)
    legal_representative_person = models.ForeignKey(
        NaturalPerson,
        verbose_name=_("法定代表人身份"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="represented_legal_persons",
    )
    address = models.CharField(_("住所"), max_length=300, blank=True)
    registered_on = models.DateField(_("成立日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("法人")
        verbose_name_plural = _("法人")

    def __str__(self) -> str:
        return self.name


class AgentAuthorisation(models.Model):
    """A person's authority to act for a legal person (经办人授权)."""

    agent = models.ForeignKey(
        User,
        verbose_name=_("经办人"),
        on_delete=models.CASCADE,
        related_name="agent_authorisations",
    )
    legal_person = models.ForeignKey(
        LegalPerson, verbose_name=_("法人"), on_delete=models.CASCADE, related_name="agents"
    )
    granted_by = models.ForeignKey(
        User,
        verbose_name=_("授权人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    valid_from = models.DateField(_("生效日期"))
    valid_until = models.DateField(_("失效日期"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("经办人授权")
        verbose_name_plural = _("经办人授权")
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "legal_person"],
                condition=Q(revoked_at__isnull=True),
                name="accounts_one_live_authorisation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} → {self.legal_person}"

    def is_live(self, on: Any = None) -> bool:
        today = on or timezone.localdate()
        return (
            self.revoked_at is None
            and self.valid_from <= today
            and (self.valid_until is None or today <= self.valid_until)
        )


class AccessToken(models.Model):
    """A personal access token for machine clients; only its SM3 hash is stored."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(_("前缀"), max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class SM2Device(ThrottlingMixin, Device):
    """A second factor held in a cryptographic device (智能密码钥匙, UKey): the user's SM2
    key pair is made and kept in the key; the platform stores the public key and checks an
    SM2 signature (SM3 digest) of a one-time challenge (GB/T 39786 level 3: identity
    checked with cryptography). A django-otp device, so ``otp_login`` and
    ``is_verified()`` treat it like the TOTP authenticator.

    The text signed names the platform, the username and a random challenge valid for
    ``CHALLENGE_SECONDS``; it is used once, whether the signature fits or not."""

    CHALLENGE_SECONDS = 300

    public_key_pem = models.TextField(_("SM2公钥"))
    fingerprint = models.CharField(_("公钥指纹（SM3）"), max_length=64)
    challenge = models.CharField(max_length=64, blank=True)
    challenge_valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SM2证书设备")
        verbose_name_plural = _("SM2证书设备")

    def get_throttle_factor(self) -> int:
        from django.conf import settings

        return int(getattr(settings, "OTP_SM2_THROTTLE_FACTOR", 1))

    def generate_challenge(self) -> str:
        """A fresh challenge; returns the text to sign."""
        self.challenge = secrets.token_hex(16)
        self.challenge_valid_until = timezone.now() + dt.timedelta(seconds=self.CHALLENGE_SECONDS)
        self.save(update_fields=["challenge", "challenge_valid_until"])
        return self.challenge_text()

    def challenge_text(self) -> str:
        if not self.challenge:
            return ""
        return f"tongban-login:{self.user.username}:{self.challenge}"

    def verify_token(self, token: Any) -> bool:
        """``token``: the SM2 signature (DER) of ``challenge_text()``, base64 or hex."""
        from tongban.platform.crypto import sm2

        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        text = self.challenge_text()
        valid_until = self.challenge_valid_until
        # used once, either way: only the request that clears it may go on (two requests
        # racing with the same signature cannot both pass)
        consumed = bool(text) and (
            SM2Device.objects.filter(pk=self.pk, challenge=self.challenge).update(
                challenge="", challenge_valid_until=None
            )
            == 1
        )
        self.challenge = ""
        self.challenge_valid_until = None
        fresh = consumed and valid_until is not None and timezone.now() <= valid_until
        signature = _signature_bytes(str(token or ""))
        verified = False
        if fresh and signature:
            try:
                sm2.verify(self.public_key_pem.encode("ascii"), text.encode("utf-8"), signature)
                verified = True
            except (sm2.SignatureInvalid, ValueError):
                verified = False
        if verified:
            self.throttle_reset(commit=False)
        else:
            self.throttle_increment(commit=False)
        self.save()
        return verified


def _signature_bytes(token: str) -> bytes:
    """A signature as hex or base64 text (what UKey tools print); b"" when neither."""
    text = "".join(token.split())
    if not text:
        return b""
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return b""
