"""Roles are sets of named permissions; each assignment carries a data scope."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    SELF = "self", _("本人")
    UNIT = "unit", _("本科室")
    UNIT_TREE = "unit_tree", _("本科室及下级")
    DEPARTMENT = "department", _("本部门")
    DEPARTMENT_TREE = "department_tree", _("本部门及下级")
    DIVISION = "division", _("本行政区划")
    ALL = "all", _("全部")


class Permission(models.Model):
    """A named permission, declared in code (``access.registry``) and synced here."""

    code = models.CharField(_("编码"), max_length=100, unique=True)
    name = models.CharField(_("名称"), max_length=200)

    class Meta:
        verbose_name = _("权限")
        verbose_name_plural = _("权限")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Role(models.Model):
    code = models.CharField(_("编码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    permissions = models.ManyToManyField(
        Permission, verbose_name=_("权限"), blank=True, related_name="roles"
    )
    requires_mfa = models.BooleanField(_("必须双因素认证"), default=False)
    for_public = models.BooleanField(_("公众角色"), default=False)

    class Meta:
        verbose_name = _("角色")
        verbose_name_plural = _("角色")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RoleAssignment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.ForeignKey(
        Role, verbose_name=_("角色"), on_delete=models.PROTECT, related_name="assignments"
    )
    scope = models.CharField(_("数据范围"), max_length=20, choices=Scope.choices)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("科室"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    department = models.ForeignKey(
        "orgs.Department",
        verbose_name=_("部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    division = models.ForeignKey(
        "orgs.Division",
        verbose_name=_("行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("授权人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("授权时间"), default=timezone.now)
    valid_until = models.DateTimeField(_("有效期至"), null=True, blank=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        constraints = [
            models.CheckConstraint(
                name="access_scope_anchor_present",
                condition=(
                    Q(scope__in=["self", "all"])
                    | Q(scope__in=["unit", "unit_tree"], unit__isnull=False)
                    | Q(scope__in=["department", "department_tree"], department__isnull=False)
                    | Q(scope="division", division__isnull=False)
                ),
            ),
            models.UniqueConstraint(
                fields=["user", "role", "scope", "unit", "department", "division"],
                name="access_assignment_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.get_scope_display()}"
