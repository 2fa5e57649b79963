"""What other applications may ask the catalogue (plain dataclasses, never models).

Approvals opens a case against an item *version* and keeps its id: the guide, the
materials, the limits and the form of that version never change once published.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import Http404

from tongban.apps.catalog import selectors
from tongban.apps.catalog.models import ItemVersion


@dataclass(frozen=True)
class MaterialInfo:
    name: str
    is_required: bool
    condition: str
    source: str
    originals: int
    copies: int
    #: the sharing resource that supplies a shared/e-licence material ("" if none)
    shared_resource_code: str = ""


@dataclass(frozen=True)
class ItemVersionInfo:
    item_id: int
    version_id: int
    version: int
    implementation_code: str
    name: str
    item_type: str
    result_name: str
    department_id: int
    department_code: str
    case_type: str
    legal_limit_days: int
    promised_limit_days: int
    is_free: bool
    fee_amount: Decimal
    visits: int
    online_depth: int
    special_procedures: tuple[str, ...]
    for_natural_persons: bool
    for_legal_persons: bool
    steps: tuple[tuple[str, int], ...]
    materials: tuple[MaterialInfo, ...]
    form_schema: dict[str, Any] | None
    form_ui: dict[str, Any] | None
    is_current: bool


@dataclass(frozen=True)
class BundleInfo:
    code: str
    name: str
    joint_limit_days: int
    lead_department_code: str
    item_ids: tuple[int, ...]


def _info(version: ItemVersion) -> ItemVersionInfo:
    item = version.item
    return ItemVersionInfo(
        item_id=item.pk,
        version_id=version.pk,
        version=version.number,
        implementation_code=item.implementation_code,
        name=version.name,
        item_type=version.item_type,
        result_name=version.result_name,
        department_id=item.department_id,
        department_code=item.department.code,
        case_type=version.case_type,
        legal_limit_days=version.legal_limit_days,
        promised_limit_days=version.promised_limit_days,
        is_free=version.is_free,
        fee_amount=version.fee_amount,
        visits=version.visits,
        online_depth=version.online_depth,
        special_procedures=tuple(version.special_procedures),
        for_natural_persons=version.for_natural_persons,
        for_legal_persons=version.for_legal_persons,
        steps=tuple((step.name, step.days) for step in version.steps.all()),
        materials=tuple(
            MaterialInfo(
                name=material.name,
                is_required=material.is_required,
                condition=material.condition,
                source=material.source,
                originals=material.originals,
                copies=material.copies,
                shared_resource_code=material.shared_resource_code,
            )
            for material in version.materials.all()
        ),
        form_schema=version.form_schema,
        form_ui=version.form_ui,
        is_current=item.current_id == version.pk and item.is_active,
    )


def item_current(item_id: int) -> ItemVersionInfo | None:
    """The version a new case on this item is opened against; None if not offered."""
    try:
        return _info(selectors.item_public_get(item_id=item_id))
    except Http404:
        return None


def item_version(version_id: int) -> ItemVersionInfo | None:
    """A published (possibly superseded) version, as a case opened on it saw it."""
    try:
        return _info(selectors.version_get(version_id=version_id))
    except Http404:
        return None


def bundle(code: str) -> BundleInfo | None:
    try:
        found = selectors.bundle_get(code=code)
    except Http404:
        return None
    return BundleInfo(
        code=found.code,
        name=found.name,
        joint_limit_days=found.joint_limit_days,
        lead_department_code=found.lead_department.code,
        item_ids=tuple(item.pk for item in found.items.all() if item.is_active),
    )


# --------------------------------------------------------------- online application forms
# Other apps render and check an item version's form through these (the schema and UI
# hints come from ``ItemVersionInfo.form_schema`` / ``form_ui``).


def form_errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, list[str]]:
    """Problems with submitted form data, by field path, in the active language."""
    from tongban.apps.catalog.onlineforms import form_validate

    return {path: list(messages) for path, messages in form_validate(schema, data).items()}


def form_html(
    schema: dict[str, Any],
    ui: dict[str, Any] | None,
    data: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> str:
    """The form's fields as accessible HTML (safe string; no ``<form>`` tag, no buttons)."""
    from tongban.apps.catalog.onlineforms import FormErrors, form_render

    found = None
    if errors:
        found = FormErrors()
        for path, messages in errors.items():
            for message in messages:
                found.add(path, message)
    return form_render(schema, ui, data, found)


def form_data_from_post(
    schema: dict[str, Any], ui: dict[str, Any] | None, post: Any
) -> dict[str, Any]:
    """The posted HTML fields of ``form_html`` as JSON data typed per the schema."""
    from tongban.apps.catalog.onlineforms import form_data_from_post as parse

    return parse(schema, ui, post)


# ------------------------------------------------------------------ where to apply online
# The catalogue shows "在线申请" buttons; the application that takes applications (the
# approvals app) says where they lead. Without one, the catalogue only checks the form.

_application_urls: dict[str, Callable[[Any], str]] = {}


def application_urls_register(
    *, item: Callable[[int], str], bundle: Callable[[str], str] | None = None
) -> None:
    _application_urls["item"] = item
    if bundle is not None:
        _application_urls["bundle"] = bundle


def application_url(item_id: int) -> str | None:
    build = _application_urls.get("item")
    return build(item_id) if build else None


def bundle_application_url(code: str) -> str | None:
    build = _application_urls.get("bundle")
    return build(code) if build else None
