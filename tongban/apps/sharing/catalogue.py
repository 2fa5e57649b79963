"""The government information resource catalogue (政务信息资源目录): writes.

A provider department's officers (``CATALOGUE_EDIT``, department scope) create an entry
with its first draft version, edit it and submit it; the catalogue administrators
(``CATALOGUE_REVIEW``, city scope) publish or reject it. A published version is never
edited: a change is a new draft copied from the current version, and publishing it
supersedes the old one. At most one version is in preparation at a time (the database
says so too). Withdrawing an entry takes it out of the catalogue.

The flow of one version::

    DRAFT ──submit──▶ SUBMITTED ──publish──▶ PUBLISHED ──(next publish)──▶ SUPERSEDED
      ▲                   │
      └─(edit)─ REJECTED ◀┘ reject (reasons)          resource_withdraw ──▶ WITHDRAWN

Every service checks its permission before its transaction, validates everything (Chinese
messages keyed by field), writes, audits with the acting user and publishes its event.
Published versions are indexed in the platform search (namespace ``sharing.resource``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from tongban.apps.sharing import permissions
from tongban.apps.sharing.models import (
    OPEN_VERSION_STATUSES,
    RESOURCE_CODE_PATTERN,
    RESOURCE_SCOPE,
    DataType,
    InfoItem,
    OpenType,
    Resource,
    ResourceClass,
    ResourceFormat,
    ResourceVersion,
    Sensitivity,
    ShareMethod,
    ShareType,
    UpdateCycle,
    VersionStatus,
)
from tongban.platform.access.services import ScopePaths, can_access, deny, require
from tongban.platform.audit.services import audit_record
from tongban.platform.events.services import event_publish
from tongban.platform.notify.services import notify_send
from tongban.platform.orgs.models import Department
from tongban.platform.search import services as search

SEARCH_NAMESPACE = "sharing.resource"
NOTIFY_CATEGORY = "sharing"
OFFICIAL_LANGUAGE = "zh-hans"
DEPARTMENT_SCOPE = ScopePaths(department="", division="division")

#: the first digit of a resource code (类) per resource class (2017 目录编制指南)
CLASS_DIGIT = {
    ResourceClass.BASE: "1",
    ResourceClass.THEMATIC: "2",
    ResourceClass.DEPARTMENTAL: "3",
}
CLASSIFICATION_PATTERN = re.compile(r"^(\d)-(\d{2})-(\d{3})(?:-(\d{3}))?$")
CODE_PATTERN = re.compile(RESOURCE_CODE_PATTERN)
ITEM_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
MAX_ITEMS = 500
MAX_RELATED = 50
MAX_TEXT = 4000
MAX_SERVICE_CODE = 60

EVENT_SUBMITTED = "sharing.catalogue.submitted"
EVENT_PUBLISHED = "sharing.catalogue.published"
EVENT_REJECTED = "sharing.catalogue.rejected"
EVENT_WITHDRAWN = "sharing.catalogue.withdrawn"


@dataclass(frozen=True)
class ItemInput:
    """One information item as entered."""

    code: str
    name: str
    data_type: str
    sensitivity: str = Sensitivity.INTERNAL
    length: int | None = None
    description: str = ""


@dataclass(frozen=True)
class VersionFields:
    """The metadata of one version as entered (everything but the items)."""

    classification: str
    name: str
    summary: str
    format: str
    share_type: str
    update_cycle: str
    share_conditions: str = ""
    share_method: str = ShareMethod.API
    open_type: str = OpenType.CLOSED
    open_conditions: str = ""
    related_codes: Sequence[str] = field(default_factory=tuple)
    change_note: str = ""


VERSION_FIELD_NAMES = tuple(f.name for f in fields(VersionFields))


def fields_of(version: ResourceVersion) -> VersionFields:
    return VersionFields(
        classification=version.classification,
        name=version.name,
        summary=version.summary,
        format=version.format,
        share_type=version.share_type,
        update_cycle=version.update_cycle,
        share_conditions=version.share_conditions,
        share_method=version.share_method,
        open_type=version.open_type,
        open_conditions=version.open_conditions,
        related_codes=tuple(version.related_codes or ()),
        change_note=version.change_note,
    )


def items_of(version: ResourceVersion) -> list[ItemInput]:
    return [
        ItemInput(
            code=item.code,
            name=item.name,
            data_type=item.data_type,
            sensitivity=item.sensitivity,
            length=item.length,
            description=item.description,
        )
        for item in version.items.all()
    ]


# --- validation ---------------------------------------------------------------------------


def _strip(value: Any) -> str:
    return str(value or "").strip()


def _normalised(values: VersionFields) -> VersionFields:
    related = []
    for code in values.related_codes or ():
        code = _strip(code)
        if code and code not in related:
            related.append(code)
    return replace(
        values,
        classification=_strip(values.classification),
        name=_strip(values.name),
        summary=_strip(values.summary),
        format=_strip(values.format),
        share_type=_strip(values.share_type),
        update_cycle=_strip(values.update_cycle),
        share_conditions=_strip(values.share_conditions),
        share_method=_strip(values.share_method),
        open_type=_strip(values.open_type),
        open_conditions=_strip(values.open_conditions),
        related_codes=tuple(related),
        change_note=_strip(values.change_note),
    )


def _normalised_items(items: Iterable[ItemInput]) -> list[ItemInput]:
    return [
        replace(
            item,
            code=_strip(item.code),
            name=_strip(item.name),
            data_type=_strip(item.data_type),
            sensitivity=_strip(item.sensitivity) or Sensitivity.INTERNAL,
            description=_strip(item.description),
        )
        for item in items
    ]


def code_errors(code: str, resource_class: str) -> dict[str, list[str]]:
    """Problems with a new resource code and class (format, class digit, not taken)."""
    errors: dict[str, list[str]] = {}
    if resource_class not in ResourceClass.values:
        errors["resource_class"] = [_("请选择资源分类（基础、主题或部门信息资源）。")]
    if not CODE_PATTERN.match(code):
        errors["code"] = [
            _("资源代码应为10位或13位数字：类1位、项2位、目3位、细目3位（可选）、顺序号4位。")
        ]
    elif resource_class in CLASS_DIGIT and code[0] != CLASS_DIGIT[ResourceClass(resource_class)]:
        errors["code"] = [
            _("%(label)s的资源代码应以%(digit)s开头。")
            % {
                "label": ResourceClass(resource_class).label,
                "digit": CLASS_DIGIT[ResourceClass(resource_class)],
            }
        ]
    elif Resource.objects.filter(code=code).exists():
        errors["code"] = [_("资源代码%(code)s已被使用。") % {"code": code}]
    return errors


def _classification_errors(classification: str, code: str) -> list[str]:
    match = CLASSIFICATION_PATTERN.match(classification)
    if match is None:
        return [_("资源分类号应为“类-项-目”或“类-项-目-细目”，如1-01-001或2-03-002-001。")]
    major, item, category, detail = match.groups()
    expected = major + item + category + (detail or "")
    if len(code) != len(expected) + 4 or not code.startswith(expected):
        return [
            _(
                "资源分类号%(classification)s与资源代码%(code)s不一致：代码应以%(prefix)s开头，后接4位顺序号。"
            )
            % {"classification": classification, "code": code, "prefix": expected}
        ]
    return []


def _choice_error(value: str, choices: Any, message: str) -> list[str]:
    return [] if value in choices.values else [message]


def version_errors(
    values: VersionFields, items: Sequence[ItemInput], *, code: str
) -> dict[str, list[str]]:
    """Every problem with a version's metadata and items, keyed by field."""
    errors: dict[str, list[str]] = {}

    def add(name: str, messages: list[str]) -> None:
        if messages:
            errors.setdefault(name, []).extend(messages)

    add("classification", _classification_errors(values.classification, code))
    if not values.name:
        add("name", [_("请填写资源名称。")])
    elif len(values.name) > 200:
        add("name", [_("资源名称不能超过200个字。")])
    if not values.summary:
        add("summary", [_("请填写资源摘要。")])
    elif len(values.summary) > MAX_TEXT:
        add("summary", [_("资源摘要不能超过%(n)s个字。") % {"n": MAX_TEXT}])
    add("format", _choice_error(values.format, ResourceFormat, _("请选择资源格式。")))
    add("share_type", _choice_error(values.share_type, ShareType, _("请选择共享类型。")))
    add("share_method", _choice_error(values.share_method, ShareMethod, _("请选择共享方式。")))
    add("open_type", _choice_error(values.open_type, OpenType, _("请选择开放类型。")))
    add("update_cycle", _choice_error(values.update_cycle, UpdateCycle, _("请选择更新周期。")))
    if values.share_type == ShareType.CONDITIONAL and not values.share_conditions:
        add("share_conditions", [_("有条件共享的资源须写明共享条件。")])
    if values.share_type == ShareType.NONE and not values.share_conditions:
        add("share_conditions", [_("不予共享的资源须写明法律、行政法规或政策依据。")])
    if len(values.share_conditions) > MAX_TEXT:
        add("share_conditions", [_("共享条件或依据不能超过%(n)s个字。") % {"n": MAX_TEXT}])
    if values.open_type == OpenType.CONDITIONAL and not values.open_conditions:
        add("open_conditions", [_("有条件开放的资源须写明开放条件。")])
    if len(values.open_conditions) > MAX_TEXT:
        add("open_conditions", [_("开放条件不能超过%(n)s个字。") % {"n": MAX_TEXT}])
    if len(values.change_note) > 300:
        add("change_note", [_("变更说明不能超过300个字。")])
    if len(values.related_codes) > MAX_RELATED:
        add("related_codes", [_("关联资源不能超过%(n)s个。") % {"n": MAX_RELATED}])
    for related in values.related_codes:
        if not CODE_PATTERN.match(related):
            add("related_codes", [_("关联资源代码%(code)s格式不正确。") % {"code": related}])
        elif related == code:
            add("related_codes", [_("资源不能关联自身。")])
    add("items", _item_errors(items))
    return errors


def _item_errors(items: Sequence[ItemInput]) -> list[str]:
    if not items:
        return [_("至少填写一个信息项。")]
    if len(items) > MAX_ITEMS:
        return [_("信息项不能超过%(n)s个。") % {"n": MAX_ITEMS}]
    messages: list[str] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        where = {"n": number}
        if not ITEM_CODE_PATTERN.match(item.code):
            messages.append(
                _("第%(n)s个信息项：代码应以小写字母开头，只含小写字母、数字和下划线。") % where
            )
        elif item.code in seen:
            messages.append(_("第%(n)s个信息项：代码%(code)s重复。") % {**where, "code": item.code})
        seen.add(item.code)
        if not item.name:
            messages.append(_("第%(n)s个信息项：请填写名称。") % where)
        elif len(item.name) > 100:
            messages.append(_("第%(n)s个信息项：名称不能超过100个字。") % where)
        if item.data_type not in DataType.values:
            messages.append(_("第%(n)s个信息项：请选择数据类型。") % where)
        if item.sensitivity not in Sensitivity.values:
            messages.append(_("第%(n)s个信息项：请选择敏感级别。") % where)
        if item.length is not None and not 0 < item.length <= 1_000_000:
            messages.append(_("第%(n)s个信息项：数据长度应为1至1000000之间的整数。") % where)
        if len(item.description) > 300:
            messages.append(_("第%(n)s个信息项：说明不能超过300个字。") % where)
    return messages


# --- access -------------------------------------------------------------------------------


def may_edit_department(actor: Any, department: Department) -> bool:
    return can_access(actor, department, permissions.CATALOGUE_EDIT, DEPARTMENT_SCOPE)


def _require_edit(actor: Any, resource: Resource) -> None:
    require(actor, permissions.CATALOGUE_EDIT, target=resource, paths=RESOURCE_SCOPE)


def _require_review(actor: Any, resource: Resource) -> None:
    require(actor, permissions.CATALOGUE_REVIEW, target=resource, paths=RESOURCE_SCOPE)


# --- writes -------------------------------------------------------------------------------


def _write_version(
    version: ResourceVersion, values: VersionFields, items: Sequence[ItemInput]
) -> None:
    for name in VERSION_FIELD_NAMES:
        setattr(
            version,
            name,
            list(values.related_codes) if name == "related_codes" else getattr(values, name),
        )
    version.save()
    version.items.all().delete()
    InfoItem.objects.bulk_create(
        InfoItem(
            version=version,
            order=order,
            code=item.code,
            name=item.name,
            data_type=item.data_type,
            length=item.length,
            sensitivity=item.sensitivity,
            description=item.description,
        )
        for order, item in enumerate(items, start=1)
    )


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def resource_create(
    *,
    actor: Any,
    code: str,
    resource_class: str,
    provider: Department,
    values: VersionFields,
    items: Sequence[ItemInput],
    service_code: str = "",
) -> Resource:
    """A new catalogue entry of ``provider`` with its first version as a draft."""
    if not may_edit_department(actor, provider):
        deny(actor, permissions.CATALOGUE_EDIT, target=provider)
    code = _strip(code)
    resource_class = _strip(resource_class)
    service_code = _strip(service_code)
    values = _normalised(values)
    items = _normalised_items(items)
    errors = code_errors(code, resource_class)
    if len(service_code) > MAX_SERVICE_CODE:
        errors["service_code"] = [_("服务标识不能超过60个字符。")]
    for name, messages in version_errors(values, items, code=code).items():
        if name == "classification" and "code" in errors:
            continue  # the code is wrong: the consistency check would only repeat it
        errors.setdefault(name, []).extend(messages)
    _raise(errors)
    with transaction.atomic():
        resource = Resource.objects.create(
            code=code,
            resource_class=resource_class,
            provider=provider,
            service_code=service_code,
        )
        version = ResourceVersion(resource=resource, number=1, created_by=actor)
        _write_version(version, values, items)
        audit_record(
            action="sharing.resource_create",
            actor=actor,
            target=resource,
            detail={"code": code, "provider": provider.code, "version": 1},
        )
    return resource


def version_draft(*, actor: Any, resource: Resource) -> ResourceVersion:
    """A new draft copying the current published version (to change the entry)."""
    _require_edit(actor, resource)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.is_withdrawn:
            raise ValidationError(_("该资源已撤销，不能再编制新版本。"))
        if resource.current is None:
            raise ValidationError(_("该资源尚未发布，请直接修改现有草稿。"))
        if resource.versions.filter(status__in=OPEN_VERSION_STATUSES).exists():
            raise ValidationError(_("该资源已有一个正在编制或审核中的版本。"))
        current = resource.current
        number = (
            resource.versions.order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        version = ResourceVersion(resource=resource, number=number, created_by=actor)
        _write_version(version, replace(fields_of(current), change_note=""), items_of(current))
        audit_record(
            action="sharing.version_draft",
            actor=actor,
            target=version,
            detail={"code": resource.code, "version": number, "from": current.number},
        )
    return version


def _locked_version(version: ResourceVersion) -> ResourceVersion:
    return ResourceVersion.objects.select_for_update().select_related("resource").get(pk=version.pk)


def version_update(
    *,
    actor: Any,
    version: ResourceVersion,
    values: VersionFields,
    items: Sequence[ItemInput],
) -> ResourceVersion:
    """Change a draft's (or a rejected version's) metadata and items."""
    _require_edit(actor, version.resource)
    values = _normalised(values)
    items = _normalised_items(items)
    _raise(version_errors(values, items, code=version.resource.code))
    with transaction.atomic():
        version = _locked_version(version)
        if version.status not in (VersionStatus.DRAFT, VersionStatus.REJECTED):
            raise ValidationError(_("只有草稿或退回修改的版本可以修改。"))
        _write_version(version, values, items)
        audit_record(
            action="sharing.version_update",
            actor=actor,
            target=version,
            detail={"code": version.resource.code, "version": version.number},
        )
    return version


def _unknown_related(codes: Sequence[str]) -> dict[str, list[str]]:
    """Related resources must be in the catalogue (in any state) when a version goes to
    review: a typo would otherwise be published as a link to nothing."""
    known = set(Resource.objects.filter(code__in=list(codes)).values_list("code", flat=True))
    missing = [code for code in codes if code not in known]
    if not missing:
        return {}
    return {"related_codes": [_("关联资源%(codes)s不在目录中。") % {"codes": "、".join(missing)}]}


def version_submit(*, actor: Any, version: ResourceVersion) -> ResourceVersion:
    """Send a draft (or a corrected rejected version) to the catalogue administrators."""
    _require_edit(actor, version.resource)
    with transaction.atomic():
        version = _locked_version(version)
        if version.status not in (VersionStatus.DRAFT, VersionStatus.REJECTED):
            raise ValidationError(_("只有草稿或退回修改的版本可以提交审核。"))
        if version.resource.is_withdrawn:
            raise ValidationError(_("该资源已撤销。"))
        _raise(version_errors(fields_of(version), items_of(version), code=version.resource.code))
        _raise(_unknown_related(version.related_codes or ()))
        version.status = VersionStatus.SUBMITTED
        version.submitted_at = timezone.now()
        version.save(update_fields=["status", "submitted_at"])
        audit_record(
            action="sharing.version_submit",
            actor=actor,
            target=version,
            detail={"code": version.resource.code, "version": version.number},
        )
        event_publish(EVENT_SUBMITTED, _payload(version), actor=actor)
    return version


def _payload(version: ResourceVersion) -> dict[str, Any]:
    resource = version.resource
    return {
        "resource_code": resource.code,
        "resource_name": version.name,
        "version": version.number,
        "provider_department_code": resource.provider.code,
    }


def _notify_author(version: ResourceVersion, subject: str, body: str, actor: Any) -> None:
    notify_send(
        recipients=[version.created_by],
        template_code="platform.generic",
        context={"subject": subject, "body": body},
        category=NOTIFY_CATEGORY,
        link=reverse("sharing:catalogue_version", args=[version.resource.code, version.number]),
        actor=actor,
    )


def version_publish(*, actor: Any, version: ResourceVersion) -> ResourceVersion:
    """Publish a submitted version: it becomes current, the previous one is superseded."""
    _require_review(actor, version.resource)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=version.resource_id)
        version = _locked_version(version)
        if version.status != VersionStatus.SUBMITTED:
            raise ValidationError(_("只有待审核的版本可以发布。"))
        if resource.is_withdrawn:
            raise ValidationError(_("该资源已撤销。"))
        now = timezone.now()
        previous = resource.current
        if previous is not None:
            ResourceVersion.objects.filter(pk=previous.pk).update(status=VersionStatus.SUPERSEDED)
        version.status = VersionStatus.PUBLISHED
        version.published_on = timezone.localdate(now)
        version.reviewed_by = actor
        version.reviewed_at = now
        version.save(update_fields=["status", "published_on", "reviewed_by", "reviewed_at"])
        resource.current = version
        resource.save(update_fields=["current", "updated_at"])
        version.resource = resource
        audit_record(
            action="sharing.version_publish",
            actor=actor,
            target=version,
            detail={
                "code": resource.code,
                "version": version.number,
                "superseded": previous.number if previous else None,
            },
        )
        event_publish(EVENT_PUBLISHED, _payload(version), actor=actor)
        with translation.override(OFFICIAL_LANGUAGE):
            _notify_author(
                version,
                _("资源目录已发布：%(name)s") % {"name": version.name},
                _("您编制的信息资源“%(name)s”（%(code)s）第%(number)s版已审核发布。")
                % {"name": version.name, "code": resource.code, "number": version.number},
                actor,
            )
        resource_index(resource=resource)
    return version


def version_reject(*, actor: Any, version: ResourceVersion, reasons: str) -> ResourceVersion:
    """Send a submitted version back to its provider with the reasons."""
    _require_review(actor, version.resource)
    reasons = _strip(reasons)
    if not reasons:
        raise ValidationError({"reasons": [_("退回修改须写明理由。")]})
    if len(reasons) > MAX_TEXT:
        raise ValidationError({"reasons": [_("理由不能超过%(n)s个字。") % {"n": MAX_TEXT}]})
    with transaction.atomic():
        version = _locked_version(version)
        if version.status != VersionStatus.SUBMITTED:
            raise ValidationError(_("只有待审核的版本可以退回。"))
        version.status = VersionStatus.REJECTED
        version.reviewed_by = actor
        version.reviewed_at = timezone.now()
        version.review_comment = reasons
        version.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_comment"])
        audit_record(
            action="sharing.version_reject",
            actor=actor,
            target=version,
            detail={"code": version.resource.code, "version": version.number},
        )
        event_publish(EVENT_REJECTED, _payload(version), actor=actor)
        with translation.override(OFFICIAL_LANGUAGE):
            _notify_author(
                version,
                _("资源目录被退回修改：%(name)s") % {"name": version.name},
                _("信息资源“%(name)s”（%(code)s）第%(number)s版被退回修改，理由：%(reasons)s")
                % {
                    "name": version.name,
                    "code": version.resource.code,
                    "number": version.number,
                    "reasons": reasons,
                },
                actor,
            )
    return version


def resource_withdraw(*, actor: Any, resource: Resource, reason: str) -> Resource:
    """Take an entry out of the catalogue (撤销): its versions are withdrawn, it leaves the
    search index and can no longer be requested. Catalogue administrators only."""
    _require_review(actor, resource)
    reason = _strip(reason)
    if not reason:
        raise ValidationError({"reason": [_("撤销资源须写明原因。")]})
    if len(reason) > MAX_TEXT:
        raise ValidationError({"reason": [_("原因不能超过%(n)s个字。") % {"n": MAX_TEXT}]})
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if resource.is_withdrawn:
            raise ValidationError(_("该资源已撤销。"))
        resource.versions.filter(
            status__in=(*OPEN_VERSION_STATUSES, VersionStatus.PUBLISHED)
        ).update(status=VersionStatus.WITHDRAWN)
        resource.is_withdrawn = True
        resource.save(update_fields=["is_withdrawn", "updated_at"])
        audit_record(
            action="sharing.resource_withdraw",
            actor=actor,
            target=resource,
            detail={"code": resource.code, "reason": reason},
        )
        payload = {
            "resource_code": resource.code,
            "version": resource.current.number if resource.current else None,
            "provider_department_code": resource.provider.code,
            "reason": reason,
        }
        event_publish(EVENT_WITHDRAWN, payload, actor=actor)
        resource_index(resource=resource)
    return resource


# --- search index ---------------------------------------------------------------------------


def _document(resource: Resource, version: ResourceVersion) -> search.DocumentInput:
    items = " ".join(f"{item.name} {item.code}" for item in version.items.all())
    keywords = " ".join(
        part
        for part in (
            resource.provider.name,
            resource.code,
            str(ResourceClass(resource.resource_class).label),
            items,
        )
        if part
    )
    return search.DocumentInput(
        key=resource.code,
        title=version.name,
        title_text=version.name,
        keywords_text=keywords,
        body_text=version.summary,
        filters={
            "resource_class": resource.resource_class,
            "provider": resource.provider.code,
        },
    )


def resource_index(*, resource: Resource) -> None:
    """Put the entry's published version in the search index (or take it out)."""
    resource = Resource.objects.select_related("provider", "current").get(pk=resource.pk)
    version = resource.current
    if resource.is_withdrawn or version is None or version.status != VersionStatus.PUBLISHED:
        search.search_document_delete(namespace=SEARCH_NAMESPACE, key=resource.code)
        return
    with translation.override(OFFICIAL_LANGUAGE):
        document = _document(resource, version)
    search.search_documents_bulk_upsert(namespace=SEARCH_NAMESPACE, documents=[document])


def catalogue_reindex() -> int:
    """Rebuild the catalogue's part of the search index from the published entries."""
    resources = (
        Resource.objects.filter(is_withdrawn=False, current__status=VersionStatus.PUBLISHED)
        .select_related("provider", "current")
        .prefetch_related("current__items")
        .order_by("code")
    )
    with translation.override(OFFICIAL_LANGUAGE):
        documents = [
            _document(resource, resource.current)
            for resource in resources
            if resource.current is not None
        ]
    search.search_documents_bulk_replace(namespace=SEARCH_NAMESPACE, documents=documents)
    return len(documents)
