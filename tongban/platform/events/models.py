"""Transactional outbox: an ``Event`` and one ``Delivery`` per subscriber, written in the
same transaction as the change that caused them."""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("事件"), max_length=120, db_index=True)
    payload = models.JSONField(_("内容"), default=dict, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(_("发生时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("领域事件")
        verbose_name_plural = _("领域事件")
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class DeliveryStatus(models.TextChoices):
    """There is no "running" state on purpose: a delivery is running while a worker holds
    its row lock inside the handler's transaction, and "running" as a committed value is
    exactly what a SIGKILL would strand. ``lease_until`` plus the task's status tell the
    sweeper whether anyone still looks after a pending delivery."""

    PENDING = "pending", _("待投递")
    DONE = "done", _("已投递")
    DEAD = "dead", _("投递失败")


class Delivery(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.CharField(_("订阅者"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    lease_until = models.DateTimeField(_("租约到期"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    task_id = models.CharField(_("任务ID"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("事件投递")
        verbose_name_plural = _("事件投递")
        constraints = [
            models.UniqueConstraint(fields=["event", "subscriber"], name="events_delivery_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="events_pending_due", condition=Q(status="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscriber} ← {self.event_id} ({self.status})"


class ProcessedMarker(models.Model):
    """ "This (key, event) has been processed": the idempotency helper for handlers (see
    ``events.services.event_mark_processed``)."""

    key = models.CharField(_("处理者"), max_length=200)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="markers")
    processed_at = models.DateTimeField(_("处理时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("事件处理标记")
        verbose_name_plural = _("事件处理标记")
        constraints = [
            models.UniqueConstraint(fields=["key", "event"], name="events_marker_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ✓ {self.event_id}"
