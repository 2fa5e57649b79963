"""Organisations: divisions (GB/T 2260), government bodies, departments (委办局), internal
units (科室), positions, postings of staff, service centres and their windows.

Trees (divisions, departments, units) keep a materialised ``path``; a subtree is the range
``path >= p AND path < p + '~'``, one query on a plain B-tree index on both SQLite and
PostgreSQL (no LIKE, so no operator-class differences).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

PATH_END = "~"  # sorts after every character used in paths

division_code_validator = RegexValidator(
    r"^\d{12}$", _("区划代码应为12位数字（GB/T 2260 六位代码 + 乡镇三位 + 村居三位）")
)


class TreeQuerySet(models.QuerySet[Any]):
    def subtree(self, path: str) -> TreeQuerySet:
        """The node at ``path`` and everything below it."""
        return self.filter(path__gte=path, path__lt=path + PATH_END)


class DivisionLevel(models.IntegerChoices):
    PROVINCE = 1, _("省")
    CITY = 2, _("市")
    COUNTY = 3, _("县/区")
    TOWN = 4, _("乡镇/街道")
    VILLAGE = 5, _("村/社区")


class Division(models.Model):
    """An administrative division. ``code`` is the 12-digit area code used in item codes."""

    code = models.CharField(
        _("区划代码"), max_length=12, unique=True, validators=[division_code_validator]
    )
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(_("层级"), choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)

    objects = TreeQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def gb2260_code(self) -> str:
        return self.code[:6]


class BodyKind(models.TextChoices):
    GOVERNMENT = "government", _("人民政府")
    PARTY = "party", _("党委")
    PEOPLES_CONGRESS = "congress", _("人大")
    DISCIPLINE = "discipline", _("纪委监委")
    OTHER = "other", _("其他")


class GovernmentBody(models.Model):
    """A body that governs a division: 示范市人民政府, 示范市纪委监委, ..."""

    division = models.ForeignKey(
        Division, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="bodies"
    )
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=BodyKind.choices)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)

    class Meta:
        verbose_name = _("政府机关")
        verbose_name_plural = _("政府机关")
        constraints = [
            models.UniqueConstraint(fields=["division", "name"], name="orgs_body_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """A department (委办局). ``parent`` links to the same system's higher-level department
    (区市场监管局 → 市市场监管局) so "department and below" covers the system."""

    division = models.ForeignKey(
        Division, verbose_name=_("行政区划"), on_delete=models.PROTECT, related_name="departments"
    )
    body = models.ForeignKey(
        GovernmentBody,
        verbose_name=_("所属机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="departments",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("部门编码"), max_length=32, unique=True)
    uscc = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称/机关代字"), max_length=20, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    path = models.CharField(max_length=255, db_index=True, editable=False)
    division_path = models.CharField(max_length=255, db_index=True, editable=False)

    objects = TreeQuerySet.as_manager()

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["division__code", "code"]
        indexes = [
            models.Index(fields=["division_path", "path"], name="orgs_dept_division_tree"),
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An internal unit (科室) of a department; units nest (处 → 科)."""

    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="units"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    is_active = models.BooleanField(_("启用"), default=True)
    path = models.CharField(max_length=255, db_index=True, editable=False)
    department_path = models.CharField(max_length=255, db_index=True, editable=False)
    division_path = models.CharField(max_length=255, db_index=True, editable=False)

    objects = TreeQuerySet.as_manager()

    class Meta:
        verbose_name = _("科室")
        verbose_name_plural = _("科室")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["department_path", "path"], name="orgs_unit_department_tree"),
        ]

    def __str__(self) -> str:
        return f"{self.department.name}{self.name}"


class Position(models.Model):
    """A position (岗位/职务): 窗口受理员, 科员, 科长, 分管副局长, 局长 ..."""

    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    is_leader = models.BooleanField(_("领导职务"), default=False)
    rank = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")
        ordering = ["rank", "code"]

    def __str__(self) -> str:
        return self.name


class Posting(models.Model):
    """A member of staff holding a position in a unit. One posting is primary."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("人员"),
        on_delete=models.CASCADE,
        related_name="postings",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("科室"), on_delete=models.PROTECT, related_name="postings"
    )
    position = models.ForeignKey(
        Position, verbose_name=_("岗位"), on_delete=models.PROTECT, related_name="postings"
    )
    is_primary = models.BooleanField(_("主岗"), default=True)
    started_on = models.DateField(_("任职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("任职")
        verbose_name_plural = _("任职")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "position"], name="orgs_posting_unique"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_primary=True),
                name="orgs_posting_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.position}"


class ServiceCentre(models.Model):
    """A government service centre (政务服务中心/大厅) with numbered windows."""

    division = models.ForeignKey(
        Division,
        verbose_name=_("行政区划"),
        on_delete=models.PROTECT,
        related_name="service_centres",
    )
    name = models.CharField(_("名称"), max_length=100)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("咨询电话"), max_length=40, blank=True)
    hours = models.CharField(_("办公时间"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("政务服务中心")
        verbose_name_plural = _("政务服务中心")

    def __str__(self) -> str:
        return self.name


class WindowKind(models.TextChoices):
    COMPREHENSIVE = "comprehensive", _("综合受理窗口")
    DEPARTMENT = "department", _("部门窗口")
    DELIVERY = "delivery", _("出件窗口")
    CONSULTATION = "consultation", _("咨询窗口")


class Window(models.Model):
    centre = models.ForeignKey(
        ServiceCentre, verbose_name=_("服务中心"), on_delete=models.CASCADE, related_name="windows"
    )
    number = models.CharField(_("窗口号"), max_length=10)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=WindowKind.choices)
    department = models.ForeignKey(
        Department,
        verbose_name=_("进驻部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("负责科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="windows",
    )

    class Meta:
        verbose_name = _("窗口")
        verbose_name_plural = _("窗口")
        ordering = ["centre", "number"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "number"], name="orgs_window_unique")
        ]

    def __str__(self) -> str:
        return f"{self.number}号 {self.name}"
