from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tongban.platform.access.permissions import AUDIT_VIEW
from tongban.platform.audit.admin_base import PlatformModelAdmin
from tongban.platform.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(PlatformModelAdmin):
    """Read-only for auditors: nobody can add, change or delete audit entries."""

    view_permission = AUDIT_VIEW
    list_display = (
        "seq",
        "occurred_at",
        "actor_label",
        "acting_for_label",
        "action",
        "object_type",
        "object_label",
        "outcome",
        "ip",
    )
    list_filter = ("outcome", "action")
    search_fields = ("actor_label", "action", "object_id", "object_label", "request_id")
    ordering = ("-seq",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
