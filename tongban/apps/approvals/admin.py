"""Cases in the admin: read-only, scoped like everywhere else (supervisors see their
division). A case changes only through its services, which keep the timeline, the audit
log and the events in step."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tongban.apps.approvals import permissions
from tongban.apps.approvals.access import staff_cases
from tongban.apps.approvals.models import Case, CaseEvent, CaseMaterial, ItemProcess, Notice
from tongban.apps.approvals.processes import item_process_clear, item_process_set
from tongban.platform.audit.admin_base import PlatformModelAdmin


class CaseEventInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "occurred_at",
        "label",
        "actor_label",
        "state_to",
        "step_name",
        "note",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseMaterialInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CaseMaterial
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "name",
        "source",
        "file",
        "reference",
        "round",
        "is_current",
        "is_checked",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoticeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Notice
    extra = 0
    can_delete = False
    fields = readonly_fields = ("number", "title", "issued_on")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(PlatformModelAdmin):
    view_permission = permissions.CASE_READ_ALL
    manage_permission = ""
    list_display = [
        "number",
        "item_name",
        "department_code",
        "applicant_name",
        "state",
        "outcome",
        "submitted_at",
        "accepted_at",
        "closed_at",
    ]
    list_filter = ["state", "case_type", "outcome", "is_joint"]
    search_fields = ["number", "item_name", "applicant_name"]
    date_hierarchy = "submitted_at"
    exclude = ["contact_phone", "form_data", "idempotency_key"]
    inlines = [CaseEventInline, CaseMaterialInline, NoticeInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        return staff_cases(request.user, permissions.CASE_READ_ALL).select_related("parent")


class ItemProcessForm(forms.ModelForm):  # type: ignore[type-arg]
    """Pick a published item and an uploaded process version (not a generated one)."""

    definition: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("流程定义"),
        queryset=None,  # set in __init__: the workflow app's uploaded definitions
        help_text=_(
            "在“流程定义”中上传并把各环节映射到受理、审查、决定、送达及办理部门后，在此为事项指定。"
        ),
    )

    class Meta:
        model = ItemProcess
        fields = ["item_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from tongban.platform.workflow.models import ProcessDefinition

        field = self.fields["definition"]
        uploaded = ProcessDefinition.objects.filter(is_generated=False)
        field.queryset = uploaded.order_by("key", "-version")  # type: ignore[attr-defined]
        if self.instance.pk:
            field.initial = self.instance.definition_id


@admin.register(ItemProcess)
class ItemProcessAdmin(PlatformModelAdmin):
    """Saved through ``processes.item_process_set`` (checks the mapping, audits)."""

    view_permission = permissions.PROCESS_MANAGE
    manage_permission = permissions.PROCESS_MANAGE
    form = ItemProcessForm
    list_display = ["item_id", "item_name", "definition_label", "set_by", "set_at"]
    search_fields = ["item_name"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        binding = item_process_set(
            actor=request.user,  # type: ignore[arg-type]
            item_id=form.cleaned_data["item_id"],
            definition_id=form.cleaned_data["definition"].pk,
        )
        obj.pk = binding.pk

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        item_process_clear(actor=request.user, item_id=obj.item_id)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for binding in queryset:
            self.delete_model(request, binding)
