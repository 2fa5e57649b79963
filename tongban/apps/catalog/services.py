"""Every write to the catalogue: items and their versions, power lists, vocabularies.

Each service checks permissions before opening its transaction, validates the whole input
(raising ``ValidationError`` with Chinese messages keyed by field), writes, audits and
publishes events inside one transaction. ``actor=None`` is the system (demo loader, import
jobs run on behalf of a checked user).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.apps.catalog import indexing, permissions
from tongban.apps.catalog.events import ITEM_PUBLISHED, ITEM_RETIRED
from tongban.apps.catalog.models import (
    OPEN_STATES,
    SHARED_RESOURCE_CODE,
    SHARED_SOURCES,
    Bundle,
    CaseType,
    DeliveryMethod,
    ItemLevel,
    ItemType,
    ItemVersion,
    LegalBasis,
    LifeEvent,
    Material,
    MaterialMedia,
    MaterialSource,
    NegativeListEntry,
    PowerBasis,
    PowerDuty,
    PowerItem,
    PowerStatus,
    PowerType,
    ProcessStep,
    ServiceItem,
    SpecialProcedure,
    Theme,
    VersionBasis,
    VersionState,
)
from tongban.apps.catalog.onlineforms import form_definition_check
from tongban.platform.access.services import ScopePaths, can_access, deny, has_permission
from tongban.platform.audit.services import audit_record
from tongban.platform.events.services import event_publish
from tongban.platform.orgs.models import Department, Window

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

ITEM_SCOPE = ScopePaths(department="department", division="department__division")
VERSION_SCOPE = ScopePaths(department="item__department", division="item__department__division")
POWER_SCOPE = ScopePaths(department="holder", division="holder__division")

BASIC_CODE = re.compile(r"^[0-9A-Z]{6,30}$")
HANDLING_SUFFIX = re.compile(r"^[0-9]{3}$")
POWER_CODE = re.compile(r"^[0-9A-Za-z\-]{4,40}$")
LIFE_EVENTS_CACHE_KEY = "catalog.life_events.v1"
MAX_MATERIALS = 60
MAX_STEPS = 20


@dataclass(frozen=True)
class MaterialInput:
    name: str
    originals: int = 1
    copies: int = 0
    media: str = MaterialMedia.BOTH
    is_required: bool = True
    condition: str = ""
    source: str = MaterialSource.APPLICANT
    acceptance_standard: str = ""
    template_file_id: str | None = None
    sample_file_id: str | None = None
    #: the sharing resource that supplies a shared/e-licence material (optional)
    shared_resource_code: str = ""


@dataclass(frozen=True)
class StepInput:
    name: str
    description: str = ""
    days: int = 0


@dataclass(frozen=True)
class BasisInput:
    title: str
    article: str = ""
    is_setting: bool = True


@dataclass(frozen=True)
class ItemContent:
    """What an editor fills in for one version of an item (the handling guide)."""

    name: str
    item_type: str
    competent_department: str
    conditions: str
    legal_limit_days: int
    promised_limit_days: int
    case_type: str
    exercise_level: str = "city"
    power_code: str = ""
    handling_suffix: str = "000"
    scope: str = ""
    for_natural_persons: bool = True
    for_legal_persons: bool = False
    acceptance_method: str = ""
    is_free: bool = True
    fee_amount: Decimal = Decimal("0")
    fee_basis: str = ""
    visits: int = 1
    online_depth: int = 3
    special_procedures: tuple[str, ...] = ()
    result_name: str = ""
    delivery_methods: tuple[str, ...] = (DeliveryMethod.COLLECT,)
    remedy: str = ""
    consult_phone: str = ""
    complaint_phone: str = ""
    address: str = ""
    office_hours: str = ""
    keywords: str = ""
    change_note: str = ""
    form_schema: dict[str, Any] | None = None
    form_ui: dict[str, Any] | None = None
    window_codes: tuple[str, ...] = ()
    theme_codes: tuple[str, ...] = ()
    life_event_codes: tuple[str, ...] = ()
    bases: tuple[BasisInput, ...] = ()
    materials: tuple[MaterialInput, ...] = ()
    steps: tuple[StepInput, ...] = ()


DEFAULT_REMEDY = (
    "申请人对办理结果不服的，可以自收到决定之日起60日内依法申请行政复议，"
    "或者6个月内依法提起行政诉讼。"
)

# fields copied verbatim from ItemContent onto ItemVersion
_SCALAR_FIELDS = (
    "name",
    "item_type",
    "competent_department",
    "conditions",
    "legal_limit_days",
    "promised_limit_days",
    "case_type",
    "exercise_level",
    "handling_suffix",
    "scope",
    "for_natural_persons",
    "for_legal_persons",
    "acceptance_method",
    "is_free",
    "fee_amount",
    "fee_basis",
    "visits",
    "online_depth",
    "result_name",
    "remedy",
    "consult_phone",
    "complaint_phone",
    "address",
    "office_hours",
    "keywords",
    "change_note",
    "form_schema",
    "form_ui",
)


@dataclass
class _Resolved:
    power: PowerItem | None = None
    windows: list[Window] = field(default_factory=list)
    themes: list[Theme] = field(default_factory=list)
    life_events: list[LifeEvent] = field(default_factory=list)
    bases: list[tuple[LegalBasis, BasisInput]] = field(default_factory=list)


def _choice_values(choices: Any) -> set[str]:
    return {str(value) for value in choices.values}


def content_check(content: ItemContent) -> tuple[dict[str, list[str]], _Resolved]:
    """Validate an item's content as a whole; return field errors and resolved references.

    Used by the editor, the API and the Excel import alike, so all three report the same
    problems in the same words.
    """
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    name = content.name.strip()
    if not name:
        add("name", _("请填写事项名称"))
    elif len(name) > 200:
        add("name", _("事项名称不能超过200个字"))
    if content.item_type not in _choice_values(ItemType):
        add("item_type", _("事项类型不正确"))
    if not content.competent_department.strip():
        add("competent_department", _("请填写主管部门"))
    if not content.conditions.strip():
        add("conditions", _("请填写受理条件"))
    if content.case_type not in _choice_values(CaseType):
        add("case_type", _("办件类型应为即办件或承诺件"))
    if not HANDLING_SUFFIX.match(content.handling_suffix or ""):
        add("handling_suffix", _("业务办理项编码应为3位数字"))
    for label, value in (
        ("legal_limit_days", content.legal_limit_days),
        ("promised_limit_days", content.promised_limit_days),
    ):
        if not isinstance(value, int) or value < 0 or value > 365:
            add(label, _("时限应为0到365之间的整数（工作日）"))
    if isinstance(content.legal_limit_days, int) and isinstance(content.promised_limit_days, int):
        if content.promised_limit_days > content.legal_limit_days:
            add("promised_limit_days", _("承诺时限不能长于法定时限"))
        if content.case_type == CaseType.INSTANT and content.promised_limit_days != 0:
            add("promised_limit_days", _("即办件的承诺时限应为0个工作日"))
        if content.case_type == CaseType.PROMISED and content.promised_limit_days == 0:
            add("promised_limit_days", _("承诺件的承诺时限应至少为1个工作日"))
    if not (content.for_natural_persons or content.for_legal_persons):
        add("for_natural_persons", _("至少选择一类申请人（自然人或法人）"))
    if content.is_free:
        if content.fee_amount:
            add("fee_amount", _("不收费的事项收费金额应为0"))
    else:
        if content.fee_amount <= 0:
            add("fee_amount", _("收费事项应填写大于0的收费金额"))
        if not content.fee_basis.strip():
            add("fee_basis", _("收费事项应填写收费依据"))
    if content.fee_amount < 0 or content.fee_amount > Decimal("9999999999"):
        add("fee_amount", _("收费金额超出范围"))
    if not isinstance(content.visits, int) or not 0 <= content.visits <= 5:
        add("visits", _("到现场次数应为0到5之间的整数"))
    if content.online_depth not in (1, 2, 3, 4):
        add("online_depth", _("网办深度应为1到4（一级到四级）"))
    if content.online_depth == 4 and content.visits != 0:
        add("visits", _("全程网办（四级）的事项到现场次数应为0"))
    if content.exercise_level not in {
        "national",
        "provincial",
        "city",
        "county",
        "township",
        "village",
    }:
        add("exercise_level", _("行使层级不正确"))
    unknown = set(content.special_procedures) - _choice_values(SpecialProcedure)
    if unknown:
        add("special_procedures", _("未知的特别程序：%s") % "、".join(sorted(unknown)))
    if not content.delivery_methods:
        add("delivery_methods", _("至少选择一种送达方式"))
    unknown = set(content.delivery_methods) - _choice_values(DeliveryMethod)
    if unknown:
        add("delivery_methods", _("未知的送达方式：%s") % "、".join(sorted(unknown)))
    if len(content.materials) > MAX_MATERIALS:
        add("materials", _("申请材料不能超过%d项") % MAX_MATERIALS)
    seen: set[str] = set()
    for index, material in enumerate(content.materials, start=1):
        where = f"materials.{index}"
        if not material.name.strip():
            add(where, _("第%d项材料缺少名称") % index)
        elif material.name in seen:
            add(where, _("材料“%s”重复") % material.name)
        seen.add(material.name)
        if material.media not in _choice_values(MaterialMedia):
            add(where, _("第%d项材料的形式不正确") % index)
        if material.source not in _choice_values(MaterialSource):
            add(where, _("第%d项材料的来源渠道不正确") % index)
        if material.shared_resource_code:
            if material.source not in SHARED_SOURCES:
                add(
                    where,
                    _("只有来源为共享数据或电子证照的材料可以填写共享资源代码"),
                )
            elif not re.match(SHARED_RESOURCE_CODE, material.shared_resource_code):
                add(where, _("第%d项材料的共享资源代码应为10位或13位数字") % index)
        if not material.is_required and not material.condition.strip():
            add(where, _("非必要材料“%s”应写明在什么情况下提交") % material.name)
        if material.originals < 0 or material.copies < 0 or material.originals > 99:
            add(where, _("第%d项材料的份数不正确") % index)
    if len(content.steps) > MAX_STEPS:
        add("steps", _("办理流程不能超过%d个环节") % MAX_STEPS)
    for index, step in enumerate(content.steps, start=1):
        if not step.name.strip():
            add(f"steps.{index}", _("第%d个环节缺少名称") % index)
        if step.days < 0 or step.days > 365:
            add(f"steps.{index}", _("第%d个环节的时限不正确") % index)
    if content.form_schema is not None:
        for problem in form_definition_check(content.form_schema, content.form_ui):
            add("form_schema", problem)
    elif content.form_ui:
        add("form_ui", _("没有表单定义时不能设置界面提示"))

    resolved = _Resolved()
    if content.power_code:
        resolved.power = PowerItem.objects.filter(
            code=content.power_code, status=PowerStatus.ACTIVE
        ).first()
        if resolved.power is None:
            add("power_code", _("权力事项“%s”不存在或已取消") % content.power_code)
    resolved.windows = _resolve_windows(content.window_codes, add)
    resolved.themes = _resolve_many(Theme, "code", content.theme_codes, "theme_codes", add)
    resolved.life_events = _resolve_many(
        LifeEvent, "code", content.life_event_codes, "life_event_codes", add
    )
    titles = {basis.title for basis in content.bases}
    known = {basis.title: basis for basis in LegalBasis.objects.filter(title__in=titles)}
    for basis_input in content.bases:
        found = known.get(basis_input.title)
        if found is None:
            add("bases", _("法律法规“%s”未登记，请先在法律法规库中添加") % basis_input.title)
        else:
            resolved.bases.append((found, basis_input))
    return errors, resolved


def _resolve_many(model: Any, key: str, codes: Sequence[str], name: str, add: Any) -> list[Any]:
    if not codes:
        return []
    found = {getattr(row, key): row for row in model.objects.filter(**{f"{key}__in": codes})}
    missing = [code for code in codes if code not in found]
    if missing:
        add(name, _("以下编码不存在：%s") % "、".join(missing))
    return [found[code] for code in codes if code in found]


def window_reference(window: Window) -> str:
    """How guides and spreadsheets name a window: “服务中心名称/窗口号”."""
    return f"{window.centre.name}/{window.number}"


def _resolve_windows(references: Sequence[str], add: Any) -> list[Window]:
    """Windows named “中心/窗口号”, or just “窗口号” where only one centre has it."""
    if not references:
        return []
    numbers = {reference.rsplit("/", 1)[-1] for reference in references}
    candidates = list(Window.objects.filter(number__in=numbers).select_related("centre"))
    found: list[Window] = []
    for reference in references:
        if "/" in reference:
            centre_name, number = reference.rsplit("/", 1)
            matches = [w for w in candidates if w.number == number and w.centre.name == centre_name]
        else:
            matches = [w for w in candidates if w.number == reference]
        if not matches:
            add("window_codes", _("受理窗口“%s”不存在") % reference)
        elif len(matches) > 1:
            add(
                "window_codes",
                _("窗口号“%s”在多个服务中心都有，请写成“服务中心名称/窗口号”") % reference,
            )
        else:
            found.append(matches[0])
    return found


def implementation_code_build(*, basic_code: str, department: Department, suffix: str) -> str:
    """基本编码 + 12-digit division code + implementing body's USCC + handling-item suffix."""
    return f"{basic_code}{department.division.code}{department.uscc}{suffix}"


def _require_item_edit(actor: User | None, department: Department) -> None:
    if actor is None:
        return
    if not can_access(actor, department, permissions.ITEM_EDIT, _DEPARTMENT_SELF):
        deny(actor, permissions.ITEM_EDIT, target=department)


_DEPARTMENT_SELF = ScopePaths(department="", division="division")


def _apply_content(version: ItemVersion, content: ItemContent, resolved: _Resolved) -> None:
    for name in _SCALAR_FIELDS:
        setattr(version, name, getattr(content, name))
    version.name = content.name.strip()
    version.remedy = content.remedy.strip() or DEFAULT_REMEDY
    version.special_procedures = list(content.special_procedures)
    version.delivery_methods = list(content.delivery_methods)
    version.power = resolved.power
    version.save()
    version.windows.set(resolved.windows)
    version.themes.set(resolved.themes)
    version.life_events.set(resolved.life_events)
    version.bases.all().delete()
    VersionBasis.objects.bulk_create(
        VersionBasis(
            version=version, basis=basis, article=given.article, is_setting=given.is_setting
        )
        for basis, given in resolved.bases
    )
    version.materials.all().delete()
    Material.objects.bulk_create(
        Material(
            version=version,
            order=index,
            name=material.name.strip(),
            originals=material.originals,
            copies=material.copies,
            media=material.media,
            is_required=material.is_required,
            condition=material.condition,
            source=material.source,
            shared_resource_code=material.shared_resource_code,
            acceptance_standard=material.acceptance_standard,
            template_file_id=material.template_file_id,
            sample_file_id=material.sample_file_id,
        )
        for index, material in enumerate(content.materials, start=1)
    )
    version.steps.all().delete()
    ProcessStep.objects.bulk_create(
        ProcessStep(
            version=version,
            order=index,
            name=step.name,
            description=step.description,
            days=step.days,
        )
        for index, step in enumerate(content.steps, start=1)
    )


def item_create(
    *,
    actor: User | None,
    department: Department,
    basic_code: str,
    level: str,
    content: ItemContent,
    parent: ServiceItem | None = None,
) -> ItemVersion:
    """Create an item with its first version as a draft."""
    _require_item_edit(actor, department)
    errors, resolved = content_check(content)
    if not BASIC_CODE.match(basic_code or ""):
        errors.setdefault("basic_code", []).append(_("基本编码应为6到30位数字或大写字母"))
    if level not in _choice_values(ItemLevel):
        errors.setdefault("level", []).append(_("事项层级应为主项、子项或业务办理项"))
    if parent is not None and parent.level == ItemLevel.HANDLING:
        errors.setdefault("parent", []).append(_("业务办理项下不能再设子事项"))
    if parent is None and level != ItemLevel.MAIN:
        errors.setdefault("parent", []).append(_("子项和业务办理项必须指定上级事项"))
    code = implementation_code_build(
        basic_code=basic_code, department=department, suffix=content.handling_suffix
    )
    if ServiceItem.objects.filter(implementation_code=code).exists():
        errors.setdefault("basic_code", []).append(_("实施编码%s已存在") % code)
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            item = ServiceItem.objects.create(
                implementation_code=code,
                basic_code=basic_code,
                level=level,
                parent=parent,
                department=department,
            )
            version = ItemVersion(item=item, number=1, created_by=actor)
            _apply_content(version, content, resolved)
            audit_record(
                action="catalog.item.create",
                actor=actor,
                target=item,
                detail={"version": 1, "name": version.name},
            )
    except IntegrityError as error:  # a concurrent create of the same code
        raise ValidationError({"basic_code": [_("实施编码%s已存在") % code]}) from error
    return version


def version_draft_open(*, actor: User | None, item: ServiceItem) -> ItemVersion:
    """The item's open draft, or a new one copied from the published version."""
    _require_item_edit(actor, item.department)
    with transaction.atomic():
        ServiceItem.objects.select_for_update().get(pk=item.pk)
        open_version = item.versions.filter(state__in=OPEN_STATES).first()
        if open_version is not None:
            if open_version.state == VersionState.IN_REVIEW:
                raise ValidationError(_("该事项有版本正在审核，审核完成后才能再次修改"))
            return open_version
        source = item.current or item.versions.order_by("-number").first()
        if source is None:
            raise ValidationError(_("该事项没有可复制的版本"))
        number = (item.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        draft = _copy_version(source, number=number, actor=actor)
        audit_record(
            action="catalog.version.draft_open",
            actor=actor,
            target=draft,
            detail={"item": item.implementation_code, "from_version": source.number},
        )
    return draft


def _copy_version(source: ItemVersion, *, number: int, actor: User | None) -> ItemVersion:
    windows = list(source.windows.all())
    themes = list(source.themes.all())
    life_events = list(source.life_events.all())
    bases = list(source.bases.all())
    materials = list(source.materials.all())
    steps = list(source.steps.all())
    copy = ItemVersion.objects.get(pk=source.pk)
    copy.pk = None
    copy.id = None
    copy.number = number
    copy.state = VersionState.DRAFT
    copy.created_by = actor
    copy.submitted_at = None
    copy.reviewed_by = None
    copy.review_comment = ""
    copy.published_at = None
    copy.change_note = ""
    copy.save()
    copy.windows.set(windows)
    copy.themes.set(themes)
    copy.life_events.set(life_events)
    for rows in (bases, materials, steps):
        for row in rows:
            row.pk = None
            row.id = None
            row.version = copy
    VersionBasis.objects.bulk_create(bases)
    Material.objects.bulk_create(materials)
    ProcessStep.objects.bulk_create(steps)
    return copy


def version_update(
    *, actor: User | None, version: ItemVersion, content: ItemContent
) -> ItemVersion:
    """Replace a draft's content (the whole guide at once)."""
    _require_item_edit(actor, version.item.department)
    errors, resolved = content_check(content)
    if content.handling_suffix != version.handling_suffix:
        errors.setdefault("handling_suffix", []).append(
            _("业务办理项编码是实施编码的一部分，发布后不能修改")
        )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = ItemVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state != VersionState.DRAFT:
            raise ValidationError(_("只有草稿可以修改"))
        before = version_snapshot(locked)
        _apply_content(locked, content, resolved)
        after = version_snapshot(locked)
        audit_record(
            action="catalog.version.update",
            actor=actor,
            target=locked,
            detail={"changed": sorted(key for key in after if before.get(key) != after.get(key))},
        )
    return locked


def version_snapshot(version: ItemVersion) -> dict[str, Any]:
    """A comparable plain view of a version (used for change lists and the round trip)."""
    data: dict[str, Any] = {name: getattr(version, name) for name in _SCALAR_FIELDS}
    data["fee_amount"] = str(version.fee_amount)
    data["special_procedures"] = list(version.special_procedures)
    data["delivery_methods"] = list(version.delivery_methods)
    data["power_code"] = version.power.code if version.power_id and version.power else ""
    data["windows"] = sorted(window_reference(window) for window in version.windows.all())
    data["themes"] = sorted(theme.code for theme in version.themes.all())
    data["life_events"] = sorted(event.code for event in version.life_events.all())
    data["bases"] = [
        (row.basis.title, row.article, row.is_setting)
        for row in version.bases.select_related("basis")
    ]
    data["materials"] = [
        tuple(getattr(row, name) for name in _MATERIAL_FIELDS) for row in version.materials.all()
    ]
    data["steps"] = [(row.name, row.description, row.days) for row in version.steps.all()]
    return data


_MATERIAL_FIELDS = tuple(item.name for item in fields(MaterialInput))


def version_submit(*, actor: User | None, version: ItemVersion) -> ItemVersion:
    """Send a draft for review; the whole guide must be complete."""
    _require_item_edit(actor, version.item.department)
    with transaction.atomic():
        locked = ItemVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state != VersionState.DRAFT:
            raise ValidationError(_("只有草稿可以提交审核"))
        problems = completeness_problems(locked)
        if problems:
            raise ValidationError(problems)
        locked.state = VersionState.IN_REVIEW
        locked.submitted_at = timezone.now()
        locked.save(update_fields=["state", "submitted_at", "updated_at"])
        audit_record(action="catalog.version.submit", actor=actor, target=locked)
    return locked


def completeness_problems(version: ItemVersion) -> list[str]:
    """What a guide still lacks before it can be reviewed."""
    problems = []
    if not version.materials.exists():
        problems.append(_("请至少列出一项申请材料"))
    if not version.steps.exists():
        problems.append(_("请填写办理流程"))
    if not version.bases.exists():
        problems.append(_("请填写设定和实施依据"))
    if not version.result_name:
        problems.append(_("请填写办理结果名称"))
    if not (version.consult_phone and version.address and version.office_hours):
        problems.append(_("请填写咨询电话、办理地点和办理时间"))
    return problems


def version_review(
    *, actor: User | None, version: ItemVersion, approve: bool, comment: str = ""
) -> ItemVersion:
    """Approve (publish) or return a version in review. The reviewer is not the drafter."""
    if actor is not None and not can_access(actor, version, permissions.ITEM_REVIEW, VERSION_SCOPE):
        deny(actor, permissions.ITEM_REVIEW, target=version)
    if actor is not None and version.created_by_id == actor.pk:
        raise ValidationError(_("不能审核自己起草的版本"))
    if not approve and not comment.strip():
        raise ValidationError({"comment": [_("退回修改时请写明审核意见")]})
    with transaction.atomic():
        locked = ItemVersion.objects.select_for_update().select_related("item").get(pk=version.pk)
        if locked.state != VersionState.IN_REVIEW:
            raise ValidationError(_("该版本不在待审核状态"))
        locked.reviewed_by = actor
        locked.review_comment = comment.strip()
        if not approve:
            locked.state = VersionState.DRAFT
            locked.save(update_fields=["state", "reviewed_by", "review_comment", "updated_at"])
            audit_record(
                action="catalog.version.return",
                actor=actor,
                target=locked,
                detail={"comment": locked.review_comment},
            )
            return locked
        _publish(locked, actor=actor)
    return locked


def _publish(version: ItemVersion, *, actor: User | None) -> None:
    item = ServiceItem.objects.select_for_update().get(pk=version.item_id)
    previous = item.current
    if previous is not None and previous.pk != version.pk:
        ItemVersion.objects.filter(pk=previous.pk).update(state=VersionState.SUPERSEDED)
    version.state = VersionState.PUBLISHED
    version.published_at = timezone.now()
    version.save(
        update_fields=["state", "reviewed_by", "review_comment", "published_at", "updated_at"]
    )
    item.current = version
    item.is_active = True
    item.save(update_fields=["current", "is_active"])
    audit_record(
        action="catalog.version.publish",
        actor=actor,
        target=version,
        detail={
            "item": item.implementation_code,
            "version": version.number,
            "previous": previous.number if previous else None,
        },
    )
    event_publish(
        ITEM_PUBLISHED,
        {
            "item_id": item.pk,
            "version_id": version.pk,
            "version": version.number,
            "implementation_code": item.implementation_code,
            "name": version.name,
            "department_code": item.department.code,
        },
        actor=actor,
    )
    transaction.on_commit(lambda: indexing.item_index(item_id=item.pk))


def version_publish_now(*, actor: User | None, version: ItemVersion) -> ItemVersion:
    """Submit and publish in one step: for the system (demo, migration of an existing
    catalogue) and for importers who also hold the review permission."""
    if actor is not None and not has_permission(actor, permissions.ITEM_REVIEW):
        deny(actor, permissions.ITEM_REVIEW, target=version)
    with transaction.atomic():
        locked = ItemVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state not in OPEN_STATES:
            raise ValidationError(_("该版本已发布或已停用"))
        problems = completeness_problems(locked)
        if problems:
            raise ValidationError(problems)
        locked.submitted_at = locked.submitted_at or timezone.now()
        locked.reviewed_by = actor
        locked.save(update_fields=["submitted_at", "reviewed_by", "updated_at"])
        _publish(locked, actor=actor)
    return locked


def item_retire(*, actor: User | None, item: ServiceItem, reason: str) -> ServiceItem:
    """Stop offering an item (取消/下放). Its versions stay for the cases opened on them."""
    if actor is not None and not can_access(actor, item, permissions.ITEM_REVIEW, ITEM_SCOPE):
        deny(actor, permissions.ITEM_REVIEW, target=item)
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明停用原因")]})
    with transaction.atomic():
        locked = ServiceItem.objects.select_for_update().get(pk=item.pk)
        if not locked.is_active:
            raise ValidationError(_("该事项已停用"))
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        if locked.current_id:
            ItemVersion.objects.filter(pk=locked.current_id).update(state=VersionState.RETIRED)
        audit_record(
            action="catalog.item.retire", actor=actor, target=locked, detail={"reason": reason}
        )
        event_publish(
            ITEM_RETIRED,
            {"item_id": locked.pk, "implementation_code": locked.implementation_code},
            actor=actor,
        )
        transaction.on_commit(lambda: indexing.item_unindex(item_id=locked.pk))
    return locked


# ---------------------------------------------------------------- power lists (三单)


@dataclass(frozen=True)
class PowerContent:
    code: str
    name: str
    power_type: str
    holder_code: str
    exercise_level: str = "city"
    accountability: str = ""
    note: str = ""
    bases: tuple[BasisInput, ...] = ()
    duties: tuple[tuple[str, str], ...] = ()  # (stage, duty)


def power_check(content: PowerContent) -> tuple[dict[str, list[str]], Department | None]:
    errors: dict[str, list[str]] = {}
    if not POWER_CODE.match(content.code or ""):
        errors.setdefault("code", []).append(_("权力编码应为4到40位字母、数字或连字符"))
    if not content.name.strip():
        errors.setdefault("name", []).append(_("请填写权力名称"))
    if content.power_type not in _choice_values(PowerType):
        errors.setdefault("power_type", []).append(_("权力类型不正确"))
    holder = Department.objects.filter(code=content.holder_code).first()
    if holder is None:
        errors.setdefault("holder_code", []).append(
            _("实施主体部门编码“%s”不存在") % content.holder_code
        )
    if not content.bases:
        errors.setdefault("bases", []).append(_("请填写设定依据"))
    titles = {basis.title for basis in content.bases}
    known = set(LegalBasis.objects.filter(title__in=titles).values_list("title", flat=True))
    for title in sorted(titles - known):
        errors.setdefault("bases", []).append(
            _("法律法规“%s”未登记，请先在法律法规库中添加") % title
        )
    if not content.duties:
        errors.setdefault("duties", []).append(_("请填写责任事项（责任清单）"))
    for stage, duty in content.duties:
        if not stage.strip() or not duty.strip():
            errors.setdefault("duties", []).append(_("责任事项应同时写明环节和内容"))
            break
    return errors, holder


def power_save(*, actor: User | None, content: PowerContent) -> PowerItem:
    """Create or replace a power item with its legal bases and duties."""
    if actor is not None and not has_permission(actor, permissions.POWER_MANAGE):
        deny(actor, permissions.POWER_MANAGE)
    errors, holder = power_check(content)
    if errors:
        raise ValidationError(errors)
    assert holder is not None
    bases = {
        basis.title: basis
        for basis in LegalBasis.objects.filter(title__in=[given.title for given in content.bases])
    }
    with transaction.atomic():
        power, created = PowerItem.objects.select_for_update().get_or_create(
            code=content.code,
            defaults={"name": content.name, "power_type": content.power_type, "holder": holder},
        )
        power.name = content.name.strip()
        power.power_type = content.power_type
        power.holder = holder
        power.exercise_level = content.exercise_level
        power.accountability = content.accountability
        power.note = content.note
        power.status = PowerStatus.ACTIVE
        power.save()
        power.bases.all().delete()
        PowerBasis.objects.bulk_create(
            PowerBasis(power=power, basis=bases[given.title], article=given.article)
            for given in content.bases
        )
        power.duties.all().delete()
        PowerDuty.objects.bulk_create(
            PowerDuty(power=power, order=index, stage=stage, duty=duty)
            for index, (stage, duty) in enumerate(content.duties, start=1)
        )
        audit_record(
            action="catalog.power.create" if created else "catalog.power.update",
            actor=actor,
            target=power,
        )
    return power


def power_repeal(*, actor: User | None, power: PowerItem, reason: str) -> PowerItem:
    if actor is not None and not has_permission(actor, permissions.POWER_MANAGE):
        deny(actor, permissions.POWER_MANAGE, target=power)
    if not reason.strip():
        raise ValidationError({"reason": [_("请写明取消原因")]})
    with transaction.atomic():
        power.status = PowerStatus.REPEALED
        power.save(update_fields=["status", "updated_at"])
        audit_record(
            action="catalog.power.repeal", actor=actor, target=power, detail={"reason": reason}
        )
    return power


def negative_entry_save(
    *,
    actor: User | None,
    code: str,
    kind: str,
    sector: str,
    measure: str,
    basis: str = "",
    department_code: str = "",
) -> NegativeListEntry:
    if actor is not None and not has_permission(actor, permissions.POWER_MANAGE):
        deny(actor, permissions.POWER_MANAGE)
    errors: dict[str, list[str]] = {}
    if not code.strip():
        errors["code"] = [_("请填写编号")]
    if kind not in {"prohibited", "licensed"}:
        errors["kind"] = [_("类别应为禁止准入类或许可准入类")]
    if not sector.strip() or not measure.strip():
        errors["measure"] = [_("请填写行业和禁止或许可事项")]
    department = None
    if department_code:
        department = Department.objects.filter(code=department_code).first()
        if department is None:
            errors["department_code"] = [_("部门编码“%s”不存在") % department_code]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        entry, created = NegativeListEntry.objects.update_or_create(
            code=code.strip(),
            defaults={
                "kind": kind,
                "sector": sector.strip(),
                "measure": measure.strip(),
                "basis": basis.strip(),
                "department": department,
                "is_active": True,
            },
        )
        audit_record(
            action="catalog.negative.create" if created else "catalog.negative.update",
            actor=actor,
            target=entry,
        )
    return entry


# ---------------------------------------------------------------- vocabularies


def _require_vocabulary(actor: User | None) -> None:
    if actor is not None and not has_permission(actor, permissions.VOCABULARY_MANAGE):
        deny(actor, permissions.VOCABULARY_MANAGE)


def legal_basis_save(
    *,
    actor: User | None,
    title: str,
    kind: str,
    issuer: str = "",
    document_number: str = "",
    effective_date: Any = None,
    url: str = "",
) -> LegalBasis:
    _require_vocabulary(actor)
    title = title.strip()
    if not title:
        raise ValidationError({"title": [_("请填写法律法规名称")]})
    if kind not in {
        "law",
        "administrative_regulation",
        "local_regulation",
        "departmental_rule",
        "local_rule",
        "normative_document",
    }:
        raise ValidationError({"kind": [_("效力级别不正确")]})
    with transaction.atomic():
        basis, created = LegalBasis.objects.update_or_create(
            title=title,
            defaults={
                "kind": kind,
                "issuer": issuer,
                "document_number": document_number,
                "effective_date": effective_date,
                "url": url,
            },
        )
        audit_record(
            action="catalog.legal_basis.create" if created else "catalog.legal_basis.update",
            actor=actor,
            target=basis,
        )
    return basis


def theme_save(*, actor: User | None, code: str, name: str, audience: str, order: int = 0) -> Theme:
    _require_vocabulary(actor)
    if not code or not name.strip() or audience not in {"person", "enterprise", "both"}:
        raise ValidationError(_("请填写主题编码、名称和服务对象"))
    with transaction.atomic():
        theme, created = Theme.objects.update_or_create(
            code=code, defaults={"name": name.strip(), "audience": audience, "order": order}
        )
        audit_record(
            action="catalog.theme.create" if created else "catalog.theme.update",
            actor=actor,
            target=theme,
        )
    return theme


def life_event_save(
    *, actor: User | None, code: str, name: str, audience: str, keywords: str = "", order: int = 0
) -> LifeEvent:
    _require_vocabulary(actor)
    if not code or not name.strip() or audience not in {"person", "enterprise"}:
        raise ValidationError(_("请填写人生事件编码、名称和服务对象（个人或法人）"))
    with transaction.atomic():
        event, created = LifeEvent.objects.update_or_create(
            code=code,
            defaults={
                "name": name.strip(),
                "audience": audience,
                "keywords": " ".join(keywords.split()),
                "order": order,
            },
        )
        audit_record(
            action="catalog.life_event.create" if created else "catalog.life_event.update",
            actor=actor,
            target=event,
        )
        transaction.on_commit(lambda: cache.delete(LIFE_EVENTS_CACHE_KEY))
    return event


def bundle_save(
    *,
    actor: User | None,
    code: str,
    name: str,
    audience: str,
    lead_department: Department,
    items: Iterable[ServiceItem],
    joint_limit_days: int = 45,
    description: str = "",
    life_event: LifeEvent | None = None,
) -> Bundle:
    """Define a 一件事 bundle; it must span at least two items."""
    _require_vocabulary(actor)
    chosen = list(items)
    errors: dict[str, list[str]] = {}
    if len(chosen) < 2:
        errors["items"] = [_("一件事至少包含两个事项")]
    if not 1 <= joint_limit_days <= 365:
        errors["joint_limit_days"] = [_("联办时限应为1到365个工作日")]
    inactive = [item.implementation_code for item in chosen if not item.current_id]
    if inactive:
        errors.setdefault("items", []).append(_("以下事项尚未发布：%s") % "、".join(inactive))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        bundle, created = Bundle.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "audience": audience,
                "lead_department": lead_department,
                "joint_limit_days": joint_limit_days,
                "description": description,
                "life_event": life_event,
            },
        )
        bundle.items.set(chosen)
        audit_record(
            action="catalog.bundle.create" if created else "catalog.bundle.update",
            actor=actor,
            target=bundle,
            detail={"items": [item.implementation_code for item in chosen]},
        )
    return bundle
