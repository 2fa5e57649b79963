"""Staff pages of the Excel import and export: upload, job progress, downloads.

Thin: parse the request, call one service, render.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tongban.apps.catalog import imports, permissions, spreadsheet
from tongban.apps.catalog.models import ImportJob
from tongban.platform.access.decorators import permission
from tongban.platform.access.services import has_permission
from tongban.platform.files.services import FileRejected

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _staff_only(request: HttpRequest) -> User:
    """The signed-in staff member (the permission decorator has checked the sign-in)."""
    if getattr(request.user, "kind", "") != "staff":
        raise PermissionDenied(_("仅限工作人员使用"))
    return cast("User", request.user)


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@permission(permissions.IMPORT)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    user = _staff_only(request)
    errors: list[str] = []
    publish = False
    if request.method == "POST":
        publish = request.POST.get("publish") == "on"
        file = request.FILES.get("file")
        if file is None:
            errors.append(_("请选择要导入的Excel文件（.xlsx）"))
        else:
            try:
                job = imports.import_job_create(actor=user, upload=file, publish=publish)
            except FileRejected as rejected:
                errors.append(rejected.message)
            else:
                return redirect("catalog_import:job", job.pk)
    jobs = ImportJob.objects.filter(created_by=user).select_related("file")[:20]
    return render(
        request,
        "catalog/import/upload.html",
        {
            "nav_active": "workbench",
            "errors": errors,
            "publish": publish,
            "jobs": jobs,
            "can_publish": has_permission(user, permissions.ITEM_REVIEW),
        },
        status=400 if errors else 200,
    )


def _job_context(request: HttpRequest, job_id: int) -> dict[str, object]:
    user = _staff_only(request)
    job = get_object_or_404(ImportJob.objects.select_related("file"), pk=job_id, created_by=user)
    phase, done, total, percent = imports.import_job_progress(job)
    return {
        "nav_active": "workbench",
        "job": job,
        "phase": phase,
        "done": done,
        "total": total,
        "percent": percent,
        "finished": job.state in imports.FINISHED_STATES,
        "error_count": job.summary.get("error_count", len(job.errors)),
    }


@permission(permissions.IMPORT)
@require_GET
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    return render(request, "catalog/import/job.html", _job_context(request, job_id))


@permission(permissions.IMPORT)
@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The status block alone, polled by htmx until the job has finished."""
    return render(request, "catalog/import/_status.html", _job_context(request, job_id))


@permission(permissions.IMPORT)
@require_GET
def template(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    return _download(spreadsheet.template_workbook(), _("事项清单导入模板.xlsx"), XLSX_TYPE)


@permission(permissions.IMPORT)
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    name = _("事项清单%s.xlsx") % timezone.localdate().strftime("%Y%m%d")
    return _download(spreadsheet.export_workbook(), name, XLSX_TYPE)


@permission(permissions.IMPORT)
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    name = _("事项清单%s.csv") % timezone.localdate().strftime("%Y%m%d")
    return _download(spreadsheet.export_csv(), name, "text/csv; charset=utf-8")
