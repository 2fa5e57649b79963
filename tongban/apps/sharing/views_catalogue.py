"""Resource catalogue pages (政务信息资源目录): browse and search, an entry with its
versions and their differences, the department's own entries, the drafting form with its
items (htmx adds rows), and the review queue. Each view parses the request, calls one
service of ``catalogue`` or a read of ``catalogue_selectors`` and renders."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tongban.apps.sharing import catalogue, permissions
from tongban.apps.sharing import catalogue_selectors as selectors
from tongban.apps.sharing.catalogue import ItemInput, VersionFields
from tongban.apps.sharing.models import (
    DataType,
    OpenType,
    ResourceClass,
    ResourceFormat,
    ResourceVersion,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.platform.access.decorators import permission, signed_in
from tongban.platform.access.services import deny, has_permission, scope_queryset
from tongban.platform.orgs.models import Department

PAGE_SIZE = 20
NAV = "sharing"
CATALOGUE_ROLES = (
    permissions.CATALOGUE_VIEW,
    permissions.CATALOGUE_EDIT,
    permissions.CATALOGUE_REVIEW,
)


def _require_any(request: HttpRequest) -> None:
    """403 (audited) unless the user has some part in the catalogue."""
    if not any(has_permission(request.user, code) for code in CATALOGUE_ROLES):
        deny(request.user, permissions.CATALOGUE_VIEW)


def _error_dict(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {name: [str(line) for line in lines] for name, lines in error.message_dict.items()}
    return {"form": [str(line) for line in error.messages]}


def _flash_error(request: HttpRequest, error: ValidationError) -> None:
    for lines in _error_dict(error).values():
        for line in lines:
            messages.error(request, line)


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    user = request.user
    return {
        "nav_active": NAV,
        "may_view": has_permission(user, permissions.CATALOGUE_VIEW),
        "may_edit_any": has_permission(user, permissions.CATALOGUE_EDIT),
        "may_review_any": has_permission(user, permissions.CATALOGUE_REVIEW),
        **extra,
    }


# --------------------------------------------------------------------------- browsing


@signed_in
def catalogue_home(request: HttpRequest) -> HttpResponse:
    """Browse by class and by department, or search; published entries only."""
    _require_any(request)
    actor = request.user
    query = request.GET
    text = query.get("q", "").strip()[:100]
    resource_class = query.get("class", "")
    if resource_class not in ResourceClass.values:
        resource_class = ""
    department = query.get("department", "").strip()[:40]
    page_number = query.get("page", "1")
    hits: list[selectors.CatalogueHit] = []
    total = 0
    page = None
    if text:
        hits, total = selectors.catalogue_search(
            actor, text=text, resource_class=resource_class, department=department, limit=50
        )
    else:
        listing = selectors.catalogue_list(
            actor, resource_class=resource_class, department=department
        )
        page = Paginator(listing, PAGE_SIZE).get_page(page_number)
    querystring = urlencode(
        [
            (name, value)
            for name, value in (("class", resource_class), ("department", department))
            if value
        ]
    )
    return render(
        request,
        "sharing/catalogue/home.html",
        _context(
            request,
            text=text,
            hits=hits,
            total=total,
            page=page,
            classes=selectors.counts_by_class(actor),
            departments=selectors.counts_by_department(actor),
            selected_class=resource_class,
            selected_department=department,
            querystring=querystring,
        ),
    )


def _detail_context(
    request: HttpRequest, access: selectors.ResourceAccess, version: ResourceVersion
) -> dict[str, Any]:
    versions = list(selectors.versions_for(access))
    resource = access.resource
    previous = {v.number: older.number for v, older in zip(versions, versions[1:], strict=False)}
    return _context(
        request,
        resource=resource,
        version=version,
        items=selectors.items_for(version),
        versions=versions,
        previous=previous,
        related=selectors.related_resources(request.user, version),
        access=access,
        open_version=selectors.open_version(resource) if access.sees_preparation else None,
        is_published=version.status == VersionStatus.PUBLISHED and not resource.is_withdrawn,
        may_edit_version=access.may_edit
        and version.status in (VersionStatus.DRAFT, VersionStatus.REJECTED)
        and not resource.is_withdrawn,
        may_review_version=access.may_review and version.status == VersionStatus.SUBMITTED,
        request_href=f"/sharing/requests/new/?resource={resource.code}",
    )


@signed_in
def resource_detail(request: HttpRequest, code: str) -> HttpResponse:
    """An entry: its current version (or, before publication, its draft)."""
    _require_any(request)
    access = selectors.access_resource_by_code(request.user, code)
    resource = access.resource
    version = resource.current
    if version is None or (resource.is_withdrawn and not access.sees_preparation):
        version = selectors.versions_for(access).first()
    if version is None:
        raise Http404
    return render(
        request, "sharing/catalogue/detail.html", _detail_context(request, access, version)
    )


@signed_in
def version_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    _require_any(request)
    access = selectors.access_resource_by_code(request.user, code)
    version = selectors.version_for(access, number)
    return render(
        request, "sharing/catalogue/detail.html", _detail_context(request, access, version)
    )


@signed_in
def version_diff(request: HttpRequest, code: str) -> HttpResponse:
    """Differences between two versions (``?from=N&to=M``, default: the two newest)."""
    _require_any(request)
    access = selectors.access_resource_by_code(request.user, code)
    versions = list(selectors.versions_for(access))
    numbers = {v.number: v for v in versions}
    try:
        new_number = int(request.GET.get("to") or (versions[0].number if versions else 0))
        old_number = int(
            request.GET.get("from") or (versions[1].number if len(versions) > 1 else 0)
        )
    except ValueError as error:
        raise Http404 from error
    if new_number not in numbers or old_number not in numbers:
        raise Http404
    diff = selectors.version_diff(numbers[old_number], numbers[new_number])
    return render(
        request,
        "sharing/catalogue/diff.html",
        _context(request, resource=access.resource, diff=diff, versions=versions),
    )


# --------------------------------------------------------------------------- editing


def _editable_departments(request: HttpRequest) -> list[Department]:
    return list(
        scope_queryset(
            request.user,
            Department.objects.order_by("code"),
            permissions.CATALOGUE_EDIT,
            catalogue.DEPARTMENT_SCOPE,
        )
    )


def _length(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # reported by the item validation


def _posted(request: HttpRequest) -> tuple[VersionFields, list[ItemInput]]:
    data = request.POST
    values = VersionFields(
        classification=data.get("classification", ""),
        name=data.get("name", ""),
        summary=data.get("summary", ""),
        format=data.get("format", ""),
        share_type=data.get("share_type", ""),
        update_cycle=data.get("update_cycle", ""),
        share_conditions=data.get("share_conditions", ""),
        share_method=data.get("share_method", ""),
        open_type=data.get("open_type", ""),
        open_conditions=data.get("open_conditions", ""),
        related_codes=tuple(
            data.get("related_codes", "").replace("，", ",").replace(",", " ").split()
        ),
        change_note=data.get("change_note", ""),
    )
    columns = [
        data.getlist(name)
        for name in (
            "item_code",
            "item_name",
            "item_type",
            "item_length",
            "item_sensitivity",
            "item_description",
        )
    ]
    rows = max((len(column) for column in columns), default=0)
    items = []
    for index in range(min(rows, catalogue.MAX_ITEMS + 1)):
        code, name, data_type, length, sensitivity, description = (
            column[index] if index < len(column) else "" for column in columns
        )
        if not (code.strip() or name.strip() or description.strip()):
            continue  # an empty row left in the form
        items.append(
            ItemInput(
                code=code,
                name=name,
                data_type=data_type,
                length=_length(length),
                sensitivity=sensitivity,
                description=description,
            )
        )
    return values, items


def _form_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return _context(
        request,
        classes=ResourceClass.choices,
        formats=ResourceFormat.choices,
        share_types=ShareType.choices,
        share_methods=ShareMethod.choices,
        open_types=OpenType.choices,
        update_cycles=UpdateCycle.choices,
        data_types=DataType.choices,
        sensitivities=Sensitivity.choices,
        **extra,
    )


def _blank_item() -> ItemInput:
    return ItemInput(code="", name="", data_type=DataType.STRING)


@permission(permissions.CATALOGUE_EDIT)
def resource_new(request: HttpRequest) -> HttpResponse:
    """A new entry of the user's department (its first version is a draft)."""
    departments = _editable_departments(request)
    if not departments:
        deny(request.user, permissions.CATALOGUE_EDIT)
    errors: dict[str, list[str]] = {}
    values = VersionFields("", "", "", "", "", "")
    items: list[ItemInput] = [_blank_item()]
    head = {"code": "", "resource_class": "", "provider": "", "service_code": ""}
    if request.method == "POST":
        values, items = _posted(request)
        head = {name: request.POST.get(name, "").strip() for name in head}
        provider = next((d for d in departments if str(d.pk) == head["provider"]), None)
        if provider is None:
            errors = {"provider": [_("请选择提供方部门。")]}
        else:
            try:
                resource = catalogue.resource_create(
                    actor=request.user,
                    code=head["code"],
                    resource_class=head["resource_class"],
                    provider=provider,
                    values=values,
                    items=items,
                    service_code=head["service_code"],
                )
            except ValidationError as error:
                errors = _error_dict(error)
            else:
                messages.success(request, _("已保存草稿。"))
                return redirect("sharing:catalogue_resource", code=resource.code)
        items = items or [_blank_item()]
    return render(
        request,
        "sharing/catalogue/form.html",
        _form_context(
            request,
            is_new=True,
            departments=departments,
            head=head,
            values=values,
            items=items,
            errors=errors,
        ),
        status=400 if errors else 200,
    )


def _own_version(request: HttpRequest, code: str, number: int) -> ResourceVersion:
    access = selectors.access_resource_by_code(request.user, code)
    if not access.may_edit:
        deny(request.user, permissions.CATALOGUE_EDIT, target=access.resource)
    return selectors.version_for(access, number)


@permission(permissions.CATALOGUE_EDIT)
def version_edit(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _own_version(request, code, number)
    if version.status not in (VersionStatus.DRAFT, VersionStatus.REJECTED):
        messages.error(request, _("只有草稿或退回修改的版本可以修改。"))
        return redirect("sharing:catalogue_version", code=code, number=number)
    errors: dict[str, list[str]] = {}
    values = catalogue.fields_of(version)
    items = catalogue.items_of(version) or [_blank_item()]
    if request.method == "POST":
        values, items = _posted(request)
        try:
            catalogue.version_update(
                actor=request.user, version=version, values=values, items=items
            )
        except ValidationError as error:
            errors = _error_dict(error)
            items = items or [_blank_item()]
        else:
            if request.POST.get("then") == "submit":
                try:
                    catalogue.version_submit(actor=request.user, version=version)
                except ValidationError as error:
                    _flash_error(request, error)
                else:
                    messages.success(request, _("已提交审核。"))
            else:
                messages.success(request, _("已保存。"))
            return redirect("sharing:catalogue_version", code=code, number=number)
    return render(
        request,
        "sharing/catalogue/form.html",
        _form_context(
            request,
            is_new=False,
            resource=version.resource,
            version=version,
            values=values,
            items=items,
            errors=errors,
        ),
        status=400 if errors else 200,
    )


@permission(permissions.CATALOGUE_EDIT)
def item_row(request: HttpRequest) -> HttpResponse:
    """One empty item row for the form (htmx)."""
    return render(
        request,
        "sharing/catalogue/_item_row.html",
        _form_context(request, item=_blank_item()),
    )


@require_POST
@permission(permissions.CATALOGUE_EDIT)
def version_new(request: HttpRequest, code: str) -> HttpResponse:
    """Start a new version from the published one."""
    access = selectors.access_resource_by_code(request.user, code)
    try:
        version = catalogue.version_draft(actor=request.user, resource=access.resource)
    except ValidationError as error:
        _flash_error(request, error)
        return redirect("sharing:catalogue_resource", code=code)
    return redirect("sharing:catalogue_version_edit", code=code, number=version.number)


@require_POST
@permission(permissions.CATALOGUE_EDIT)
def version_submit(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _own_version(request, code, number)
    try:
        catalogue.version_submit(actor=request.user, version=version)
    except ValidationError as error:
        _flash_error(request, error)
    else:
        messages.success(request, _("已提交审核。"))
    return redirect("sharing:catalogue_version", code=code, number=number)


@permission(permissions.CATALOGUE_EDIT)
def my_entries(request: HttpRequest) -> HttpResponse:
    """The department's entries with their versions in preparation."""
    resources = list(selectors.my_department_entries(request.user))
    open_versions = selectors.open_versions_for_editor(request.user)
    rows = [(resource, open_versions.get(resource.pk)) for resource in resources]
    return render(
        request,
        "sharing/catalogue/mine.html",
        _context(request, rows=rows),
    )


# --------------------------------------------------------------------------- review


@permission(permissions.CATALOGUE_REVIEW)
def review_queue(request: HttpRequest) -> HttpResponse:
    versions = list(selectors.review_queue(request.user))
    return render(
        request,
        "sharing/catalogue/review.html",
        _context(request, versions=versions),
    )


def _reviewed_version(request: HttpRequest, code: str, number: int) -> ResourceVersion:
    access = selectors.access_resource_by_code(request.user, code)
    if not access.may_review:
        deny(request.user, permissions.CATALOGUE_REVIEW, target=access.resource)
    return selectors.version_for(access, number)


@require_POST
@permission(permissions.CATALOGUE_REVIEW)
def version_publish(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _reviewed_version(request, code, number)
    try:
        catalogue.version_publish(actor=request.user, version=version)
    except ValidationError as error:
        _flash_error(request, error)
        return redirect("sharing:catalogue_version", code=code, number=number)
    messages.success(request, _("已发布。"))
    return redirect(reverse("sharing:catalogue_review"))


@require_POST
@permission(permissions.CATALOGUE_REVIEW)
def version_reject(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _reviewed_version(request, code, number)
    try:
        catalogue.version_reject(
            actor=request.user, version=version, reasons=request.POST.get("reasons", "")
        )
    except ValidationError as error:
        _flash_error(request, error)
        return redirect("sharing:catalogue_version", code=code, number=number)
    messages.success(request, _("已退回修改。"))
    return redirect(reverse("sharing:catalogue_review"))


@require_POST
@permission(permissions.CATALOGUE_REVIEW)
def resource_withdraw(request: HttpRequest, code: str) -> HttpResponse:
    access = selectors.access_resource_by_code(request.user, code)
    if not access.may_review:
        deny(request.user, permissions.CATALOGUE_REVIEW, target=access.resource)
    try:
        catalogue.resource_withdraw(
            actor=request.user, resource=access.resource, reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        _flash_error(request, error)
    else:
        messages.success(request, _("资源已撤销。"))
    return redirect("sharing:catalogue_resource", code=code)
