"""The catalogue's JSON API: public reads (items, powers, themes, search, routing) and
authenticated writes for editors and reviewers. Each endpoint parses, calls one
selector or service, and shapes the output."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from tongban.apps.catalog import permissions, selectors, services
from tongban.apps.catalog.models import ItemVersion, PowerItem, ServiceItem
from tongban.platform.api.auth import requires
from tongban.platform.api.endpoints import Pagination
from tongban.platform.orgs.models import Department

router = Router(tags=["catalog"])


# ---------------------------------------------------------------- schemas


class ItemSummaryOut(Schema):
    id: int
    implementation_code: str
    basic_code: str
    level: str
    name: str = Field(..., alias="current.name")
    item_type: str = Field(..., alias="current.item_type")
    department_code: str = Field(..., alias="department.code")
    department_name: str = Field(..., alias="department.name")
    case_type: str = Field(..., alias="current.case_type")
    promised_limit_days: int = Field(..., alias="current.promised_limit_days")
    visits: int = Field(..., alias="current.visits")
    online_depth: int = Field(..., alias="current.online_depth")
    version_id: int = Field(..., alias="current.id")
    has_form: bool = Field(..., alias="current.has_form")


class MaterialOut(Schema):
    order: int
    name: str
    originals: int
    copies: int
    media: str
    is_required: bool
    condition: str
    source: str
    shared_resource_code: str = ""
    acceptance_standard: str
    template_file_id: str | None = None
    sample_file_id: str | None = None

    @staticmethod
    def resolve_template_file_id(obj: Any) -> str | None:
        return str(obj.template_file_id) if obj.template_file_id else None

    @staticmethod
    def resolve_sample_file_id(obj: Any) -> str | None:
        return str(obj.sample_file_id) if obj.sample_file_id else None


class StepOut(Schema):
    order: int
    name: str
    description: str
    days: int


class BasisOut(Schema):
    title: str = Field(..., alias="basis.title")
    kind: str = Field(..., alias="basis.kind")
    article: str
    is_setting: bool


class VersionOut(Schema):
    id: int
    item_id: int
    implementation_code: str = Field(..., alias="item.implementation_code")
    basic_code: str = Field(..., alias="item.basic_code")
    level: str = Field(..., alias="item.level")
    department_code: str = Field(..., alias="item.department.code")
    department_name: str = Field(..., alias="item.department.name")
    number: int
    state: str
    published_at: dt.datetime | None
    name: str
    item_type: str
    competent_department: str
    exercise_level: str
    power_code: str | None = None
    handling_suffix: str
    scope: str
    for_natural_persons: bool
    for_legal_persons: bool
    conditions: str
    acceptance_method: str
    legal_limit_days: int
    promised_limit_days: int
    case_type: str
    is_free: bool
    fee_amount: Decimal
    fee_basis: str
    visits: int
    online_depth: int
    special_procedures: list[str]
    result_name: str
    delivery_methods: list[str]
    remedy: str
    consult_phone: str
    complaint_phone: str
    address: str
    office_hours: str
    keywords: str
    themes: list[str]
    life_events: list[str]
    windows: list[str]
    bases: list[BasisOut]
    materials: list[MaterialOut]
    steps: list[StepOut]
    form_schema: dict[str, Any] | None
    form_ui: dict[str, Any] | None

    @staticmethod
    def resolve_power_code(obj: ItemVersion) -> str | None:
        return obj.power.code if obj.power_id and obj.power else None

    @staticmethod
    def resolve_themes(obj: ItemVersion) -> list[str]:
        return [theme.code for theme in obj.themes.all()]

    @staticmethod
    def resolve_life_events(obj: ItemVersion) -> list[str]:
        return [event.code for event in obj.life_events.all()]

    @staticmethod
    def resolve_windows(obj: ItemVersion) -> list[str]:
        return [services.window_reference(window) for window in obj.windows.all()]

    @staticmethod
    def resolve_bases(obj: ItemVersion) -> list[Any]:
        return list(obj.bases.all())

    @staticmethod
    def resolve_materials(obj: ItemVersion) -> list[Any]:
        return list(obj.materials.all())

    @staticmethod
    def resolve_steps(obj: ItemVersion) -> list[Any]:
        return list(obj.steps.all())


class VocabularyOut(Schema):
    code: str
    name: str
    audience: str


class BundleOut(Schema):
    code: str
    name: str
    audience: str
    description: str
    joint_limit_days: int
    lead_department_code: str = Field(..., alias="lead_department.code")
    item_ids: list[int]

    @staticmethod
    def resolve_item_ids(obj: Any) -> list[int]:
        return [item.pk for item in obj.items.all()]


class DutyOut(Schema):
    stage: str
    duty: str


class PowerBasisOut(Schema):
    title: str = Field(..., alias="basis.title")
    article: str


class PowerOut(Schema):
    code: str
    name: str
    power_type: str
    holder_code: str = Field(..., alias="holder.code")
    holder_name: str = Field(..., alias="holder.name")
    exercise_level: str
    accountability: str
    status: str
    bases: list[PowerBasisOut]
    duties: list[DutyOut]

    @staticmethod
    def resolve_bases(obj: PowerItem) -> list[Any]:
        return list(obj.bases.all())

    @staticmethod
    def resolve_duties(obj: PowerItem) -> list[Any]:
        return list(obj.duties.all())


class NegativeEntryOut(Schema):
    code: str
    kind: str
    sector: str
    measure: str
    basis: str
    department_code: str | None = Field(None, alias="department.code")


class HitOut(Schema):
    item_id: int
    name: str
    department_code: str
    department_name: str
    score: float
    reasons: list[str]


class SearchOut(Schema):
    query: str
    total: int
    understood: list[str]
    hits: list[HitOut]


class RouteDepartmentOut(Schema):
    code: str
    name: str
    score: float
    item_ids: list[int]


class RouteOut(Schema):
    query: str
    understood: list[str]
    life_events: list[str]
    departments: list[RouteDepartmentOut]
    hits: list[HitOut]


def _hit(hit: selectors.ItemHit) -> dict[str, Any]:
    item = hit.item
    assert item.current is not None
    return {
        "item_id": item.pk,
        "name": item.current.name,
        "department_code": item.department.code,
        "department_name": item.department.name,
        "score": round(hit.score, 4),
        "reasons": hit.reasons,
    }


# ---------------------------------------------------------------- public reads


class ItemFilters(Schema):
    department: str = ""
    theme: str = ""
    life_event: str = ""
    item_type: str = ""
    audience: str = ""


@router.get("/items", response=list[ItemSummaryOut], auth=None, operation_id="catalog_item_list")
@paginate(Pagination)
def item_list(request: HttpRequest, filters: Query[ItemFilters]) -> Any:
    """Published items, filtered by department, theme, life event, type or audience."""
    return selectors.items_browse(
        department_code=filters.department[:32],
        theme_code=filters.theme[:40],
        life_event_code=filters.life_event[:40],
        item_type=filters.item_type[:32],
        audience=filters.audience[:16],
    )


@router.get("/items/{item_id}", response=VersionOut, auth=None, operation_id="catalog_item_get")
def item_get(request: HttpRequest, item_id: int) -> Any:
    """The current guide of an item (its published version)."""
    return selectors.item_public_get(item_id=item_id)


@router.get(
    "/versions/{version_id}", response=VersionOut, auth=None, operation_id="catalog_version_get"
)
def version_get(request: HttpRequest, version_id: int) -> Any:
    """A published or past version, e.g. the one a case was opened against."""
    return selectors.version_get(version_id=version_id)


@router.get("/search", response=SearchOut, auth=None, operation_id="catalog_search")
def search(request: HttpRequest, q: str, limit: int = 20, offset: int = 0) -> Any:
    """Chinese search over names, keywords, conditions, materials and departments (words,
    pinyin, initials, synonyms); each hit says why it matched."""
    limit = max(1, min(limit, 100))
    offset = max(0, min(offset, 1000))
    hits, total, understood = selectors.catalog_search(text=q[:100], limit=limit, offset=offset)
    return {
        "query": q[:100],
        "total": total,
        "understood": understood,
        "hits": [_hit(hit) for hit in hits],
    }


@router.get("/route", response=RouteOut, auth=None, operation_id="catalog_route")
def route(request: HttpRequest, q: str, limit: int = 10) -> Any:
    """“I want to…”: a plain sentence → ranked items and the departments that handle them."""
    result = selectors.route_need(text=q[:100], limit=max(1, min(limit, 50)))
    return {
        "query": result.query,
        "understood": result.understood,
        "life_events": [event.code for event, _word in result.life_events],
        "departments": [
            {
                "code": entry.department.code,
                "name": entry.department.name,
                "score": round(entry.score, 4),
                "item_ids": [item.pk for item in entry.items],
            }
            for entry in result.departments
        ],
        "hits": [_hit(hit) for hit in result.items],
    }


@router.get("/themes", response=list[VocabularyOut], auth=None, operation_id="catalog_theme_list")
def theme_list(request: HttpRequest) -> Any:
    return [theme for theme, _count in selectors.themes_with_counts()]


@router.get(
    "/life-events", response=list[VocabularyOut], auth=None, operation_id="catalog_life_event_list"
)
def life_event_list(request: HttpRequest) -> Any:
    return selectors.life_events_all()


@router.get("/bundles", response=list[BundleOut], auth=None, operation_id="catalog_bundle_list")
def bundle_list(request: HttpRequest) -> Any:
    return selectors.bundles_active().prefetch_related("items")


@router.get("/powers", response=list[PowerOut], auth=None, operation_id="catalog_power_list")
@paginate(Pagination)
def power_list(request: HttpRequest, department: str = "", power_type: str = "") -> Any:
    """The power-and-responsibility list (权责清单), with bases and duties."""
    return selectors.powers_by_department(
        department_code=department[:32], power_type=power_type[:32]
    )


@router.get("/powers/{code}", response=PowerOut, auth=None, operation_id="catalog_power_get")
def power_get(request: HttpRequest, code: str) -> Any:
    return selectors.power_get(code=code[:40])


@router.get(
    "/negative-list",
    response=list[NegativeEntryOut],
    auth=None,
    operation_id="catalog_negative_list",
)
def negative_list(request: HttpRequest) -> Any:
    return selectors.negative_list()


# ---------------------------------------------------------------- writes


class MaterialIn(Schema):
    name: str = Field(..., max_length=200)
    originals: int = Field(1, ge=0, le=99)
    copies: int = Field(0, ge=0, le=99)
    media: str = "both"
    is_required: bool = True
    condition: str = Field("", max_length=300)
    source: str = "applicant"
    shared_resource_code: str = Field("", max_length=20)
    acceptance_standard: str = Field("", max_length=2000)
    template_file_id: str | None = None
    sample_file_id: str | None = None


class StepIn(Schema):
    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=2000)
    days: int = Field(0, ge=0, le=365)


class BasisIn(Schema):
    title: str = Field(..., max_length=200)
    article: str = Field("", max_length=200)
    is_setting: bool = True


class ContentIn(Schema):
    name: str = Field(..., max_length=200)
    item_type: str
    competent_department: str = Field(..., max_length=100)
    conditions: str = Field(..., max_length=10000)
    legal_limit_days: int = Field(..., ge=0, le=365)
    promised_limit_days: int = Field(..., ge=0, le=365)
    case_type: str
    exercise_level: str = "city"
    power_code: str = ""
    handling_suffix: str = "000"
    scope: str = Field("", max_length=5000)
    for_natural_persons: bool = True
    for_legal_persons: bool = False
    acceptance_method: str = Field("", max_length=2000)
    is_free: bool = True
    fee_amount: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    fee_basis: str = Field("", max_length=2000)
    visits: int = Field(1, ge=0, le=5)
    online_depth: int = Field(3, ge=1, le=4)
    special_procedures: list[str] = []
    result_name: str = Field("", max_length=200)
    delivery_methods: list[str] = ["collect"]
    remedy: str = Field("", max_length=2000)
    consult_phone: str = Field("", max_length=50)
    complaint_phone: str = Field("", max_length=50)
    address: str = Field("", max_length=200)
    office_hours: str = Field("", max_length=200)
    keywords: str = Field("", max_length=300)
    change_note: str = Field("", max_length=300)
    form_schema: dict[str, Any] | None = None
    form_ui: dict[str, Any] | None = None
    windows: list[str] = []
    themes: list[str] = []
    life_events: list[str] = []
    bases: list[BasisIn] = []
    materials: list[MaterialIn] = []
    steps: list[StepIn] = []

    def to_content(self) -> services.ItemContent:
        data = self.dict()
        return services.ItemContent(
            **{
                key: value
                for key, value in data.items()
                if key
                not in {
                    "windows",
                    "themes",
                    "life_events",
                    "bases",
                    "materials",
                    "steps",
                    "special_procedures",
                    "delivery_methods",
                }
            },
            special_procedures=tuple(self.special_procedures),
            delivery_methods=tuple(self.delivery_methods),
            window_codes=tuple(self.windows),
            theme_codes=tuple(self.themes),
            life_event_codes=tuple(self.life_events),
            bases=tuple(services.BasisInput(**basis.dict()) for basis in self.bases),
            materials=tuple(services.MaterialInput(**row.dict()) for row in self.materials),
            steps=tuple(services.StepInput(**row.dict()) for row in self.steps),
        )


class ItemCreateIn(Schema):
    department_code: str = Field(..., max_length=32)
    basic_code: str = Field(..., max_length=30)
    level: str = "main"
    parent_id: int | None = None
    content: ContentIn


class ReviewIn(Schema):
    approve: bool
    comment: str = Field("", max_length=2000)


class RetireIn(Schema):
    reason: str = Field(..., max_length=500)


class VersionStateOut(Schema):
    id: int
    item_id: int
    number: int
    state: str
    implementation_code: str = Field(..., alias="item.implementation_code")


def _version_for_write(version_id: int) -> ItemVersion:
    return get_object_or_404(ItemVersion.objects.select_related("item__department"), pk=version_id)


@router.post(
    "/items",
    response={201: VersionStateOut},
    auth=requires(permissions.ITEM_EDIT),
    operation_id="catalog_item_create",
)
def item_create(request: HttpRequest, payload: ItemCreateIn) -> Any:
    """Create an item; its first version is a draft."""
    department = get_object_or_404(Department, code=payload.department_code)
    parent = get_object_or_404(ServiceItem, pk=payload.parent_id) if payload.parent_id else None
    version = services.item_create(
        actor=request.auth,  # type: ignore[attr-defined]
        department=department,
        basic_code=payload.basic_code,
        level=payload.level,
        parent=parent,
        content=payload.content.to_content(),
    )
    return 201, version


@router.post(
    "/items/{item_id}/drafts",
    response=VersionStateOut,
    auth=requires(permissions.ITEM_EDIT),
    operation_id="catalog_version_draft_open",
)
def version_draft_open(request: HttpRequest, item_id: int) -> Any:
    """The open draft of an item, or a new one copied from its published version."""
    item = get_object_or_404(ServiceItem.objects.select_related("department"), pk=item_id)
    return services.version_draft_open(actor=request.auth, item=item)  # type: ignore[attr-defined]


@router.put(
    "/versions/{version_id}",
    response=VersionStateOut,
    auth=requires(permissions.ITEM_EDIT),
    operation_id="catalog_version_update",
)
def version_update(request: HttpRequest, version_id: int, payload: ContentIn) -> Any:
    """Replace a draft's whole guide."""
    return services.version_update(
        actor=request.auth,  # type: ignore[attr-defined]
        version=_version_for_write(version_id),
        content=payload.to_content(),
    )


@router.post(
    "/versions/{version_id}/submit",
    response=VersionStateOut,
    auth=requires(permissions.ITEM_EDIT),
    operation_id="catalog_version_submit",
)
def version_submit(request: HttpRequest, version_id: int) -> Any:
    return services.version_submit(
        actor=request.auth,  # type: ignore[attr-defined]
        version=_version_for_write(version_id),
    )


@router.post(
    "/versions/{version_id}/review",
    response=VersionStateOut,
    auth=requires(permissions.ITEM_REVIEW),
    operation_id="catalog_version_review",
)
def version_review(request: HttpRequest, version_id: int, payload: ReviewIn) -> Any:
    """Publish (approve) or return a version in review; not by its drafter."""
    return services.version_review(
        actor=request.auth,  # type: ignore[attr-defined]
        version=_version_for_write(version_id),
        approve=payload.approve,
        comment=payload.comment,
    )


@router.post(
    "/items/{item_id}/retire",
    response=ItemSummaryOut,
    auth=requires(permissions.ITEM_REVIEW),
    operation_id="catalog_item_retire",
)
def item_retire(request: HttpRequest, item_id: int, payload: RetireIn) -> Any:
    item = get_object_or_404(
        ServiceItem.objects.select_related("department", "current"), pk=item_id
    )
    return services.item_retire(
        actor=request.auth,  # type: ignore[attr-defined]
        item=item,
        reason=payload.reason,
    )


class PowerIn(Schema):
    name: str = Field(..., max_length=200)
    power_type: str
    holder_code: str = Field(..., max_length=32)
    exercise_level: str = "city"
    accountability: str = Field("", max_length=5000)
    note: str = Field("", max_length=2000)
    bases: list[BasisIn]
    duties: list[DutyOut]


@router.put(
    "/powers/{code}",
    response=PowerOut,
    auth=requires(permissions.POWER_MANAGE),
    operation_id="catalog_power_save",
)
def power_save(request: HttpRequest, code: str, payload: PowerIn) -> Any:
    """Create or replace a power item with its legal bases and duties (责任清单)."""
    services.power_save(
        actor=request.auth,  # type: ignore[attr-defined]
        content=services.PowerContent(
            code=code,
            name=payload.name,
            power_type=payload.power_type,
            holder_code=payload.holder_code,
            exercise_level=payload.exercise_level,
            accountability=payload.accountability,
            note=payload.note,
            bases=tuple(
                services.BasisInput(title=basis.title, article=basis.article)
                for basis in payload.bases
            ),
            duties=tuple((duty.stage, duty.duty) for duty in payload.duties),
        ),
    )
    return selectors.power_get(code=code)
