"""The resource catalogue: reads, each for an actor.

Published entries are for everyone holding ``CATALOGUE_VIEW`` (any scope: the catalogue
is how departments find what they can request). Versions in preparation (draft,
submitted, rejected) are seen only by the provider department's editors
(``CATALOGUE_EDIT`` in scope) and the catalogue administrators (``CATALOGUE_REVIEW`` in
scope). ``access_resource_by_code`` is the one way to load an entry for a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from tongban.apps.sharing import permissions
from tongban.apps.sharing.catalogue import SEARCH_NAMESPACE, VERSION_FIELD_NAMES
from tongban.apps.sharing.models import (
    OPEN_VERSION_STATUSES,
    RESOURCE_SCOPE,
    InfoItem,
    Resource,
    ResourceClass,
    ResourceVersion,
    VersionStatus,
)
from tongban.platform.access.services import has_permission, scope_queryset
from tongban.platform.orgs.models import Department
from tongban.platform.search import selectors as search

PUBLIC_STATUSES = (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED)


def may_view(actor: Any) -> bool:
    return has_permission(actor, permissions.CATALOGUE_VIEW)


def published_resources(actor: Any) -> QuerySet[Resource]:
    """The catalogue as published (not withdrawn), for a viewer; none for anyone else."""
    queryset = Resource.objects.filter(
        is_withdrawn=False, current__status=VersionStatus.PUBLISHED
    ).select_related("provider", "current")
    return queryset if may_view(actor) else queryset.none()


def editable_resources(actor: Any) -> QuerySet[Resource]:
    return scope_queryset(actor, Resource.objects.all(), permissions.CATALOGUE_EDIT, RESOURCE_SCOPE)


def reviewable_resources(actor: Any) -> QuerySet[Resource]:
    return scope_queryset(
        actor, Resource.objects.all(), permissions.CATALOGUE_REVIEW, RESOURCE_SCOPE
    )


def may_edit(actor: Any, resource: Resource) -> bool:
    return editable_resources(actor).filter(pk=resource.pk).exists()


def may_review(actor: Any, resource: Resource) -> bool:
    return reviewable_resources(actor).filter(pk=resource.pk).exists()


@dataclass(frozen=True)
class ResourceAccess:
    """An entry as one user may see it."""

    resource: Resource
    may_edit: bool
    may_review: bool

    @property
    def sees_preparation(self) -> bool:
        return self.may_edit or self.may_review


def access_resource_by_code(actor: Any, code: str) -> ResourceAccess:
    """The entry if the actor may see it (published and a viewer, or its editor or
    reviewer); 404 otherwise."""
    resource = Resource.objects.select_related("provider", "current").filter(code=code).first()
    if resource is None:
        raise Http404
    access = ResourceAccess(resource, may_edit(actor, resource), may_review(actor, resource))
    published = (
        not resource.is_withdrawn
        and resource.current is not None
        and resource.current.status == VersionStatus.PUBLISHED
    )
    if access.sees_preparation or (published and may_view(actor)):
        return access
    raise Http404


def versions_for(access: ResourceAccess) -> QuerySet[ResourceVersion]:
    """The entry's versions the user may see, newest first."""
    queryset = access.resource.versions.select_related("created_by", "reviewed_by")
    if not access.sees_preparation:
        queryset = queryset.filter(status__in=PUBLIC_STATUSES)
    return queryset.order_by("-number")


def version_for(access: ResourceAccess, number: int) -> ResourceVersion:
    version = versions_for(access).filter(number=number).first()
    if version is None:
        raise Http404
    return version


def open_version(resource: Resource) -> ResourceVersion | None:
    return resource.versions.filter(status__in=OPEN_VERSION_STATUSES).first()


def items_for(version: ResourceVersion) -> QuerySet[InfoItem]:
    return version.items.order_by("order", "id")


def related_resources(actor: Any, version: ResourceVersion) -> list[tuple[str, Resource | None]]:
    """The related codes, each with its published entry when there is one."""
    codes = list(version.related_codes or [])
    found = {r.code: r for r in published_resources(actor).filter(code__in=codes)}
    return [(code, found.get(code)) for code in codes]


# --- browsing -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassCount:
    value: str
    label: str
    count: int


@dataclass(frozen=True)
class DepartmentCount:
    department: Department
    count: int


def counts_by_class(actor: Any) -> list[ClassCount]:
    counts = dict(
        published_resources(actor)
        .order_by()
        .values_list("resource_class")
        .annotate(n=Count("pk"))
        .values_list("resource_class", "n")
    )
    return [
        ClassCount(value, str(label), counts.get(value, 0))
        for value, label in ResourceClass.choices
    ]


def counts_by_department(actor: Any) -> list[DepartmentCount]:
    counts = dict(
        published_resources(actor)
        .order_by()
        .values_list("provider")
        .annotate(n=Count("pk"))
        .values_list("provider", "n")
    )
    departments = Department.objects.filter(pk__in=counts).order_by("code")
    return [DepartmentCount(department, counts[department.pk]) for department in departments]


def catalogue_list(
    actor: Any, *, resource_class: str = "", department: str = ""
) -> QuerySet[Resource]:
    """Published entries, optionally of one class and one provider (department code)."""
    queryset = published_resources(actor)
    if resource_class:
        queryset = queryset.filter(resource_class=resource_class)
    if department:
        queryset = queryset.filter(provider__code=department)
    return queryset.order_by("code")


@dataclass(frozen=True)
class CatalogueHit:
    resource: Resource
    score: float


def catalogue_search(
    actor: Any,
    *,
    text: str,
    resource_class: str = "",
    department: str = "",
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[CatalogueHit], int]:
    """Published entries matching ``text`` (platform search), best first."""
    if not may_view(actor):
        return [], 0
    filters = {}
    if resource_class:
        filters["resource_class"] = resource_class
    if department:
        filters["provider"] = department
    result = search.search_query(
        namespace=SEARCH_NAMESPACE, text=text, limit=limit, offset=offset, filters=filters
    )
    found = {
        resource.code: resource
        for resource in published_resources(actor).filter(code__in=[hit.key for hit in result.hits])
    }
    hits = [CatalogueHit(found[hit.key], hit.score) for hit in result.hits if hit.key in found]
    return hits, result.total


# --- work lists -------------------------------------------------------------------------


def my_department_entries(actor: Any) -> QuerySet[Resource]:
    """Entries the actor edits (their department's), with any version in preparation."""
    return (
        editable_resources(actor)
        .select_related("provider", "current")
        .annotate(
            open_count=Count("versions", filter=Q(versions__status__in=OPEN_VERSION_STATUSES))
        )
        .order_by("code")
    )


def open_versions_for_editor(actor: Any) -> dict[int, ResourceVersion]:
    """resource id → its version in preparation, for the actor's editable entries."""
    versions = ResourceVersion.objects.filter(
        resource__in=editable_resources(actor), status__in=OPEN_VERSION_STATUSES
    )
    return {version.resource_id: version for version in versions}


def review_queue(actor: Any) -> QuerySet[ResourceVersion]:
    """Submitted versions waiting for the actor's review, oldest first."""
    return (
        ResourceVersion.objects.filter(
            resource__in=reviewable_resources(actor), status=VersionStatus.SUBMITTED
        )
        .select_related("resource", "resource__provider", "created_by")
        .order_by("submitted_at", "pk")
    )


def rejected_for_editor(actor: Any) -> QuerySet[ResourceVersion]:
    return (
        ResourceVersion.objects.filter(
            resource__in=editable_resources(actor), status=VersionStatus.REJECTED
        )
        .select_related("resource")
        .order_by("-reviewed_at", "pk")
    )


# --- diff -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    name: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class ItemChange:
    code: str
    name: str
    changes: list[FieldChange]


@dataclass
class VersionDiff:
    old: ResourceVersion
    new: ResourceVersion
    fields: list[FieldChange] = field(default_factory=list)
    items_added: list[InfoItem] = field(default_factory=list)
    items_removed: list[InfoItem] = field(default_factory=list)
    items_changed: list[ItemChange] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.fields or self.items_added or self.items_removed or self.items_changed)


DIFF_FIELDS = tuple(name for name in VERSION_FIELD_NAMES if name != "change_note")
ITEM_DIFF_FIELDS = ("name", "data_type", "length", "sensitivity", "description")


def _shown(instance: Any, name: str) -> str:
    display = getattr(instance, f"get_{name}_display", None)
    if display is not None:
        return str(display())
    value = getattr(instance, name)
    if isinstance(value, list):
        return "、".join(str(part) for part in value)
    return "" if value is None else str(value)


def _label(model: Any, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def version_diff(old: ResourceVersion, new: ResourceVersion) -> VersionDiff:
    """What changed from ``old`` to ``new``: metadata field by field, then the items
    (matched by code) added, removed and changed."""
    diff = VersionDiff(old, new)
    for name in DIFF_FIELDS:
        before, after = _shown(old, name), _shown(new, name)
        if before != after:
            diff.fields.append(FieldChange(name, _label(ResourceVersion, name), before, after))
    old_items = {item.code: item for item in items_for(old)}
    new_items = {item.code: item for item in items_for(new)}
    diff.items_added = [item for code, item in new_items.items() if code not in old_items]
    diff.items_removed = [item for code, item in old_items.items() if code not in new_items]
    for code, item in new_items.items():
        before_item = old_items.get(code)
        if before_item is None:
            continue
        changes = [
            FieldChange(name, _label(InfoItem, name), _shown(before_item, name), _shown(item, name))
            for name in ITEM_DIFF_FIELDS
            if _shown(before_item, name) != _shown(item, name)
        ]
        if changes:
            diff.items_changed.append(ItemChange(code, item.name, changes))
    return diff
