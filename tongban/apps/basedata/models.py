"""The base databases (基础库): population, legal persons, births, the e-licence register
and the address register.

要素集中、业务分散: the core elements are held here, centrally; each record keeps, per
field, the department that last supplied it and when (``sources``:
``{field: {"department": code, "department_name": name, "at": iso}}``). Identity numbers
and other personal data are SM4-GCM encrypted and found by their keyed SM3 HMAC.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.platform.crypto.fields import EncryptedTextField

ID_PURPOSE = "basedata.id_number"
NAME_PURPOSE = "basedata.name"
PHONE_PURPOSE = "basedata.phone"
ISSUE_PURPOSE = "basedata.issue_values"
PREFIX_PURPOSE = "basedata.id_prefix"


class Record(models.Model):
    """What every base-database row has: per-field provenance and timestamps."""

    sources = models.JSONField(_("数据来源"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True

    def source_of(self, field: str) -> dict[str, Any]:
        return dict(self.sources.get(field) or {})


class NaturalPerson(Record):
    """人口基础库: one resident, keyed by the resident ID number."""

    id_number = EncryptedTextField(_("公民身份号码"), purpose=ID_PURPOSE)
    id_number_hmac = models.CharField(max_length=64, unique=True, editable=False)
    id_prefix_hmac = models.CharField(max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField(_("公民身份号码"), max_length=18, editable=False)
    id_check_ok = models.BooleanField(_("校验码正确"), default=True)
    name = EncryptedTextField(_("姓名"), purpose=NAME_PURPOSE)
    name_masked = models.CharField(_("姓名"), max_length=100, editable=False, blank=True)
    gender = models.CharField(_("性别"), max_length=2, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    birth_place = models.CharField(_("出生地"), max_length=200, blank=True)
    household_number = models.CharField(_("户号"), max_length=40, blank=True, db_index=True)
    household_address = models.CharField(_("户籍地址"), max_length=300, blank=True)
    relation_to_head = models.CharField(_("与户主关系"), max_length=20, blank=True)
    marital_status = models.CharField(_("婚姻状况"), max_length=20, blank=True)
    phone = EncryptedTextField(_("联系电话"), purpose=PHONE_PURPOSE, null=True, blank=True)
    residence_address = models.CharField(_("居住地址"), max_length=300, blank=True)
    death_date = models.DateField(_("死亡日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("人口基础信息")
        verbose_name_plural = _("人口基础信息")

    def __str__(self) -> str:
        return f"{self.name_masked}（{self.id_number_masked}）"


class LegalPerson(Record):
    """法人基础库: one legal person, keyed by its unified social credit code."""

    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    uscc_check_ok = models.BooleanField(_("校验码正确"), default=True)
    name = models.CharField(_("名称"), max_length=200, db_index=True)
    entity_type = models.CharField(_("主体类型"), max_length=60, blank=True)
    legal_representative = models.CharField(_("法定代表人"), max_length=100, blank=True)
    legal_representative_id = EncryptedTextField(
        _("法定代表人身份证件号码"), purpose=ID_PURPOSE, null=True, blank=True
    )
    legal_representative_id_hmac = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False
    )
    legal_representative_id_masked = models.CharField(
        _("法定代表人身份证件号码"), max_length=18, blank=True, editable=False
    )
    registered_address = models.CharField(_("住所"), max_length=300, blank=True)
    registered_capital = models.CharField(_("注册资本"), max_length=60, blank=True)
    established_on = models.DateField(_("成立日期"), null=True, blank=True)
    business_scope = models.TextField(_("经营范围"), blank=True)
    status = models.CharField(_("登记状态"), max_length=20, blank=True)
    registration_authority = models.CharField(_("登记机关"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("法人基础信息")
        verbose_name_plural = _("法人基础信息")

    def __str__(self) -> str:
        return f"{self.name}（{self.uscc}）"


class BirthRecord(Record):
    """出生医学证明."""

    certificate_number = models.CharField(_("出生医学证明编号"), max_length=40, unique=True)
    newborn_name = models.CharField(_("新生儿姓名"), max_length=100, blank=True)
    newborn_gender = models.CharField(_("新生儿性别"), max_length=2, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    birth_place = models.CharField(_("出生地点"), max_length=200, blank=True)
    hospital = models.CharField(_("接生机构"), max_length=200, blank=True)
    mother_id = EncryptedTextField(_("母亲身份证件号码"), purpose=ID_PURPOSE, null=True, blank=True)
    mother_id_hmac = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    mother_id_masked = models.CharField(
        _("母亲身份证件号码"), max_length=18, blank=True, editable=False
    )
    mother_name = models.CharField(_("母亲姓名"), max_length=100, blank=True)
    father_id = EncryptedTextField(_("父亲身份证件号码"), purpose=ID_PURPOSE, null=True, blank=True)
    father_id_hmac = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    father_id_masked = models.CharField(
        _("父亲身份证件号码"), max_length=18, blank=True, editable=False
    )
    father_name = models.CharField(_("父亲姓名"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("出生医学证明")
        verbose_name_plural = _("出生医学证明")

    def __str__(self) -> str:
        return self.certificate_number


class LicenceRecord(Record):
    """电子证照库: the register of licences, fed by the licences app's events."""

    identifier = models.CharField(_("证照标识"), max_length=120, unique=True)
    number = models.CharField(_("证照编号"), max_length=80)
    name = models.CharField(_("证照名称"), max_length=100)
    type_code = models.CharField(_("证照类型代码"), max_length=40)
    holder_name = models.CharField(_("持证主体"), max_length=200)
    holder_id_type = models.CharField(_("持证主体证件类型"), max_length=20, blank=True)
    holder_id = EncryptedTextField(_("持证主体证件号码"), purpose=ID_PURPOSE)
    holder_id_hmac = models.CharField(max_length=64, db_index=True, editable=False)
    holder_id_masked = models.CharField(
        _("持证主体证件号码"), max_length=40, blank=True, editable=False
    )
    issuer_name = models.CharField(_("发证机关"), max_length=100)
    issued_on = models.DateField(_("发证日期"), null=True, blank=True)
    valid_until = models.DateField(_("有效期截止"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10)

    class Meta:
        verbose_name = _("电子证照目录")
        verbose_name_plural = _("电子证照目录")

    def __str__(self) -> str:
        return f"{self.name} {self.number}"


class AddressEntry(Record):
    """地名地址库."""

    code = models.CharField(_("地址编码"), max_length=40, unique=True)
    full_address = models.CharField(_("标准地址"), max_length=300, db_index=True)
    district = models.CharField(_("区县"), max_length=60, blank=True)
    street = models.CharField(_("街道（乡镇）"), max_length=60, blank=True)
    community = models.CharField(_("社区（村）"), max_length=60, blank=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=10, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("纬度"), max_digits=10, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("地名地址")
        verbose_name_plural = _("地名地址")

    def __str__(self) -> str:
        return self.full_address


class IssueKind(models.TextChoices):
    CHECK_CHAR = "check_char", _("校验码错误")
    DUPLICATE = "duplicate", _("疑似重复")
    CONFLICT = "conflict", _("来源冲突")


class IssueStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    RESOLVED = "resolved", _("已处理")
    DISMISSED = "dismissed", _("已忽略")


class QualityIssue(models.Model):
    """A problem the quality checks found, for a data steward to resolve. ``values`` holds
    the competing values by source department (JSON, encrypted: they may be personal)."""

    kind = models.CharField(_("问题类型"), max_length=20, choices=IssueKind.choices)
    dataset = models.CharField(_("数据集"), max_length=20)
    record_id = models.BigIntegerField(_("记录"))
    record_label = models.CharField(_("记录"), max_length=300)
    field = models.CharField(_("字段"), max_length=60, blank=True)
    values = EncryptedTextField(_("各来源的值"), purpose=ISSUE_PURPOSE, null=True, blank=True)
    fingerprint = models.CharField(max_length=64, editable=False)
    status = models.CharField(
        _("状态"), max_length=10, choices=IssueStatus.choices, default=IssueStatus.OPEN
    )
    resolution = models.TextField(_("处理意见"), blank=True)
    chosen_department = models.CharField(_("采用来源"), max_length=32, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    detected_at = models.DateTimeField(_("发现时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("数据质量问题")
        verbose_name_plural = _("数据质量问题")
        ordering = ["-detected_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=Q(status="open"),
                name="basedata_one_open_issue",
            ),
        ]
        indexes = [models.Index(fields=["status", "kind"], name="basedata_issue_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.record_label} {self.field}"
