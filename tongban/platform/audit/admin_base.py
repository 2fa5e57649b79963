"""A ModelAdmin base: our named permissions decide access, and every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models, transaction
from django.http import HttpRequest

from tongban.platform.audit.services import audit_record


class PlatformModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Set ``view_permission`` / ``manage_permission`` to registered permission codes.

    Saves and deletes made through the admin write an audit entry in the same transaction
    (``admin.<app_label>.<model>.change`` etc.), with the changed field names.
    """

    view_permission: str = ""
    manage_permission: str = ""

    def _holds(self, request: HttpRequest, code: str) -> bool:
        from tongban.platform.access.services import has_permission

        return bool(code) and has_permission(request.user, code)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.view_permission) or self._holds(
            request, self.manage_permission
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._holds(request, self.manage_permission)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.manage_permission)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.manage_permission)

    def _action(self, obj: models.Model, verb: str) -> str:
        return f"admin.{obj._meta.label_lower}.{verb}"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                action=self._action(obj, "change" if change else "add"),
                actor=request.user,  # type: ignore[arg-type]
                target=obj,
                detail={"fields": sorted(form.changed_data) if form is not None else []},
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit_record(
                action=self._action(obj, "delete"),
                actor=request.user,  # type: ignore[arg-type]
                target=obj,
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                audit_record(action=self._action(obj, "delete"), actor=request.user, target=obj)  # type: ignore[arg-type]
            super().delete_queryset(request, queryset)
