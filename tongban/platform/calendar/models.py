"""The working-day calendar: one row per day of every loaded year."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DayKind(models.TextChoices):
    WORKDAY = "workday", _("工作日")
    REST = "rest", _("休息日")
    HOLIDAY = "holiday", _("法定节假日")
    MAKEUP_WORKDAY = "makeup_workday", _("调休上班")


WORKING_KINDS = frozenset({DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY})


class Source(models.TextChoices):
    PACKAGE = "package", _("chinese-calendar 数据包")
    CSV = "csv", _("CSV 导入")
    MANUAL = "manual", _("人工维护")


class CalendarDay(models.Model):
    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=DayKind.choices)
    name = models.CharField(_("节日"), max_length=50, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_index=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("更新人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("日历日")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"

    @property
    def is_working(self) -> bool:
        return self.kind in WORKING_KINDS


class CalendarYear(models.Model):
    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    loaded_at = models.DateTimeField(_("载入时间"), auto_now=True)

    class Meta:
        verbose_name = _("已载入年份")
        verbose_name_plural = _("已载入年份")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
