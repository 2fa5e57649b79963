"""Keep the platform search index in step with the published catalogue.

The index holds one document per active item: its current version's name (title weight),
keywords, department, type, themes and life events (keyword weight), and scope, conditions
and materials (body weight). Filters allow narrowing by department, type and audience.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from tongban.apps.catalog.models import ItemVersion, ServiceItem
from tongban.platform.search import services as search

NAMESPACE = "catalog.item"


def _audience(version: ItemVersion) -> str:
    if version.for_natural_persons and version.for_legal_persons:
        return "both"
    return "person" if version.for_natural_persons else "enterprise"


def document_for(item: ServiceItem, version: ItemVersion) -> search.DocumentInput:
    themes = " ".join(theme.name for theme in version.themes.all())
    events = " ".join(event.name for event in version.life_events.all())
    materials = " ".join(material.name for material in version.materials.all())
    keywords = " ".join(
        part
        for part in (
            version.keywords,
            item.department.name,
            version.competent_department,
            version.get_item_type_display(),
            version.result_name,
            themes,
            events,
        )
        if part
    )
    body = " ".join(part for part in (version.scope, version.conditions, materials) if part)
    # a small static preference for items people can finish online
    boost = 1.0 + 0.05 * (version.online_depth - 1)
    return search.DocumentInput(
        key=str(item.pk),
        title=version.name,
        title_text=version.name,
        keywords_text=keywords,
        body_text=body,
        filters={
            "department": item.department.code,
            "type": version.item_type,
            "audience": _audience(version),
        },
        boost=boost,
    )


def _published(queryset: Any) -> Iterator[tuple[ServiceItem, ItemVersion]]:
    items = (
        queryset.filter(is_active=True, current__isnull=False)
        .select_related("department", "current")
        .prefetch_related("current__themes", "current__life_events", "current__materials")
        .order_by("pk")
    )
    for item in items.iterator(chunk_size=2000):
        assert item.current is not None
        yield item, item.current


def item_index(*, item_id: int) -> None:
    for item, version in _published(ServiceItem.objects.filter(pk=item_id)):
        document = document_for(item, version)
        search.search_documents_bulk_upsert(namespace=NAMESPACE, documents=[document])
        return
    item_unindex(item_id=item_id)


def item_unindex(*, item_id: int) -> None:
    search.search_document_delete(namespace=NAMESPACE, key=str(item_id))


def catalog_reindex(items: Iterable[int] | None = None) -> int:
    """Rebuild the catalogue's part of the index (all of it, or the given items)."""
    queryset = ServiceItem.objects.all()
    if items is not None:
        queryset = queryset.filter(pk__in=list(items))
        documents = [document_for(item, version) for item, version in _published(queryset)]
        search.search_documents_bulk_upsert(namespace=NAMESPACE, documents=documents)
        return len(documents)
    documents = [document_for(item, version) for item, version in _published(queryset)]
    search.search_documents_bulk_replace(namespace=NAMESPACE, documents=documents)
    return len(documents)
