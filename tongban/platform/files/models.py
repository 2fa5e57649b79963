"""Stored files: the metadata row; the bytes live in Django's default storage."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StoredFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    original_name = models.CharField(_("原文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    content_type = models.CharField(_("文件类型"), max_length=100)
    sm3 = models.CharField(_("SM3 校验值"), max_length=64)
    storage_name = models.CharField(_("存储名"), max_length=500, unique=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("文件")
        verbose_name_plural = _("文件")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.original_name
