"""Organisations in the admin. Divisions, departments and units are saved through the
services, so tree paths stay right and every change is audited; paths are read-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from tongban.platform.access.permissions import ORGS_MANAGE, ORGS_VIEW
from tongban.platform.audit.admin_base import PlatformModelAdmin
from tongban.platform.orgs import services
from tongban.platform.orgs.models import (
    Department,
    Division,
    GovernmentBody,
    Position,
    Posting,
    ServiceCentre,
    Unit,
    Window,
)


class OrgAdmin(PlatformModelAdmin):
    view_permission = ORGS_VIEW
    manage_permission = ORGS_MANAGE

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Organisation rows are referenced by cases, postings and role assignments:
        # deactivate instead of deleting.
        return False


class DivisionForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Division
        fields = ("code", "name", "level", "parent")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and "code" in data and "level" in data:
            try:
                services.division_validate(
                    code=data["code"], level=data["level"], parent=data.get("parent")
                )
            except services.OrgError as error:
                raise forms.ValidationError(error.messages) from error
        return data


@admin.register(Division)
class DivisionAdmin(OrgAdmin):
    form = DivisionForm
    list_display = ("code", "name", "level", "parent", "path")
    list_filter = ("level",)
    search_fields = ("code", "name")
    ordering = ("path",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("path",)
        return ("code", "level", "parent", "path")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor: Any = request.user
        if change:
            services.division_update(actor=actor, division=obj, name=obj.name)
            return
        created = services.division_create(
            actor=actor, code=obj.code, name=obj.name, level=obj.level, parent=obj.parent
        )
        obj.pk, obj.path = created.pk, created.path


@admin.register(GovernmentBody)
class GovernmentBodyAdmin(OrgAdmin):
    list_display = ("name", "kind", "division", "uscc")
    list_filter = ("kind",)
    search_fields = ("name", "uscc")
    list_select_related = ("division",)


class DepartmentForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Department
        fields = (
            "division",
            "body",
            "parent",
            "code",
            "uscc",
            "name",
            "short_name",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        instance = self.instance if self.instance.pk else None
        division = data.get("division") or (instance.division if instance else None)
        code = data.get("code") or (instance.code if instance else "")
        if division is None or not code or "uscc" not in data:
            return data
        try:
            data["uscc"] = services.department_validate(
                code=code,
                uscc=data["uscc"],
                division=division,
                parent=data.get("parent"),
                body=data.get("body"),
                instance=instance,
            )
        except services.OrgError as error:
            raise forms.ValidationError(error.messages) from error
        return data


@admin.register(Department)
class DepartmentAdmin(OrgAdmin):
    form = DepartmentForm
    list_display = ("code", "name", "short_name", "uscc", "division", "parent", "is_active")
    list_filter = ("is_active", "division__level", "body__kind")
    search_fields = ("code", "name", "short_name", "uscc")
    list_select_related = ("division", "parent")
    ordering = ("division_path", "path")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("path", "division_path")
        return ("code", "division", "path", "division_path")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor: Any = request.user
        data = form.cleaned_data
        if not change:
            created = services.department_create(
                actor=actor,
                division=data["division"],
                code=data["code"],
                uscc=data["uscc"],
                name=data["name"],
                short_name=data.get("short_name", ""),
                parent=data.get("parent"),
                body=data.get("body"),
            )
            obj.pk, obj.path, obj.division_path = (
                created.pk,
                created.path,
                created.division_path,
            )
            return
        current = Department.objects.get(pk=obj.pk)
        changes = {
            field: data[field]
            for field in ("name", "short_name", "uscc", "body", "is_active")
            if field in form.changed_data
        }
        if changes:
            services.department_update(actor=actor, department=current, changes=changes)
        if "parent" in form.changed_data:
            services.department_move(actor=actor, department=current, parent=data["parent"])


class UnitForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Unit
        fields = ("department", "parent", "code", "name", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        instance = self.instance if self.instance.pk else None
        department = data.get("department") or (instance.department if instance else None)
        code = data.get("code") or (instance.code if instance else "")
        if department is None or not code:
            return data
        try:
            services.unit_validate(
                code=code, department=department, parent=data.get("parent"), instance=instance
            )
        except services.OrgError as error:
            raise forms.ValidationError(error.messages) from error
        return data


@admin.register(Unit)
class UnitAdmin(OrgAdmin):
    form = UnitForm
    list_display = ("code", "name", "department", "parent", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "department__name")
    list_select_related = ("department", "parent")
    ordering = ("path",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("path", "department_path", "division_path")
        return ("code", "department", "path", "department_path", "division_path")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        actor: Any = request.user
        data = form.cleaned_data
        if not change:
            created = services.unit_create(
                actor=actor,
                department=data["department"],
                code=data["code"],
                name=data["name"],
                parent=data.get("parent"),
            )
            obj.pk, obj.path = created.pk, created.path
            return
        current = Unit.objects.get(pk=obj.pk)
        changes = {
            field: data[field] for field in ("name", "is_active") if field in form.changed_data
        }
        if changes:
            services.unit_update(actor=actor, unit=current, changes=changes)
        if "parent" in form.changed_data:
            services.unit_move(actor=actor, unit=current, parent=data["parent"])


@admin.register(Position)
class PositionAdmin(OrgAdmin):
    list_display = ("code", "name", "is_leader", "rank")
    list_filter = ("is_leader",)
    search_fields = ("code", "name")


@admin.register(Posting)
class PostingAdmin(OrgAdmin):
    list_display = ("user", "unit", "position", "is_primary", "started_on")
    list_filter = ("is_primary", "position")
    search_fields = ("user__username", "user__display_name", "unit__name", "unit__code")
    list_select_related = ("user", "unit__department", "position")
    raw_id_fields = ("user", "unit")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._holds(request, self.manage_permission)


@admin.register(ServiceCentre)
class ServiceCentreAdmin(OrgAdmin):
    list_display = ("name", "division", "address", "phone", "hours")
    search_fields = ("name", "address")
    list_select_related = ("division",)


@admin.register(Window)
class WindowAdmin(OrgAdmin):
    list_display = ("number", "name", "kind", "centre", "department", "unit")
    list_filter = ("kind", "centre")
    search_fields = ("number", "name", "department__name")
    list_select_related = ("centre", "department", "unit")
    raw_id_fields = ("department", "unit")
