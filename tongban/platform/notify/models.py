"""Message centre: templates (zh-hans/en), messages, per-channel deliveries, preferences."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class MessageTemplate(models.Model):
    code = models.CharField(_("编码"), max_length=100)
    language = models.CharField(_("语言"), max_length=10, choices=settings.LANGUAGES)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), help_text=_("Django 模板语法，例如 {{ name }}"))
    sms_text = models.CharField(_("短信内容"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")
        constraints = [
            models.UniqueConstraint(fields=["code", "language"], name="notify_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.language})"


class Message(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="messages",
    )
    template_code = models.CharField(_("模板"), max_length=100)
    category = models.CharField(_("类别"), max_length=50, default="general")
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    sms_text = models.CharField(_("短信内容"), max_length=300, blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("notify:detail", args=[self.pk])


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    SKIPPED = "skipped", _("未发送")
    FAILED = "failed", _("发送失败")


class ChannelDelivery(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    provider_id = models.CharField(_("服务商编号"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息投递")
        verbose_name_plural = _("消息投递")
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], name="notify_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.message_id}/{self.channel}: {self.status}"


class Preference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    category = models.CharField(_("类别"), max_length=50, default="general")
    email = models.BooleanField(_("邮件通知"), default=True)
    sms = models.BooleanField(_("短信通知"), default=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="notify_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.category}"
