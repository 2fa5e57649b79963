"""Catalogue data for tests: valid version fields and items, and a resource taken through
the real services to publication."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tongban.apps.sharing import catalogue
from tongban.apps.sharing.catalogue import ItemInput, VersionFields
from tongban.apps.sharing.models import Resource
from tongban.platform.orgs.models import Department

PERSON_CODE = "1010010001"


def values(**changes: Any) -> VersionFields:
    base = VersionFields(
        classification="1-01-001",
        name="人口基本信息",
        summary="全市户籍人口的基本信息，包括姓名、性别、出生日期和户籍地址。",
        format="database",
        share_type="conditional",
        share_conditions="用于法定职责范围内的政务服务事项办理",
        update_cycle="realtime",
        share_method="api",
        open_type="closed",
    )
    return replace(base, **changes)


def items(*extra: ItemInput) -> list[ItemInput]:
    return [
        ItemInput("id_number", "公民身份号码", "string", "personal", 18),
        ItemInput("name", "姓名", "string", "personal", 50),
        ItemInput("birth_date", "出生日期", "date", "sensitive"),
        *extra,
    ]


def draft(
    actor: Any,
    provider: Department,
    *,
    code: str = PERSON_CODE,
    resource_class: str = "base",
    **changes: Any,
) -> Resource:
    return catalogue.resource_create(
        actor=actor,
        code=code,
        resource_class=resource_class,
        provider=provider,
        values=values(**changes),
        items=items(),
        service_code="basedata.person",
    )


def published(
    editor: Any,
    reviewer: Any,
    provider: Department,
    *,
    code: str = PERSON_CODE,
    resource_class: str = "base",
    **changes: Any,
) -> Resource:
    resource = draft(editor, provider, code=code, resource_class=resource_class, **changes)
    version = resource.versions.get()
    catalogue.version_submit(actor=editor, version=version)
    catalogue.version_publish(actor=reviewer, version=version)
    resource.refresh_from_db()
    return resource
