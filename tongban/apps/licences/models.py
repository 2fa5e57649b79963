"""Electronic licences (电子证照), their types, serial counters and the issuers' SM2 keys.

A licence row is written once at issuance and signed; afterwards only its revocation
columns change (themselves signed). Nothing edits the signed columns: a change made
behind the application's back shows as 被篡改 on the verification page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.platform.crypto.fields import EncryptedTextField
from tongban.platform.orgs.models import Department

HOLDER_ID_PURPOSE = "licences.holder_id_number"
ISSUER_KEY_PURPOSE = "licences.issuer_key"


class HolderIdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证")
    USCC = "uscc", _("统一社会信用代码")
    PASSPORT = "passport", _("护照")
    OTHER = "other", _("其他证件")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("有效")
    REVOKED = "revoked", _("已撤销")
    EXPIRED = "expired", _("已过期")


class LicenceType(models.Model):
    """A kind of licence (食品经营许可证 …): its code is part of every identifier."""

    code = models.CharField(_("证照类型代码"), max_length=40, unique=True)
    name = models.CharField(_("证照类型名称"), max_length=100)
    default_validity_years = models.PositiveSmallIntegerField(
        _("默认有效期（年）"), default=0, help_text=_("0 表示长期有效")
    )
    issuing_department = models.ForeignKey(
        Department,
        verbose_name=_("发证部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("证照类型")
        verbose_name_plural = _("证照类型")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class IssuerKey(models.Model):
    """An issuing department's SM2 signing key; the private key is SM4-GCM encrypted."""

    department = models.ForeignKey(
        Department, verbose_name=_("发证部门"), on_delete=models.PROTECT, related_name="+"
    )
    public_key_pem = models.TextField(_("公钥"))
    private_key_encrypted = models.BinaryField(_("私钥（加密）"), editable=False)
    fingerprint = models.CharField(_("公钥指纹"), max_length=64, unique=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")
        constraints = [
            models.UniqueConstraint(
                fields=["department"],
                condition=Q(is_active=True),
                name="licences_one_active_key_per_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department_id}:{self.fingerprint[:16]}"


class SerialCounter(models.Model):
    """The last serial given for a licence type at an issuer (locked while issuing)."""

    licence_type = models.ForeignKey(LicenceType, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["licence_type", "department"], name="licences_one_counter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.licence_type_id}@{self.department_id}: {self.last_serial}"


class LicenceManager(models.Manager["Licence"]):
    """Loads licences without their encrypted ID number: a damaged frame must not stop a
    page from loading (verification reads the raw bytes itself and reports 被篡改)."""

    def get_queryset(self) -> models.QuerySet[Licence]:
        return super().get_queryset().defer("holder_id_number")


class Licence(models.Model):
    identifier = models.CharField(_("证照标识"), max_length=120, unique=True)
    number = models.CharField(_("证照编号"), max_length=80, unique=True)
    name = models.CharField(_("证照名称"), max_length=100)
    licence_type = models.ForeignKey(
        LicenceType, verbose_name=_("证照类型"), on_delete=models.PROTECT, related_name="licences"
    )
    serial = models.PositiveIntegerField(_("流水号"))
    version = models.PositiveSmallIntegerField(_("版本号"), default=1)
    holder_name = models.CharField(_("持证主体"), max_length=200)
    holder_id_type = models.CharField(
        _("持证主体证件类型"), max_length=20, choices=HolderIdType.choices
    )
    holder_id_number = EncryptedTextField(_("持证主体证件号码"), purpose=HOLDER_ID_PURPOSE)
    holder_id_hmac = models.CharField(max_length=64, db_index=True, editable=False)
    holder_id_masked = models.CharField(_("持证主体证件号码"), max_length=40, editable=False)
    issuer = models.ForeignKey(
        Department, verbose_name=_("发证机关"), on_delete=models.PROTECT, related_name="+"
    )
    issuer_name = models.CharField(_("发证机关名称"), max_length=100)
    issued_on = models.DateField(_("发证日期"))
    valid_from = models.DateField(_("有效期起始"))
    valid_until = models.DateField(_("有效期截止"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=LicenceStatus.choices, default=LicenceStatus.VALID
    )
    previous = models.ForeignKey(
        "self",
        verbose_name=_("关联证照"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
    )
    fields = models.JSONField(_("照面信息"), default=dict, blank=True)
    source = models.CharField(_("来源"), max_length=200, blank=True)
    canonical = models.BinaryField(_("签名原文"), editable=False)
    signature = models.BinaryField(_("SM2签名"), editable=False)
    signing_key = models.ForeignKey(
        IssuerKey, verbose_name=_("签名密钥"), on_delete=models.PROTECT, related_name="licences"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.TextField(_("撤销原因"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revocation_signature = models.BinaryField(_("撤销签名"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = LicenceManager()

    class Meta:
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")
        ordering = ["-issued_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["licence_type", "issuer", "serial", "version"],
                name="licences_one_serial_version",
            ),
            models.UniqueConstraint(
                fields=["licence_type", "source"],
                condition=~Q(source=""),
                name="licences_one_per_source_and_type",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["valid", "revoked", "expired"]),
                name="licences_status_known",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1) & Q(version__lte=999),
                name="licences_version_three_digits",
            ),
        ]
        indexes = [models.Index(fields=["issuer", "-issued_on"], name="licences_by_issuer")]

    def __str__(self) -> str:
        return f"{self.name} {self.number}"
