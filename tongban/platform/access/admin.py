"""Roles and role assignments in the admin.

Only holders of ``access.role.assign`` (the security administrator) change them; everyone
else who may see users sees them read-only. Assignments are created and deleted through
``role_assign`` / ``role_revoke`` (audited; nobody assigns roles to themselves). The
auditor changes nothing. Permissions are declared in code and synced, so read-only here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.access.permissions import ROLES_ASSIGN, USERS_VIEW
from tongban.platform.access.services import role_assign, role_revoke
from tongban.platform.audit.admin_base import PlatformModelAdmin


def _is_auditor(request: HttpRequest) -> bool:
    return getattr(request.user, "admin_role", "") == "auditor"


class AccessAdmin(PlatformModelAdmin):
    view_permission = USERS_VIEW
    manage_permission = ROLES_ASSIGN

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return not _is_auditor(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_auditor(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not _is_auditor(request) and super().has_delete_permission(request, obj)


@admin.register(Role)
class RoleAdmin(AccessAdmin):
    list_display = ("code", "name", "requires_mfa", "for_public")
    list_filter = ("requires_mfa", "for_public")
    search_fields = ("code", "name")
    filter_horizontal = ("permissions",)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        from django.db import transaction

        from tongban.platform.audit.services import audit_record

        with transaction.atomic():
            before = set(form.instance.permissions.values_list("code", flat=True))
            super().save_related(request, form, formsets, change)
            after = set(form.instance.permissions.values_list("code", flat=True))
            if before != after:
                audit_record(
                    action="admin.access.role.permissions",
                    actor=request.user,  # type: ignore[arg-type]
                    target=form.instance,
                    detail={"added": sorted(after - before), "removed": sorted(before - after)},
                )


class RoleAssignmentForm(forms.ModelForm):  # type: ignore[type-arg]
    """Mirrors ``role_assign``'s rules so a refusal shows as a form error."""

    actor_pk: Any = None

    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "scope", "unit", "department", "division", "valid_until")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user, role, scope = data.get("user"), data.get("role"), data.get("scope")
        if user is not None and user.pk == self.actor_pk:
            self.add_error("user", _("不能为自己分配角色"))
        if user is not None and role is not None and role.for_public == (user.kind == "staff"):
            self.add_error("role", _("该角色不适用于此类用户"))
        anchors = {
            Scope.UNIT: "unit",
            Scope.UNIT_TREE: "unit",
            Scope.DEPARTMENT: "department",
            Scope.DEPARTMENT_TREE: "department",
            Scope.DIVISION: "division",
        }
        anchor = anchors.get(scope) if scope else None
        if anchor and data.get(anchor) is None:
            self.add_error(anchor, _("该数据范围必须指定此项"))
        return data


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AccessAdmin):
    form = RoleAssignmentForm
    list_display = ("user", "role", "scope", "unit", "department", "division", "valid_until")
    list_filter = ("scope", "role")
    search_fields = ("user__username", "user__display_name", "role__code")
    raw_id_fields = ("user", "unit", "department", "division")

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor_pk": request.user.pk})

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An assignment is not edited in place: revoke it and assign anew (both audited).
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        created = role_assign(
            actor=request.user,  # type: ignore[arg-type]
            user=obj.user,
            role=obj.role,
            scope=obj.scope,
            unit=obj.unit,
            department=obj.department,
            division=obj.division,
            valid_until=obj.valid_until,
        )
        obj.pk = created.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        role_revoke(actor=request.user, assignment=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for assignment in queryset.select_related("user", "role"):
            role_revoke(actor=request.user, assignment=assignment)  # type: ignore[arg-type]


@admin.register(Permission)
class PermissionAdmin(AccessAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
