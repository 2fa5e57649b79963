"""Every read of the catalogue. Published items are public; drafts are scoped to editors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from tongban.apps.catalog import indexing, permissions
from tongban.apps.catalog.models import (
    OPEN_STATES,
    Bundle,
    ItemVersion,
    LifeEvent,
    Material,
    NegativeListEntry,
    PowerItem,
    PowerStatus,
    ServiceItem,
    Theme,
    VersionBasis,
)
from tongban.apps.catalog.services import ITEM_SCOPE, LIFE_EVENTS_CACHE_KEY
from tongban.platform.access.services import scope_queryset
from tongban.platform.files.models import StoredFile
from tongban.platform.orgs.models import Department
from tongban.platform.search import selectors as search


def items_published() -> QuerySet[ServiceItem]:
    """Active items with a published current version, ready for listing."""
    return (
        ServiceItem.objects.filter(is_active=True, current__isnull=False)
        .select_related("current", "department")
        .order_by("department__code", "implementation_code")
    )


def items_browse(
    *,
    department_code: str = "",
    theme_code: str = "",
    life_event_code: str = "",
    item_type: str = "",
    audience: str = "",
) -> QuerySet[ServiceItem]:
    items = items_published()
    if department_code:
        items = items.filter(department__code=department_code)
    if theme_code:
        items = items.filter(current__themes__code=theme_code)
    if life_event_code:
        items = items.filter(current__life_events__code=life_event_code)
    if item_type:
        items = items.filter(current__item_type=item_type)
    if audience == "person":
        items = items.filter(current__for_natural_persons=True)
    elif audience == "enterprise":
        items = items.filter(current__for_legal_persons=True)
    return items.distinct()


def _version_detail(queryset: QuerySet[ItemVersion]) -> QuerySet[ItemVersion]:
    return queryset.select_related(
        "item", "item__department", "item__parent", "power", "result_sample"
    ).prefetch_related(
        "materials",
        "steps",
        "themes",
        "life_events",
        "windows",
        Prefetch("bases", queryset=VersionBasis.objects.select_related("basis")),
    )


def item_public_get(*, item_id: int) -> ItemVersion:
    """The current published version of an active item, with everything the guide shows."""
    version = (
        _version_detail(ItemVersion.objects.filter(item_id=item_id, item__is_active=True))
        .filter(item__current_id=F("id"))
        .first()
    )
    if version is None:
        raise Http404(_("未找到该事项或事项已停用"))
    return version


def version_get(*, version_id: int) -> ItemVersion:
    """Any published (or formerly published) version, e.g. the one a case was opened on."""
    version = (
        _version_detail(ItemVersion.objects.filter(pk=version_id))
        .exclude(state__in=OPEN_STATES)
        .first()
    )
    if version is None:
        raise Http404(_("未找到该事项版本"))
    return version


def item_children(item: ServiceItem) -> QuerySet[ServiceItem]:
    return items_published().filter(parent=item)


def departments_with_items() -> list[tuple[Department, int]]:
    rows = (
        Department.objects.filter(
            catalog_items__is_active=True, catalog_items__current__isnull=False
        )
        .annotate(item_count=Count("catalog_items"))
        .order_by("division__code", "code")
    )
    return [(row, row.item_count) for row in rows]  # type: ignore[attr-defined]


def themes_with_counts() -> list[tuple[Theme, int]]:
    through = ItemVersion.themes.through
    rows = (
        through.objects.filter(
            itemversion__item__current_id=F("itemversion_id"), itemversion__item__is_active=True
        )
        .values("theme_id")
        .annotate(n=Count("id"))
    )
    counts = {row["theme_id"]: row["n"] for row in rows}
    return [(theme, counts.get(theme.pk, 0)) for theme in Theme.objects.order_by("order", "code")]


def life_events_all() -> list[LifeEvent]:
    return list(LifeEvent.objects.order_by("audience", "order", "code"))


def bundles_active() -> QuerySet[Bundle]:
    return Bundle.objects.filter(is_active=True).select_related("lead_department", "life_event")


def bundle_get(*, code: str) -> Bundle:
    bundle = (
        bundles_active()
        .prefetch_related("items__current", "items__department")
        .filter(code=code)
        .first()
    )
    if bundle is None:
        raise Http404(_("未找到该“一件事”"))
    return bundle


def powers_by_department(*, department_code: str = "", power_type: str = "") -> QuerySet[PowerItem]:
    powers = (
        PowerItem.objects.filter(status=PowerStatus.ACTIVE)
        .select_related("holder")
        .prefetch_related("duties", "bases__basis")
        .order_by("holder__code", "code")
    )
    if department_code:
        powers = powers.filter(holder__code=department_code)
    if power_type:
        powers = powers.filter(power_type=power_type)
    return powers


def power_departments() -> QuerySet[Department]:
    return (
        Department.objects.filter(catalog_powers__status=PowerStatus.ACTIVE)
        .distinct()
        .order_by("division__code", "code")
    )


def power_get(*, code: str) -> PowerItem:
    power = powers_by_department().filter(code=code).first()
    if power is None:
        raise Http404(_("未找到该权力事项"))
    return power


def negative_list() -> QuerySet[NegativeListEntry]:
    return NegativeListEntry.objects.filter(is_active=True).select_related("department")


def versions_for_editor(
    *, actor: Any, states: tuple[str, ...] = OPEN_STATES
) -> QuerySet[ItemVersion]:
    """Drafts and versions in review that the actor may edit (their department scope)."""
    items = scope_queryset(actor, ServiceItem.objects.all(), permissions.ITEM_EDIT, ITEM_SCOPE)
    return (
        ItemVersion.objects.filter(item__in=items, state__in=states)
        .select_related("item", "item__department")
        .order_by("-updated_at")
    )


def versions_for_reviewer(*, actor: Any) -> QuerySet[ItemVersion]:
    items = scope_queryset(actor, ServiceItem.objects.all(), permissions.ITEM_REVIEW, ITEM_SCOPE)
    return (
        ItemVersion.objects.filter(item__in=items, state="in_review")
        .select_related("item", "item__department", "created_by")
        .order_by("submitted_at")
    )


# ---------------------------------------------------------------- search and routing


@dataclass
class ItemHit:
    item: ServiceItem
    score: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class DepartmentHit:
    department: Department
    score: float
    items: list[ServiceItem] = field(default_factory=list)


@dataclass
class RouteResult:
    query: str
    items: list[ItemHit]
    departments: list[DepartmentHit]
    life_events: list[tuple[LifeEvent, str]]
    understood: list[str]
    total: int


def _field_label(name: str) -> str:
    labels = {"title": _("名称"), "keywords": _("关键词、部门或主题"), "body": _("条件或材料")}
    return labels.get(name, name)


def _match_reason(match: Any) -> str:
    where = _field_label(match.field)
    if match.via == "synonym":
        return _("“%(concept)s”的同义词“%(term)s”出现在%(where)s中") % {
            "concept": match.concept,
            "term": match.term,
            "where": where,
        }
    if match.via in ("pinyin", "initials", "pinyin_fuzzy"):
        return _("拼音“%(concept)s”对应“%(term)s”，出现在%(where)s中") % {
            "concept": match.concept,
            "term": match.term,
            "where": where,
        }
    return _("“%(term)s”出现在%(where)s中") % {"term": match.term, "where": where}


def _items_by_key(keys: list[str]) -> dict[str, ServiceItem]:
    ids = [int(key) for key in keys if key.isdigit()]
    return {str(item.pk): item for item in items_published().filter(pk__in=ids)}


def catalog_search(
    *, text: str, limit: int = 20, offset: int = 0, filters: dict[str, str] | None = None
) -> tuple[list[ItemHit], int, list[str]]:
    """Items matching a query, best first, each with why it matched."""
    result = search.search_query(
        namespace=indexing.NAMESPACE, text=text, limit=limit, offset=offset, filters=filters
    )
    found = _items_by_key([hit.key for hit in result.hits])
    hits = []
    for hit in result.hits:
        item = found.get(hit.key)
        if item is None:  # retired since it was indexed
            continue
        reasons = list(dict.fromkeys(_match_reason(match) for match in hit.matches))
        hits.append(ItemHit(item=item, score=hit.score, reasons=reasons))
    return hits, result.total, _understood(result)


def _understood(result: Any) -> list[str]:
    words = []
    for concept in result.concepts:
        if concept.via == "word" and len(concept.alternatives) <= 1:
            words.append(concept.original)
        else:
            words.append(f"{concept.original}→{'/'.join(concept.alternatives[:4])}")
    return words


def _life_event_keywords() -> list[tuple[int, list[str]]]:
    cached = cache.get(LIFE_EVENTS_CACHE_KEY)
    if cached is None:
        cached = [
            (event.pk, sorted({event.name, *event.keywords.split()}, key=len, reverse=True))
            for event in LifeEvent.objects.all()
        ]
        cache.set(LIFE_EVENTS_CACHE_KEY, cached, 60)
    return cached


def life_events_in(text: str) -> list[tuple[LifeEvent, str]]:
    """Life events whose name or keywords occur in the sentence, with the word found."""
    matched: dict[int, str] = {}
    for event_id, words in _life_event_keywords():
        for word in words:
            if word and word in text:
                matched[event_id] = word
                break
    if not matched:
        return []
    events = LifeEvent.objects.in_bulk(list(matched))
    return [(events[pk], word) for pk, word in matched.items() if pk in events]


ROUTE_CANDIDATES = 60
LIFE_EVENT_WEIGHT = 0.5
DEPARTMENT_BASIS = 10


def route_need(*, text: str, limit: int = 10) -> RouteResult:
    """“我想开一家奶茶店” → the ranked items and the departments that handle them, with why.

    Items found by search keep their (normalised) score; items of a life event named in
    the sentence get a bonus, and the event's other items join with that bonus alone, so
    “孩子上小学要办什么” finds school enrolment even where no word matches literally.
    """
    text = text.strip()[:100]
    hits, total, understood = catalog_search(text=text, limit=ROUTE_CANDIDATES)
    events = life_events_in(text)
    top = max((hit.score for hit in hits), default=0.0) or 1.0
    ranked: dict[int, ItemHit] = {
        hit.item.pk: ItemHit(item=hit.item, score=hit.score / top, reasons=hit.reasons)
        for hit in hits
    }
    if events:
        event_ids = [event.pk for event, _word in events]
        members = (
            items_published()
            .filter(current__life_events__in=event_ids)
            .prefetch_related("current__life_events")
            .distinct()[:ROUTE_CANDIDATES]
        )
        names = {event.pk: (event.name, word) for event, word in events}
        for item in members:
            assert item.current is not None
            for event in item.current.life_events.all():
                if event.pk not in names:
                    continue
                name, word = names[event.pk]
                reason = _("属于“%(event)s”事项（您提到了“%(word)s”）") % {
                    "event": name,
                    "word": word,
                }
                entry = ranked.setdefault(item.pk, ItemHit(item=item, score=0.0))
                entry.score += LIFE_EVENT_WEIGHT
                entry.reasons.append(reason)
                break
    ordered = sorted(
        ranked.values(),
        key=lambda hit: (-hit.score, len(hit.item.department.path), hit.item.implementation_code),
    )
    # The same item run by the city and by each district reads as one answer: keep the
    # best-placed (the higher level on a tie) and let the guide page lead to the others.
    seen: set[str] = set()
    unique = []
    for hit in ordered:
        assert hit.item.current is not None
        if hit.item.current.name not in seen:
            seen.add(hit.item.current.name)
            unique.append(hit)
    ordered = unique
    # Departments are ranked by the answers the citizen will see, not by the long tail.
    departments: dict[int, DepartmentHit] = {}
    for hit in ordered[:DEPARTMENT_BASIS]:
        department = hit.item.department
        bucket = departments.setdefault(
            department.pk, DepartmentHit(department=department, score=0)
        )
        bucket.score += hit.score
        bucket.items.append(hit.item)
    department_list = sorted(departments.values(), key=lambda entry: -entry.score)[:5]
    return RouteResult(
        query=text,
        items=ordered[:limit],
        departments=department_list,
        life_events=events,
        understood=understood,
        total=max(total, len(ordered)),
    )


def public_file_get(*, file_id: Any) -> StoredFile:
    """A file attached to a published guide; anything else is not found."""
    published = ItemVersion.objects.exclude(state__in=OPEN_STATES)
    attached = (
        Q(pk__in=Material.objects.filter(version__in=published).values("template_file_id"))
        | Q(pk__in=Material.objects.filter(version__in=published).values("sample_file_id"))
        | Q(pk__in=published.values("result_sample_id"))
    )
    stored = StoredFile.objects.filter(attached, pk=file_id).first()
    if stored is None:
        raise Http404(_("未找到该文件"))
    return stored
