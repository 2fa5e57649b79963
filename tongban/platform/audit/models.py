"""Append-only audit log forming an SM3 hash chain.

Every column that takes part in the chain is text or an integer, so a raw cursor reads the
same values on SQLite and PostgreSQL and the verifier can stream millions of rows quickly.
The application never updates or deletes an entry (see ``AuditEntryQuerySet``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class Outcome(models.TextChoices):
    SUCCESS = "success", _("成功")
    DENIED = "denied", _("拒绝")
    FAILURE = "failure", _("失败")


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")


class AuditEntry(models.Model):
    seq = models.PositiveBigIntegerField(_("序号"), unique=True)
    occurred_us = models.BigIntegerField(_("时间(微秒)"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True, db_index=True)
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    acting_for_type = models.CharField(_("代理对象类型"), max_length=40, blank=True)
    acting_for_id = models.CharField(_("代理对象ID"), max_length=64, blank=True)
    acting_for_label = models.CharField(_("代理对象"), max_length=200, blank=True)
    action = models.CharField(_("操作"), max_length=100, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_label = models.CharField(_("对象"), max_length=300, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    ip = models.CharField(_("IP地址"), max_length=45, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    detail = models.TextField(_("详情"), blank=True, default="{}")
    prev_hash = models.CharField(_("前一条哈希"), max_length=64)
    hash = models.CharField(_("哈希"), max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries are append-only")

    @property
    def occurred_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.occurred_us / 1_000_000, tz=dt.UTC)


class AuditHead(models.Model):
    """The chain's head: last sequence number and hash. One row, locked on every append."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"
