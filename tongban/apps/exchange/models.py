"""Scheduled bulk exchange (库表/文件交换) of CSV/JSON datasets between departments.

An ``ExchangeJob`` belongs to the provider department and names a sharing catalogue
resource; its ``Subscription``s are the consumer departments (optionally with an HTTPS
webhook). Every upload is a ``Dataset`` (a validated file version stored through the
platform files module, with its SM3); every dataset reaches each consumer holding a live
grant as a ``Delivery``, which the consumer downloads and confirms with the SM3 it
computed (the receipt).

push: the provider uploads, the dataset is delivered to the subscribed consumers at once
(inbox, or POSTed to their webhook through the event outbox with retries).
pull: the latest dataset is made available in the consumers' inboxes at the job's
scheduled runs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tongban.platform.access.services import ScopePaths
from tongban.platform.files.models import StoredFile
from tongban.platform.orgs.models import Department

# how rows reach the organisation tree (access.scope_queryset)
JOB_SCOPE = ScopePaths(department="provider")
DATASET_SCOPE = ScopePaths(department="job__provider")
DELIVERY_SCOPE_PROVIDER = ScopePaths(department="dataset__job__provider")
DELIVERY_SCOPE_CONSUMER = ScopePaths(department="consumer")
SUBSCRIPTION_SCOPE_CONSUMER = ScopePaths(department="department")


class Direction(models.TextChoices):
    PUSH = "push", _("推送")
    PULL = "pull", _("拉取")


class DataFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    JSON = "json", _("JSON")


class ScheduleKind(models.TextChoices):
    INTERVAL = "interval", _("每隔N小时")
    DAILY = "daily", _("每日定时")


class ExchangeJob(models.Model):
    name = models.CharField(_("任务名称"), max_length=100)
    provider = models.ForeignKey(
        Department, verbose_name=_("提供部门"), on_delete=models.PROTECT, related_name="+"
    )
    resource_code = models.CharField(_("资源代码"), max_length=20)
    direction = models.CharField(_("交换方式"), max_length=8, choices=Direction.choices)
    format = models.CharField(_("数据格式"), max_length=8, choices=DataFormat.choices)
    #: declared columns: the CSV header, or the keys of every JSON object
    columns = models.JSONField(_("字段"), default=list)
    schedule_kind = models.CharField(_("调度方式"), max_length=10, choices=ScheduleKind.choices)
    interval_hours = models.PositiveSmallIntegerField(_("间隔小时数"), null=True, blank=True)
    daily_at = models.TimeField(_("每日时间"), null=True, blank=True)
    consumers = models.ManyToManyField(
        Department,
        through="Subscription",
        verbose_name=_("接收部门"),
        related_name="+",
    )
    is_active = models.BooleanField(_("启用"), default=True)
    next_run_at = models.DateTimeField(_("下次运行时间"), null=True, blank=True, db_index=True)
    last_run_at = models.DateTimeField(_("上次运行时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("交换任务")
        verbose_name_plural = _("交换任务")
        ordering = ["provider__code", "name"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(schedule_kind="interval") & Q(interval_hours__gte=1))
                | (Q(schedule_kind="daily") & Q(daily_at__isnull=False)),
                name="exchange_job_schedule",
            )
        ]

    def __str__(self) -> str:
        return self.name


WEBHOOK_SECRET_PURPOSE = "exchange.webhook"  # noqa: S105 - an encryption purpose label


class Subscription(models.Model):
    job = models.ForeignKey(ExchangeJob, on_delete=models.CASCADE, related_name="subscriptions")
    department = models.ForeignKey(
        Department, verbose_name=_("接收部门"), on_delete=models.PROTECT, related_name="+"
    )
    #: push jobs only: deliveries are POSTed here (HTTPS) instead of waiting in the inbox
    webhook_url = models.URLField(_("接收地址"), max_length=300, blank=True)
    #: the secret webhook bodies are signed with (HMAC-SM3), an SM4 frame; shown once to
    #: the consumer when the address is set, re-encrypted by key rotation
    webhook_secret_encrypted = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("订阅时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("交换订阅")
        verbose_name_plural = _("交换订阅")
        ordering = ["job_id", "department__code"]
        constraints = [
            models.UniqueConstraint(fields=["job", "department"], name="exchange_subscription_once")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}/{self.department_id}"


class Dataset(models.Model):
    job = models.ForeignKey(ExchangeJob, on_delete=models.PROTECT, related_name="datasets")
    number = models.PositiveIntegerField(_("版本号"))
    file = models.OneToOneField(
        StoredFile, verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+"
    )
    sm3 = models.CharField(_("SM3 校验值"), max_length=64)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    record_count = models.PositiveIntegerField(_("记录数"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("数据集")
        verbose_name_plural = _("数据集")
        ordering = ["job_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="exchange_dataset_number")
        ]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.number}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待送达")
    DELIVERED = "delivered", _("已送达")
    RECEIVED = "received", _("已签收")
    FAILED = "failed", _("失败")


class Delivery(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="deliveries")
    consumer = models.ForeignKey(
        Department, verbose_name=_("接收部门"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    webhook_url = models.URLField(_("接收地址"), max_length=300, blank=True)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    downloaded_at = models.DateTimeField(_("首次下载时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    receipt_sm3 = models.CharField(_("回执校验值"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("数据送达")
        verbose_name_plural = _("数据送达")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "consumer"], name="exchange_delivery_once")
        ]
        indexes = [models.Index(fields=["consumer", "status"], name="exchange_delivery_inbox")]

    def __str__(self) -> str:
        return f"{self.dataset_id}→{self.consumer_id}"
