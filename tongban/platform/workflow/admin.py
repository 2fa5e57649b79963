"""Process definitions in the admin: upload a BPMN file, map its lanes and tasks, read.

Uploading is two steps on one page: the file is checked (a refusal names the element and
its id), then the administrator maps each lane and each user task to a department, unit or
position, a role label and a time limit; saving calls ``services.definition_upload``.
Definitions are immutable versions, so they are never edited or deleted here; instances and
tasks are shown read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tongban.platform.audit.admin_base import PlatformModelAdmin
from tongban.platform.orgs.models import Department, Position, Unit
from tongban.platform.workflow import services
from tongban.platform.workflow.bpmn import MAX_XML_BYTES, BpmnRefused, BpmnSummary
from tongban.platform.workflow.models import ProcessDefinition, ProcessInstance, WorkTask
from tongban.platform.workflow.permissions import DEFINITION_MANAGE
from tongban.platform.workflow.views import definition_xml_url

PAYLOAD_SALT = "tongban.workflow.admin.upload"
PAYLOAD_MAX_AGE = 3600


class UploadForm(forms.Form):
    key = forms.RegexField(
        label=gettext_lazy("流程标识"),
        regex=services.KEY_PATTERN,
        max_length=100,
        help_text=gettext_lazy("同一标识再次上传即为新版本，例如 catalog.item.000117001000"),
    )
    name = forms.CharField(label=gettext_lazy("流程名称"), max_length=200)
    file = forms.FileField(label=gettext_lazy("BPMN 文件"))

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_XML_BYTES:
            raise ValidationError(
                _("文件过大：不能超过 %(mb)d MB") % {"mb": MAX_XML_BYTES // (1024 * 1024)}
            )
        content: bytes = upload.read()
        return content


def _choices(queryset: Any, label: Any) -> list[tuple[str, str]]:
    return [("", "—")] + [(item.code, label(item)) for item in queryset]


class MappingForm(forms.Form):
    """One row of department / unit / position per lane, and per task also role and days."""

    def __init__(self, *args: Any, summary: BpmnSummary, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.summary = summary
        departments = _choices(
            Department.objects.filter(is_active=True).order_by("code"),
            lambda d: f"{d.name}（{d.code}）",
        )
        units = _choices(
            Unit.objects.filter(is_active=True).select_related("department").order_by("path"),
            lambda u: f"{u.department.name} / {u.name}（{u.code}）",
        )
        positions = _choices(Position.objects.all(), lambda p: f"{p.name}（{p.code}）")

        def target_fields(prefix: str) -> None:
            self.fields[f"{prefix}department"] = forms.ChoiceField(
                label=_("部门"), choices=departments, required=False
            )
            self.fields[f"{prefix}unit"] = forms.ChoiceField(
                label=_("科室"), choices=units, required=False
            )
            self.fields[f"{prefix}position"] = forms.ChoiceField(
                label=_("岗位"), choices=positions, required=False
            )

        for index, _lane in enumerate(summary.lanes):
            target_fields(f"lane-{index}-")
        for index, _task in enumerate(summary.user_tasks):
            self.fields[f"task-{index}-role"] = forms.CharField(
                label=_("角色"), max_length=60, required=False
            )
            target_fields(f"task-{index}-")
            self.fields[f"task-{index}-days"] = forms.IntegerField(
                label=_("时限（工作日）"), min_value=0, max_value=365, initial=0, required=False
            )

    def _target(self, prefix: str) -> services.TaskTarget:
        return services.TaskTarget(
            department_code=self.cleaned_data.get(f"{prefix}department") or "",
            unit_code=self.cleaned_data.get(f"{prefix}unit") or "",
            position_code=self.cleaned_data.get(f"{prefix}position") or "",
        )

    def lane_map(self) -> dict[str, services.TaskTarget]:
        result: dict[str, services.TaskTarget] = {}
        for index, lane in enumerate(self.summary.lanes):
            target = self._target(f"lane-{index}-")
            if not target.is_empty():
                result[lane.lane_id] = target
        return result

    def task_map(self) -> dict[str, services.TaskMapping]:
        return {
            task.spec_id: services.TaskMapping(
                role=(self.cleaned_data.get(f"task-{index}-role") or "").strip(),
                target=self._target(f"task-{index}-"),
                days=self.cleaned_data.get(f"task-{index}-days") or 0,
            )
            for index, task in enumerate(self.summary.user_tasks)
        }

    def lane_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "lane": lane,
                "fields": [
                    self[f"lane-{index}-{part}"] for part in ("department", "unit", "position")
                ],
            }
            for index, lane in enumerate(self.summary.lanes)
        ]

    def task_rows(self) -> list[dict[str, Any]]:
        parts = ("role", "department", "unit", "position", "days")
        return [
            {"task": task, "fields": [self[f"task-{index}-{part}"] for part in parts]}
            for index, task in enumerate(self.summary.user_tasks)
        ]


def _error_text(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages_ in error.message_dict.values() for message in messages_]
    return list(error.messages)


class WorkTaskInline(admin.TabularInline):  # type: ignore[type-arg]
    model = WorkTask
    extra = 0
    can_delete = False
    fields = (
        "spec_id",
        "name",
        "state",
        "outcome",
        "department_code",
        "unit_code",
        "position_code",
        "claimed_by",
        "completed_by",
        "created_at",
        "completed_at",
        "note",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProcessDefinition)
class ProcessDefinitionAdmin(PlatformModelAdmin):
    view_permission = DEFINITION_MANAGE
    manage_permission = DEFINITION_MANAGE
    list_display = ("key", "version", "name", "process_id", "is_generated", "created_at")
    list_filter = ("is_generated",)
    search_fields = ("key", "name")
    fields = (
        "key",
        "version",
        "name",
        "process_id",
        "sha",
        "is_generated",
        "task_map",
        "lane_map",
        "created_by",
        "created_at",
    )
    readonly_fields = fields
    change_form_template = "admin/workflow/processdefinition/change_form.html"
    upload_template = "admin/workflow/processdefinition/upload.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are immutable: upload a new one

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:  # type: ignore[override]
        upload = path(
            "upload/",
            self.admin_site.admin_view(self.upload_view),
            name="workflow_processdefinition_upload",
        )
        return [upload, *super().get_urls()]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:workflow_processdefinition_upload"))

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        definition = self.get_object(request, object_id)
        if definition is not None:
            context["diagram_xml_url"] = definition_xml_url(definition, signed=True)
            context["diagram_active"] = []
            context["diagram_completed"] = []
        return super().change_view(request, object_id, form_url, context)

    def _page(self, request: HttpRequest, **context: Any) -> HttpResponse:
        return render(
            request,
            self.upload_template,
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("上传流程定义"),
                "max_mb": MAX_XML_BYTES // (1024 * 1024),
                **context,
            },
        )

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._page(request, upload_form=UploadForm())
        if request.POST.get("step") == "save":
            return self._save(request)
        upload_form = UploadForm(request.POST, request.FILES)
        if not upload_form.is_valid():
            return self._page(request, upload_form=upload_form)
        try:
            summary = services.definition_inspect(xml=upload_form.cleaned_data["file"])
        except BpmnRefused as refusal:
            upload_form.add_error("file", refusal.message)
            return self._page(request, upload_form=upload_form, refusal=refusal)
        payload = signing.dumps(
            {
                "key": upload_form.cleaned_data["key"],
                "name": upload_form.cleaned_data["name"],
                "xml": summary.stored_xml,
            },
            salt=PAYLOAD_SALT,
            compress=True,
        )
        return self._page(
            request,
            summary=summary,
            mapping_form=MappingForm(summary=summary),
            payload=payload,
            key=upload_form.cleaned_data["key"],
            name=upload_form.cleaned_data["name"],
        )

    def _save(self, request: HttpRequest) -> HttpResponse:
        try:
            payload = signing.loads(
                request.POST.get("payload", ""), salt=PAYLOAD_SALT, max_age=PAYLOAD_MAX_AGE
            )
        except signing.BadSignature:
            messages.error(request, _("上传已过期，请重新选择文件"))
            return self._page(request, upload_form=UploadForm())
        xml = str(payload["xml"]).encode("utf-8")
        summary = services.definition_inspect(xml=xml)
        mapping_form = MappingForm(request.POST, summary=summary)
        context = {
            "summary": summary,
            "mapping_form": mapping_form,
            "payload": request.POST["payload"],
            "key": payload["key"],
            "name": payload["name"],
        }
        if not mapping_form.is_valid():
            return self._page(request, **context)
        try:
            definition = services.definition_upload(
                actor=request.user,  # type: ignore[arg-type]
                key=str(payload["key"]),
                name=str(payload["name"]),
                xml=xml,
                task_map=mapping_form.task_map(),
                lane_map=mapping_form.lane_map(),
            )
        except ValidationError as error:
            return self._page(request, errors=_error_text(error), **context)
        messages.success(
            request,
            _("已保存流程定义 %(key)s 第 %(version)d 版")
            % {"key": definition.key, "version": definition.version},
        )
        return HttpResponseRedirect(
            reverse("admin:workflow_processdefinition_change", args=[definition.pk])
        )


@admin.register(ProcessInstance)
class ProcessInstanceAdmin(PlatformModelAdmin):
    view_permission = DEFINITION_MANAGE
    list_display = ("subject", "definition", "is_finished", "is_cancelled", "created_at")
    list_filter = ("is_finished", "is_cancelled")
    search_fields = ("subject",)
    fields = (
        "definition",
        "subject",
        "is_finished",
        "is_cancelled",
        "cancel_reason",
        "revision",
        "started_by",
        "created_at",
        "updated_at",
        "finished_at",
    )
    readonly_fields = fields
    inlines = (WorkTaskInline,)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
