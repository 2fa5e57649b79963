"""Public pages of the service catalogue (办事指南) and the power lists; the editors' queue.

Thin: parse the request, call one selector or service, render.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tongban.apps.catalog import permissions, selectors, services
from tongban.apps.catalog.models import (
    Audience,
    ItemType,
    ItemVersion,
    PowerType,
    ServiceItem,
)
from tongban.apps.catalog.onlineforms import form_data_from_post, form_render, form_validate
from tongban.platform.access.decorators import permission, public
from tongban.platform.access.services import has_permission

ONLINE_APPLY_DEPTH = 3  # 网办深度 III and IV: the application is made online
PAGE_SIZE = 30
QUERY_MAX = 100


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:QUERY_MAX]


@public
def home(request: HttpRequest) -> HttpResponse:
    """The 办事 landing page: “我要办” box, browse by department, theme, life event, type."""
    context: dict[str, Any] = {
        "nav_active": "catalog",
        "departments": selectors.departments_with_items(),
        "themes": selectors.themes_with_counts(),
        "life_events": selectors.life_events_all(),
        "item_types": ItemType.choices,
        "bundles": selectors.bundles_active(),
        "audiences": Audience,
    }
    return render(request, "catalog/home.html", context)


@public
def search(request: HttpRequest) -> HttpResponse:
    """Search and need routing in one: ranked items, the departments, and why each matched."""
    text = _query(request)
    result = selectors.route_need(text=text, limit=30) if text else None
    context = {"nav_active": "catalog", "q": text, "result": result}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "catalog/_results.html", context)
    return render(request, "catalog/search.html", context)


@public
def browse(request: HttpRequest) -> HttpResponse:
    filters = {
        "department_code": request.GET.get("department", "")[:32],
        "theme_code": request.GET.get("theme", "")[:40],
        "life_event_code": request.GET.get("event", "")[:40],
        "item_type": request.GET.get("type", "")[:32],
        "audience": request.GET.get("audience", "")[:16],
    }
    items = selectors.items_browse(**filters)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    heading: str = _("全部事项")
    if filters["department_code"]:
        found = [
            d
            for d, _n in selectors.departments_with_items()
            if d.code == filters["department_code"]
        ]
        heading = found[0].name if found else heading
    elif filters["theme_code"]:
        heading = next(
            (t.name for t, _n in selectors.themes_with_counts() if t.code == filters["theme_code"]),
            heading,
        )
    elif filters["life_event_code"]:
        heading = next(
            (e.name for e in selectors.life_events_all() if e.code == filters["life_event_code"]),
            heading,
        )
    elif filters["item_type"]:
        heading = str(dict(ItemType.choices).get(filters["item_type"], heading))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav_active": "catalog",
        "page": page,
        "heading": heading,
        "querystring": query.urlencode(),
    }
    return render(request, "catalog/browse.html", context)


def _guide_context(version: ItemVersion, request: HttpRequest) -> dict[str, Any]:
    item = version.item
    return {
        "nav_active": "catalog",
        "version": version,
        "item": item,
        "children": selectors.item_children(item),
        "is_current": item.current_id == version.pk,
        "materials": version.materials.all(),
        "steps": version.steps.all(),
        "bases": version.bases.all(),
        "special_procedures": version.special_procedure_labels(),
        "delivery_methods": version.delivery_method_labels(),
    }


@public
def item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    version = selectors.item_public_get(item_id=item_id)
    return render(request, "catalog/item.html", _guide_context(version, request))


@public
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """A past version: what a case opened on it was told (not the current guide)."""
    version = selectors.version_get(version_id=version_id)
    return render(request, "catalog/item.html", _guide_context(version, request))


@public
@require_http_methods(["GET", "POST"])
def item_apply(request: HttpRequest, item_id: int) -> HttpResponse:
    """The online application form of an item, validated on the server."""
    version = selectors.item_public_get(item_id=item_id)
    if not version.form_schema and version.online_depth < ONLINE_APPLY_DEPTH:
        return redirect("catalog:item", item_id=item_id)
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    from tongban.apps.catalog.public import application_url

    target = application_url(item_id)
    if target:  # an application takes online applications: apply there
        return redirect(target)
    if not version.form_schema:
        return redirect("catalog:item", item_id=item_id)
    data: dict[str, Any] | None = None
    errors = None
    checked = False
    if request.method == "POST":
        data = form_data_from_post(version.form_schema, version.form_ui, request.POST)
        errors = form_validate(version.form_schema, data)
        checked = not errors
    context = {
        "nav_active": "catalog",
        "version": version,
        "item": version.item,
        "form_html": form_render(version.form_schema, version.form_ui, data, errors),
        "checked": checked,
    }
    status = 400 if errors else 200
    return render(request, "catalog/apply.html", context, status=status)


@public
def bundle_detail(request: HttpRequest, code: str) -> HttpResponse:
    from tongban.apps.catalog.public import bundle_application_url

    bundle = selectors.bundle_get(code=code)
    items = [item for item in bundle.items.all() if item.is_active and item.current_id]
    context = {
        "nav_active": "catalog",
        "bundle": bundle,
        "items": items,
        "apply_url": bundle_application_url(bundle.code),
    }
    return render(request, "catalog/bundle.html", context)


@public
def powers(request: HttpRequest) -> HttpResponse:
    """The 权责清单 by department, with legal bases and duties."""
    department_code = request.GET.get("department", "")[:32]
    power_type = request.GET.get("type", "")[:32]
    rows = selectors.powers_by_department(department_code=department_code, power_type=power_type)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "nav_active": "catalog",
        "page": page,
        "power_types": PowerType.choices,
        "departments": selectors.power_departments(),
        "department_code": department_code,
        "power_type": power_type,
        "querystring": query.urlencode(),
    }
    return render(request, "catalog/powers.html", context)


@public
def power_detail(request: HttpRequest, code: str) -> HttpResponse:
    power = selectors.power_get(code=code)
    items = selectors.items_published().filter(current__power=power)
    return render(
        request,
        "catalog/power.html",
        {"nav_active": "catalog", "power": power, "items": items},
    )


@public
def negative_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/negative.html",
        {"nav_active": "catalog", "entries": selectors.negative_list()},
    )


# ---------------------------------------------------------------- editors


@permission(permissions.ITEM_EDIT)
def editor(request: HttpRequest) -> HttpResponse:
    """Drafts of the editor's departments, and the review queue for reviewers."""
    context = {
        "nav_active": "workbench",
        "drafts": selectors.versions_for_editor(actor=request.user)[:200],
        "reviews": selectors.versions_for_reviewer(actor=request.user)[:200]
        if has_permission(request.user, permissions.ITEM_REVIEW)
        else [],
    }
    return render(request, "catalog/editor.html", context)


@permission(permissions.ITEM_EDIT)
@require_http_methods(["POST"])
def item_draft_open(request: HttpRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(ServiceItem, pk=item_id)
    try:
        version = services.version_draft_open(actor=request.user, item=item)  # type: ignore[arg-type]
    except ValidationError as error:
        return render(request, "catalog/editor_error.html", {"errors": error.messages}, status=400)
    except PermissionDenied:
        raise
    return redirect("admin:catalog_itemversion_change", version.pk)


@public
def public_file(request: HttpRequest, file_id: str) -> FileResponse:
    """A blank form, filled sample or result sample of a published guide (public)."""
    from django.core.files.storage import default_storage

    stored = selectors.public_file_get(file_id=file_id)
    response = FileResponse(
        default_storage.open(stored.storage_name, "rb"),
        as_attachment=True,
        filename=stored.original_name,
        content_type=stored.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
