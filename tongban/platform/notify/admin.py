"""Message templates are edited in the admin by holders of ``notify.template.manage``."""

from __future__ import annotations

from django.contrib import admin

from tongban.platform.access.permissions import NOTIFY_TEMPLATE_MANAGE
from tongban.platform.audit.admin_base import PlatformModelAdmin
from tongban.platform.notify.models import MessageTemplate


@admin.register(MessageTemplate)
class MessageTemplateAdmin(PlatformModelAdmin):
    view_permission = NOTIFY_TEMPLATE_MANAGE
    manage_permission = NOTIFY_TEMPLATE_MANAGE
    list_display = ("code", "language", "subject", "updated_at")
    list_filter = ("language",)
    search_fields = ("code", "subject")
    ordering = ("code", "language")
