"""Editing the catalogue in the admin.

Items are edited as versions: only a draft can be changed; submitting, reviewing,
publishing and opening a new draft are admin actions that call the services, so the
same rules (completeness, four eyes, one open version) apply as in the API.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.apps.catalog import permissions, services
from tongban.apps.catalog.models import (
    Bundle,
    ImportJob,
    ItemVersion,
    LegalBasis,
    LifeEvent,
    Material,
    NegativeListEntry,
    PowerBasis,
    PowerDuty,
    PowerItem,
    ProcessStep,
    ServiceItem,
    Theme,
    VersionBasis,
    VersionState,
)
from tongban.apps.catalog.onlineforms import form_definition_check
from tongban.platform.access.services import has_permission, scope_queryset
from tongban.platform.audit.admin_base import PlatformModelAdmin


def _actor(request: HttpRequest) -> Any:
    """The signed-in user (admin pages are only reachable signed in)."""
    return request.user


class _DraftOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0

    def _editable(self, request: HttpRequest, obj: Any) -> bool:
        return (
            obj is not None
            and obj.state == VersionState.DRAFT
            and has_permission(request.user, permissions.ITEM_EDIT)
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True


class MaterialInline(_DraftOnlyInline):
    model = Material
    fields = (
        "order",
        "name",
        "originals",
        "copies",
        "media",
        "is_required",
        "condition",
        "source",
        "shared_resource_code",
        "acceptance_standard",
        "template_file",
        "sample_file",
    )
    raw_id_fields = ("template_file", "sample_file")


class StepInline(_DraftOnlyInline):
    model = ProcessStep
    fields = ("order", "name", "description", "days")


class VersionBasisInline(_DraftOnlyInline):
    model = VersionBasis
    fields = ("basis", "article", "is_setting")
    autocomplete_fields = ("basis",)


class ItemVersionForm(forms.ModelForm):  # type: ignore[type-arg]
    """Runs the same field rules as the services on the version's own fields."""

    class Meta:
        model = ItemVersion
        exclude: tuple[str, ...] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        schema = data.get("form_schema")
        if schema is not None:
            if not isinstance(schema, dict):
                self.add_error("form_schema", _("表单定义应为 JSON 对象"))
            else:
                for problem in form_definition_check(schema, data.get("form_ui")):
                    self.add_error("form_schema", problem)
        promised, legal = data.get("promised_limit_days"), data.get("legal_limit_days")
        if promised is not None and legal is not None and promised > legal:
            self.add_error("promised_limit_days", _("承诺时限不能长于法定时限"))
        if data.get("case_type") == "instant" and promised not in (None, 0):
            self.add_error("promised_limit_days", _("即办件的承诺时限应为0个工作日"))
        if data.get("is_free") is False and not data.get("fee_basis"):
            self.add_error("fee_basis", _("收费事项应填写收费依据"))
        return data


@admin.register(ItemVersion)
class ItemVersionAdmin(PlatformModelAdmin):
    view_permission = permissions.ITEM_EDIT
    manage_permission = permissions.ITEM_EDIT
    form = ItemVersionForm
    list_display = ("name", "number", "state", "item", "updated_at")
    list_filter = ("state", "item_type", "case_type", "online_depth")
    search_fields = ("name", "item__implementation_code", "keywords")
    inlines = (MaterialInline, StepInline, VersionBasisInline)
    autocomplete_fields = ("power", "windows", "themes", "life_events")
    raw_id_fields = ("result_sample",)
    actions = ("action_submit", "action_approve", "action_return")
    readonly_fields = (
        "item",
        "number",
        "state",
        "created_by",
        "submitted_at",
        "reviewed_by",
        "review_comment",
        "published_at",
    )
    fieldsets = (
        (gettext_lazy("版本"), {"fields": readonly_fields}),
        (
            gettext_lazy("基本要素"),
            {
                "fields": (
                    "name",
                    "item_type",
                    "competent_department",
                    "exercise_level",
                    "power",
                    "handling_suffix",
                )
            },
        ),
        (
            gettext_lazy("办事指南"),
            {
                "fields": (
                    "scope",
                    ("for_natural_persons", "for_legal_persons"),
                    "conditions",
                    "acceptance_method",
                    ("legal_limit_days", "promised_limit_days", "case_type"),
                    ("is_free", "fee_amount"),
                    "fee_basis",
                    ("visits", "online_depth"),
                    "special_procedures",
                    "result_name",
                    "result_sample",
                    "delivery_methods",
                    "remedy",
                    ("consult_phone", "complaint_phone"),
                    "address",
                    "office_hours",
                    "windows",
                )
            },
        ),
        (
            gettext_lazy("分类与检索"),
            {"fields": ("keywords", "themes", "life_events")},
        ),
        (gettext_lazy("在线申请表单"), {"fields": ("form_schema", "form_ui")}),
        (gettext_lazy("变更"), {"fields": ("change_note",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ItemVersion]:
        queryset = super().get_queryset(request).select_related("item")
        items = scope_queryset(
            request.user, ServiceItem.objects.all(), permissions.ITEM_EDIT, services.ITEM_SCOPE
        )
        reviewable = scope_queryset(
            request.user, ServiceItem.objects.all(), permissions.ITEM_REVIEW, services.ITEM_SCOPE
        )
        return queryset.filter(item__in=items) | queryset.filter(item__in=reviewable)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # new items through the API or the import; new versions by action

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.state != VersionState.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or has_permission(
            request.user, permissions.ITEM_REVIEW
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if obj.state != VersionState.DRAFT:
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def _run(self, request: HttpRequest, queryset: Any, call: Any, done: str) -> None:
        count = 0
        for version in queryset:
            try:
                call(version)
                count += 1
            except (ValidationError, PermissionDenied) as error:
                text = "；".join(getattr(error, "messages", None) or [str(error)])
                self.message_user(request, f"{version}: {text}", messages.ERROR)
        if count:
            self.message_user(request, done % count, messages.SUCCESS)

    @admin.action(description=gettext_lazy("提交审核"))
    def action_submit(self, request: HttpRequest, queryset: Any) -> None:
        self._run(
            request,
            queryset,
            lambda version: services.version_submit(actor=_actor(request), version=version),
            _("已提交审核%d个版本"),
        )

    @admin.action(description=gettext_lazy("审核通过并发布"))
    def action_approve(self, request: HttpRequest, queryset: Any) -> None:
        self._run(
            request,
            queryset,
            lambda version: services.version_review(
                actor=_actor(request), version=version, approve=True
            ),
            _("已发布%d个版本"),
        )

    @admin.action(description=gettext_lazy("退回修改"))
    def action_return(self, request: HttpRequest, queryset: Any) -> None:
        comment = _("请按审核意见修改后重新提交")
        self._run(
            request,
            queryset,
            lambda version: services.version_review(
                actor=_actor(request), version=version, approve=False, comment=comment
            ),
            _("已退回%d个版本"),
        )


@admin.register(ServiceItem)
class ServiceItemAdmin(PlatformModelAdmin):
    view_permission = permissions.ITEM_EDIT
    list_display = ("implementation_code", "current", "department", "level", "is_active")
    list_filter = ("level", "is_active")
    search_fields = ("implementation_code", "basic_code", "current__name")
    actions = ("action_open_draft",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceItem]:
        return scope_queryset(
            request.user,
            super().get_queryset(request).select_related("current", "department"),
            permissions.ITEM_EDIT,
            services.ITEM_SCOPE,
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=gettext_lazy("新建修订草稿"))
    def action_open_draft(self, request: HttpRequest, queryset: Any) -> None:
        for item in queryset:
            try:
                version = services.version_draft_open(actor=_actor(request), item=item)
                self.message_user(request, _("已打开草稿：%s") % version, messages.SUCCESS)
            except (ValidationError, PermissionDenied) as error:
                text = "；".join(getattr(error, "messages", None) or [str(error)])
                self.message_user(request, f"{item}: {text}", messages.ERROR)


class PowerBasisInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PowerBasis
    extra = 0
    autocomplete_fields = ("basis",)


class PowerDutyInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PowerDuty
    extra = 0


@admin.register(PowerItem)
class PowerItemAdmin(PlatformModelAdmin):
    view_permission = permissions.POWER_MANAGE
    manage_permission = permissions.POWER_MANAGE
    list_display = ("code", "name", "power_type", "holder", "status")
    list_filter = ("power_type", "status")
    search_fields = ("code", "name")
    inlines = (PowerBasisInline, PowerDutyInline)
    autocomplete_fields = ("holder",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # repeal instead: items and cases refer to powers


@admin.register(NegativeListEntry)
class NegativeListEntryAdmin(PlatformModelAdmin):
    view_permission = permissions.POWER_MANAGE
    manage_permission = permissions.POWER_MANAGE
    list_display = ("code", "kind", "sector", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "sector", "measure")


@admin.register(LegalBasis)
class LegalBasisAdmin(PlatformModelAdmin):
    view_permission = permissions.VOCABULARY_MANAGE
    manage_permission = permissions.VOCABULARY_MANAGE
    list_display = ("title", "kind", "issuer", "document_number", "effective_date")
    list_filter = ("kind",)
    search_fields = ("title", "document_number")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # editors pick legal bases when they write a guide
        return super().has_view_permission(request, obj) or has_permission(
            request.user, permissions.ITEM_EDIT
        )


@admin.register(Theme)
class ThemeAdmin(PlatformModelAdmin):
    view_permission = permissions.VOCABULARY_MANAGE
    manage_permission = permissions.VOCABULARY_MANAGE
    list_display: tuple[str, ...] = ("code", "name", "audience", "order")
    search_fields = ("code", "name")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) or has_permission(
            request.user, permissions.ITEM_EDIT
        )


@admin.register(LifeEvent)
class LifeEventAdmin(ThemeAdmin):
    list_display = ("code", "name", "audience", "keywords", "order")


@admin.register(Bundle)
class BundleAdmin(PlatformModelAdmin):
    view_permission = permissions.VOCABULARY_MANAGE
    manage_permission = permissions.VOCABULARY_MANAGE
    list_display = ("code", "name", "lead_department", "joint_limit_days", "is_active")
    filter_horizontal = ("items",)
    autocomplete_fields = ("lead_department", "life_event")


@admin.register(ImportJob)
class ImportJobAdmin(PlatformModelAdmin):
    view_permission = permissions.IMPORT
    list_display = ("pk", "state", "total_rows", "processed_rows", "created_by", "created_at")
    list_filter = ("state",)
    readonly_fields = ("errors_pretty",)

    @admin.display(description=gettext_lazy("错误"))
    def errors_pretty(self, obj: ImportJob) -> str:
        return json.dumps(obj.errors, ensure_ascii=False, indent=1)[:20000]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False
