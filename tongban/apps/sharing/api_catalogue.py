"""The resource catalogue's JSON API (/api/sharing/catalogue/): published entries, read
only, for staff holding ``CATALOGUE_VIEW``. Drafts never appear here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import paginate

from tongban.apps.sharing import catalogue_selectors as selectors
from tongban.apps.sharing import permissions
from tongban.apps.sharing.models import ResourceClass, VersionStatus
from tongban.platform.access.services import require
from tongban.platform.api.endpoints import Pagination

router = Router(tags=["sharing"])


class ResourceSummaryOut(Schema):
    code: str
    name: str = Field(..., description="资源名称")
    resource_class: str = Field(..., description="base / thematic / departmental")
    classification: str = Field(..., description="类-项-目(-细目)")
    provider_code: str
    provider_name: str
    share_type: str = Field(..., description="unconditional / conditional / none")
    share_method: str
    open_type: str
    update_cycle: str
    version: int
    published_on: dt.date | None

    # read from the entry's current version (a queryset pages without loading everything)
    @staticmethod
    def resolve_name(obj: Any) -> str:
        return _value(obj, "name")

    @staticmethod
    def resolve_classification(obj: Any) -> str:
        return _value(obj, "classification")

    @staticmethod
    def resolve_provider_code(obj: Any) -> str:
        return obj["provider_code"] if isinstance(obj, dict) else obj.provider.code

    @staticmethod
    def resolve_provider_name(obj: Any) -> str:
        return obj["provider_name"] if isinstance(obj, dict) else obj.provider.name

    @staticmethod
    def resolve_share_type(obj: Any) -> str:
        return _value(obj, "share_type")

    @staticmethod
    def resolve_share_method(obj: Any) -> str:
        return _value(obj, "share_method")

    @staticmethod
    def resolve_open_type(obj: Any) -> str:
        return _value(obj, "open_type")

    @staticmethod
    def resolve_update_cycle(obj: Any) -> str:
        return _value(obj, "update_cycle")

    @staticmethod
    def resolve_version(obj: Any) -> Any:
        return obj["version"] if isinstance(obj, dict) else obj.current.number

    @staticmethod
    def resolve_published_on(obj: Any) -> Any:
        return _value(obj, "published_on")


def _value(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, dict) else getattr(obj.current, name)


class InfoItemOut(Schema):
    code: str
    name: str
    data_type: str
    length: int | None
    sensitivity: str
    description: str


class ResourceOut(ResourceSummaryOut):
    summary: str
    format: str
    share_conditions: str = Field(..., description="共享条件或不予共享依据")
    open_conditions: str
    related_codes: list[str]
    service_code: str
    items: list[InfoItemOut]


def _summary(resource: Any) -> dict[str, Any]:
    version = resource.current
    return {
        "code": resource.code,
        "name": version.name,
        "resource_class": resource.resource_class,
        "classification": version.classification,
        "provider_code": resource.provider.code,
        "provider_name": resource.provider.name,
        "share_type": version.share_type,
        "share_method": version.share_method,
        "open_type": version.open_type,
        "update_cycle": version.update_cycle,
        "version": version.number,
        "published_on": version.published_on,
    }


@router.get(
    "/resources",
    response=list[ResourceSummaryOut],
    summary="Published catalogue entries (sharing.catalogue.view)",
    operation_id="sharing_catalogue_resource_list",
)
@paginate(Pagination)
def resource_list(request: HttpRequest, resource_class: str = "", department: str = "") -> Any:
    actor: Any = request.auth  # type: ignore[attr-defined]
    require(actor, permissions.CATALOGUE_VIEW)
    if resource_class not in ResourceClass.values:
        resource_class = ""
    return selectors.catalogue_list(
        actor, resource_class=resource_class, department=department[:40]
    )


@router.get(
    "/resources/{code}",
    response=ResourceOut,
    summary="One published catalogue entry with its information items",
    operation_id="sharing_catalogue_resource_get",
)
def resource_get(request: HttpRequest, code: str) -> dict[str, Any]:
    actor: Any = request.auth  # type: ignore[attr-defined]
    require(actor, permissions.CATALOGUE_VIEW)
    resource = selectors.published_resources(actor).filter(code=code[:20]).first()
    if resource is None or resource.current is None:
        raise Http404
    version = resource.current
    if version.status != VersionStatus.PUBLISHED:
        raise Http404
    return {
        **_summary(resource),
        "summary": version.summary,
        "format": version.format,
        "share_conditions": version.share_conditions,
        "open_conditions": version.open_conditions,
        "related_codes": list(version.related_codes or []),
        "service_code": resource.service_code,
        "items": [
            {
                "code": item.code,
                "name": item.name,
                "data_type": item.data_type,
                "length": item.length,
                "sensitivity": item.sensitivity,
                "description": item.description,
            }
            for item in selectors.items_for(version)
        ],
    }
