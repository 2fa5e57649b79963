"""Staff pages of the base databases: search, record (masked, with provenance, each view
audited as a personal-data read), bulk upload, quality issues. Thin: parse, call one
service or selector, render."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from tongban.apps.basedata import permissions, selectors, services, uploads
from tongban.apps.basedata.datasets import DATASETS
from tongban.apps.basedata.models import IssueKind, IssueStatus, QualityIssue
from tongban.apps.basedata.services import LoadRejected
from tongban.platform.access.decorators import permission
from tongban.platform.access.services import has_permission
from tongban.platform.orgs.models import Department
from tongban.platform.orgs.selectors import primary_posting

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User


def _staff(request: HttpRequest) -> User:
    if getattr(request.user, "kind", "") != "staff":
        raise PermissionDenied(_("仅限工作人员使用"))
    return cast("User", request.user)


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    user = request.user
    return {
        "nav_active": "basedata",
        "can_view": has_permission(user, permissions.RECORD_VIEW),
        "can_update": has_permission(user, permissions.RECORD_UPDATE),
        "can_resolve": has_permission(user, permissions.QUALITY_RESOLVE),
        **extra,
    }


@permission(permissions.RECORD_VIEW)
@require_http_methods(["GET", "POST"])
def search(request: HttpRequest) -> HttpResponse:
    """The identity number is posted (not put in the URL); a hit redirects to the record
    page by its row id."""
    _staff(request)
    dataset = request.POST.get("dataset", "person")
    not_found = False
    if request.method == "POST":
        if dataset not in selectors.DATASET_LABELS:
            dataset = "person"
        obj = services.record_find(dataset, request.POST.get("q", "")[:120])
        if obj is not None:
            return redirect("basedata:record", dataset, obj.pk)
        not_found = True
    return render(
        request,
        "basedata/search.html",
        _context(
            request,
            choices=selectors.SEARCHABLE,
            dataset=dataset,
            not_found=not_found,
        ),
        status=404 if not_found else 200,
    )


@permission(permissions.RECORD_VIEW)
@require_GET
def record(request: HttpRequest, dataset: str, record_id: int) -> HttpResponse:
    user = _staff(request)
    if dataset not in selectors.DATASET_LABELS:
        raise Http404
    obj = services.record_of(dataset, record_id)
    if obj is None:
        raise Http404
    services.record_read(actor=user, dataset_code=dataset, obj=obj)
    issues = QualityIssue.objects.filter(dataset=dataset, record_id=obj.pk).order_by("-pk")[:20]
    return render(
        request,
        "basedata/record.html",
        _context(
            request,
            dataset=dataset,
            dataset_label=selectors.DATASET_LABELS[dataset],
            obj=obj,
            rows=selectors.field_rows(dataset, obj),
            issues=issues,
        ),
    )


def _departments(user: User) -> list[Department]:
    return list(services.covered_departments(user).order_by("code")[:200])


@permission(permissions.RECORD_UPDATE)
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    user = _staff(request)
    departments = _departments(user)
    posting = primary_posting(user)
    default = posting.unit.department.code if posting is not None else ""
    chosen = request.POST.get("department", default)
    dataset_code = request.POST.get("dataset", "person")
    errors: list[str] = []
    result = None
    if request.method == "POST":
        file = request.FILES.get("file")
        dataset = DATASETS.get(dataset_code)
        if dataset is None:
            errors.append(_("请选择数据集"))
        elif file is None:
            errors.append(_("请选择要上传的CSV或JSON文件"))
        else:
            try:
                records = uploads.parse(dataset, file.name or "", file.read(uploads.MAX_BYTES + 1))
                result = services.records_load(
                    actor=user,
                    dataset_code=dataset.code,
                    records=records,
                    department_code=chosen,
                    channel="file",
                )
            except LoadRejected as rejected:
                errors.extend(rejected.messages)
            except ValidationError as error:
                errors.extend(error.messages)
    return render(
        request,
        "basedata/upload.html",
        _context(
            request,
            datasets=list(DATASETS.values()),
            dataset_code=dataset_code,
            departments=departments,
            chosen=chosen,
            errors=errors,
            result=result,
        ),
        status=400 if errors else 200,
    )


@permission(permissions.RECORD_UPDATE)
@require_GET
def upload_template(request: HttpRequest, dataset: str) -> HttpResponse:
    _staff(request)
    spec = DATASETS.get(dataset)
    if spec is None:
        raise Http404
    response = HttpResponse(uploads.template_csv(spec), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{dataset}.csv")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@permission(permissions.QUALITY_RESOLVE)
@require_GET
def issue_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    status = request.GET.get("status", IssueStatus.OPEN)
    if status not in IssueStatus.values and status != "":
        status = IssueStatus.OPEN
    kind = request.GET.get("kind", "")
    if kind not in IssueKind.values:
        kind = ""
    page = Paginator(selectors.issues(status, kind), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "basedata/issues.html",
        _context(
            request,
            page=page,
            status=status,
            kind=kind,
            statuses=IssueStatus.choices,
            kinds=IssueKind.choices,
            labels=selectors.DATASET_LABELS,
        ),
    )


@permission(permissions.QUALITY_RESOLVE)
@require_http_methods(["GET", "POST"])
def issue_detail(request: HttpRequest, issue_id: int) -> HttpResponse:
    user = _staff(request)
    issue = get_object_or_404(QualityIssue, pk=issue_id)
    errors: list[str] = []
    if request.method == "POST":
        raw_choice = request.POST.get("choice", "")
        try:
            services.issue_resolve(
                actor=user,
                issue=issue,
                action=request.POST.get("action", ""),
                choice=int(raw_choice) if raw_choice.isdigit() else None,
                note=request.POST.get("note", "")[:1000],
            )
        except ValidationError as error:
            errors.extend(error.messages)
        else:
            return redirect("basedata:issue", issue.pk)
    return render(
        request,
        "basedata/issue.html",
        _context(
            request,
            issue=issue,
            values=selectors.issue_value_rows(issue),
            dataset_label=selectors.DATASET_LABELS.get(issue.dataset, issue.dataset),
            field_label=_field_label(issue),
            errors=errors,
        ),
        status=400 if errors else 200,
    )


def _field_label(issue: QualityIssue) -> str:
    dataset = DATASETS.get(issue.dataset)
    if dataset is None or not issue.field:
        return issue.field
    if issue.field == dataset.key:
        return str(_("标识"))
    spec = dataset.spec(issue.field)
    return str(spec.label) if spec else issue.field
