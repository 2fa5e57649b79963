"""Every write to the organisation tree: create, update and move divisions, government
bodies, departments, units, positions, postings, service centres and windows.

Each service validates, keeps the materialised paths right, and writes one audit entry in
the same transaction. ``actor`` is the acting user; ``None`` means the platform itself
(a management command), which is recorded as such in the audit log. A user actor must hold
``orgs.manage``; the check runs before the transaction so a denial's audit entry stays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from tongban.platform.access.permissions import ORGS_MANAGE
from tongban.platform.accounts.idnumbers import InvalidIdNumber, validate_uscc
from tongban.platform.audit.services import audit_record
from tongban.platform.orgs.models import (
    PATH_END,
    BodyKind,
    Department,
    Division,
    DivisionLevel,
    GovernmentBody,
    Position,
    Posting,
    ServiceCentre,
    Unit,
    Window,
    WindowKind,
)

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

FORBIDDEN_CODE_CHARACTERS = ("/", PATH_END)
PATH_MAX_LENGTH = 255


class OrgError(ValidationError):
    """A change to the organisation tree was refused; the message is fit to show."""


# --- paths -------------------------------------------------------------------------------


def node_path(parent_path: str | None, code: str) -> str:
    """The path of a node with ``code`` under a parent's path (``"/<code>/"`` at the top)."""
    return (parent_path or "/") + code + "/"


def validate_code(code: str) -> str:
    code = code.strip()
    if not code:
        raise OrgError(_("编码不能为空"), code="code_empty")
    if any(character in code for character in FORBIDDEN_CODE_CHARACTERS):
        raise OrgError(_("编码不能包含“/”或“~”"), code="code_characters")
    return code


def _check_path_length(path: str) -> str:
    if len(path) > PATH_MAX_LENGTH:
        raise OrgError(_("层级过深：路径超过255个字符"), code="path_too_long")
    return path


def _authorise(actor: User | None) -> None:
    if actor is None:
        return
    from tongban.platform.access.services import require

    require(actor, ORGS_MANAGE)


def _audit(actor: User | None, action: str, target: models.Model, **detail: Any) -> None:
    audit_record(action=action, actor=actor, target=target, detail=detail)


def _rewrite_prefix(
    queryset: models.QuerySet[Any], field: str, old_prefix: str, new_prefix: str
) -> int:
    """Replace ``old_prefix`` by ``new_prefix`` at the start of ``field`` for every row whose
    ``field`` lies in the subtree of ``old_prefix``: one UPDATE statement."""
    return queryset.filter(
        **{f"{field}__gte": old_prefix, f"{field}__lt": old_prefix + PATH_END}
    ).update(**{field: Concat(Value(new_prefix), Substr(field, len(old_prefix) + 1))})


# --- divisions ---------------------------------------------------------------------------


def division_validate(*, code: str, level: int, parent: Division | None) -> None:
    validate_code(code)
    if not code.isdigit() or len(code) != 12:
        raise OrgError(_("区划代码应为12位数字"), code="division_code")
    if level not in DivisionLevel.values:
        raise OrgError(_("区划层级无效"), code="division_level")
    if parent is not None and level <= parent.level:
        raise OrgError(_("下级区划的层级必须低于上级区划"), code="division_level_order")


def division_create(
    *,
    actor: User | None,
    code: str,
    name: str,
    level: int,
    parent: Division | None = None,
) -> Division:
    _authorise(actor)
    code = code.strip()
    division_validate(code=code, level=level, parent=parent)
    with transaction.atomic():
        division = Division.objects.create(
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=_check_path_length(node_path(parent.path if parent else None, code)),
        )
        _audit(actor, "orgs.division.create", division, code=code, name=name, level=level)
    return division


def division_update(*, actor: User | None, division: Division, name: str | None = None) -> Division:
    """Rename a division. Codes are identities and do not change; use a new division."""
    _authorise(actor)
    with transaction.atomic():
        if name is not None and name != division.name:
            old = division.name
            division.name = name
            division.save(update_fields=["name"])
            _audit(actor, "orgs.division.update", division, name=[old, name])
    return division


# --- government bodies -------------------------------------------------------------------


def _clean_uscc(uscc: str, *, required: bool) -> str:
    uscc = uscc.strip().upper()
    if not uscc and not required:
        return ""
    try:
        return validate_uscc(uscc)
    except InvalidIdNumber as error:
        raise OrgError(
            _("统一社会信用代码无效：%(reason)s") % {"reason": str(error)}, code="uscc"
        ) from error


def body_create(
    *,
    actor: User | None,
    division: Division,
    name: str,
    kind: str = BodyKind.GOVERNMENT,
    uscc: str = "",
) -> GovernmentBody:
    _authorise(actor)
    if kind not in BodyKind.values:
        raise OrgError(_("机关类型无效"), code="body_kind")
    uscc = _clean_uscc(uscc, required=False)
    with transaction.atomic():
        body = GovernmentBody.objects.create(division=division, name=name, kind=kind, uscc=uscc)
        _audit(actor, "orgs.body.create", body, division=division.code, kind=kind, uscc=uscc)
    return body


# --- departments -------------------------------------------------------------------------


def department_validate(
    *,
    code: str,
    uscc: str,
    division: Division,
    parent: Department | None,
    body: GovernmentBody | None,
    instance: Department | None = None,
) -> str:
    """Check a department's fields; return the normalised USCC."""
    validate_code(code)
    cleaned = _clean_uscc(uscc, required=True)
    duplicate = Department.objects.filter(uscc=cleaned)
    if instance is not None:
        duplicate = duplicate.exclude(pk=instance.pk)
    if duplicate.exists():
        raise OrgError(_("该统一社会信用代码已被其他部门使用"), code="uscc_taken")
    if body is not None and body.division_id != division.pk:
        raise OrgError(_("所属机关必须属于同一行政区划"), code="body_division")
    if parent is not None and instance is not None and parent.path.startswith(instance.path):
        raise OrgError(_("上级部门不能是本部门或其下级部门"), code="parent_cycle")
    return cleaned


def department_create(
    *,
    actor: User | None,
    division: Division,
    code: str,
    uscc: str,
    name: str,
    short_name: str = "",
    parent: Department | None = None,
    body: GovernmentBody | None = None,
) -> Department:
    _authorise(actor)
    code = code.strip()
    cleaned = department_validate(code=code, uscc=uscc, division=division, parent=parent, body=body)
    with transaction.atomic():
        department = Department.objects.create(
            division=division,
            body=body,
            parent=parent,
            code=code,
            uscc=cleaned,
            name=name,
            short_name=short_name,
            path=_check_path_length(node_path(parent.path if parent else None, code)),
            division_path=division.path,
        )
        _audit(
            actor,
            "orgs.department.create",
            department,
            code=code,
            uscc=cleaned,
            division=division.code,
            parent=parent.code if parent else None,
        )
    return department


DEPARTMENT_UPDATABLE = frozenset({"name", "short_name", "uscc", "body", "is_active"})


def department_update(
    *, actor: User | None, department: Department, changes: Mapping[str, Any]
) -> Department:
    """Change plain fields (name, short name, USCC, body, active). Use ``department_move``
    to change the parent."""
    _authorise(actor)
    unknown = set(changes) - DEPARTMENT_UPDATABLE
    if unknown:
        raise OrgError(_("不能修改这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})
    values = dict(changes)
    if "uscc" in values or "body" in values:
        values["uscc"] = department_validate(
            code=department.code,
            uscc=values.get("uscc", department.uscc),
            division=department.division,
            parent=None,
            body=values.get("body", department.body),
            instance=department,
        )
    with transaction.atomic():
        changed = _apply(department, values)
        if changed:
            _audit(actor, "orgs.department.update", department, fields=changed)
    return department


def department_move(
    *, actor: User | None, department: Department, parent: Department | None
) -> Department:
    """Put a department (with its subordinate departments and all their units) under a new
    parent department, rewriting the paths of the whole subtree in one transaction."""
    _authorise(actor)
    with transaction.atomic():
        locked = Department.objects.select_for_update().get(pk=department.pk)
        if parent is not None:
            parent = Department.objects.get(pk=parent.pk)  # current path, not a stale copy
            if parent.path.startswith(locked.path):
                raise OrgError(_("上级部门不能是本部门或其下级部门"), code="parent_cycle")
        old_path = locked.path
        new_path = _check_path_length(node_path(parent.path if parent else None, locked.code))
        old_parent = locked.parent.code if locked.parent else None
        Department.objects.filter(pk=locked.pk).update(parent=parent)
        moved = _rewrite_prefix(Department.objects.all(), "path", old_path, new_path)
        units = _rewrite_prefix(Unit.objects.all(), "department_path", old_path, new_path)
        _audit(
            actor,
            "orgs.department.move",
            locked,
            parent=[old_parent, parent.code if parent else None],
            path=[old_path, new_path],
            departments=moved,
            units=units,
        )
    department.refresh_from_db()
    return department


# --- units -------------------------------------------------------------------------------


def unit_validate(
    *, code: str, department: Department, parent: Unit | None, instance: Unit | None = None
) -> None:
    validate_code(code)
    if parent is not None and parent.department_id != department.pk:
        raise OrgError(_("上级科室必须属于同一部门"), code="parent_department")
    if parent is not None and instance is not None and parent.path.startswith(instance.path):
        raise OrgError(_("上级科室不能是本科室或其下级科室"), code="parent_cycle")


def unit_create(
    *,
    actor: User | None,
    department: Department,
    code: str,
    name: str,
    parent: Unit | None = None,
) -> Unit:
    _authorise(actor)
    code = code.strip()
    unit_validate(code=code, department=department, parent=parent)
    with transaction.atomic():
        unit = Unit.objects.create(
            department=department,
            parent=parent,
            code=code,
            name=name,
            path=_check_path_length(node_path(parent.path if parent else None, code)),
            department_path=department.path,
            division_path=department.division_path,
        )
        _audit(
            actor,
            "orgs.unit.create",
            unit,
            code=code,
            department=department.code,
            parent=parent.code if parent else None,
        )
    return unit


UNIT_UPDATABLE = frozenset({"name", "is_active"})


def unit_update(*, actor: User | None, unit: Unit, changes: Mapping[str, Any]) -> Unit:
    _authorise(actor)
    unknown = set(changes) - UNIT_UPDATABLE
    if unknown:
        raise OrgError(_("不能修改这些字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        changed = _apply(unit, dict(changes))
        if changed:
            _audit(actor, "orgs.unit.update", unit, fields=changed)
    return unit


def unit_move(*, actor: User | None, unit: Unit, parent: Unit | None) -> Unit:
    """Put a unit (and the units under it) under another unit of the same department."""
    _authorise(actor)
    with transaction.atomic():
        locked = Unit.objects.select_for_update().select_related("department").get(pk=unit.pk)
        if parent is not None:
            parent = Unit.objects.get(pk=parent.pk)  # current path, not a stale copy
        unit_validate(
            code=locked.code, department=locked.department, parent=parent, instance=locked
        )
        old_path = locked.path
        new_path = _check_path_length(node_path(parent.path if parent else None, locked.code))
        old_parent = locked.parent.code if locked.parent else None
        Unit.objects.filter(pk=locked.pk).update(parent=parent)
        moved = _rewrite_prefix(Unit.objects.all(), "path", old_path, new_path)
        _audit(
            actor,
            "orgs.unit.move",
            locked,
            parent=[old_parent, parent.code if parent else None],
            path=[old_path, new_path],
            units=moved,
        )
    unit.refresh_from_db()
    return unit


# --- positions and postings --------------------------------------------------------------


def position_create(
    *, actor: User | None, code: str, name: str, is_leader: bool = False, rank: int = 100
) -> Position:
    _authorise(actor)
    code = validate_code(code)
    with transaction.atomic():
        position = Position.objects.create(code=code, name=name, is_leader=is_leader, rank=rank)
        _audit(actor, "orgs.position.create", position, code=code, is_leader=is_leader)
    return position


def posting_create(
    *,
    actor: User | None,
    user: User,
    unit: Unit,
    position: Position,
    is_primary: bool = True,
) -> Posting:
    """Post a member of staff to a unit. A new primary posting demotes the old primary one."""
    _authorise(actor)
    if user.kind != "staff":
        raise OrgError(_("只有工作人员可以任职"), code="posting_kind")
    with transaction.atomic():
        if Posting.objects.filter(user=user, unit=unit, position=position).exists():
            raise OrgError(_("该人员已在此科室担任此岗位"), code="posting_duplicate")
        demoted = 0
        if is_primary:
            demoted = Posting.objects.filter(user=user, is_primary=True).update(is_primary=False)
        posting = Posting.objects.create(
            user=user, unit=unit, position=position, is_primary=is_primary
        )
        _audit(
            actor,
            "orgs.posting.create",
            posting,
            user=user.get_username(),
            unit=unit.code,
            position=position.code,
            is_primary=is_primary,
            demoted=demoted,
        )
    return posting


def posting_end(*, actor: User | None, posting: Posting) -> None:
    _authorise(actor)
    with transaction.atomic():
        _audit(
            actor,
            "orgs.posting.end",
            posting,
            user=posting.user.get_username(),
            unit=posting.unit.code,
            position=posting.position.code,
        )
        posting.delete()


# --- service centres and windows ---------------------------------------------------------


def centre_create(
    *,
    actor: User | None,
    division: Division,
    name: str,
    address: str = "",
    phone: str = "",
    hours: str = "",
) -> ServiceCentre:
    _authorise(actor)
    with transaction.atomic():
        centre = ServiceCentre.objects.create(
            division=division, name=name, address=address, phone=phone, hours=hours
        )
        _audit(actor, "orgs.centre.create", centre, division=division.code)
    return centre


def window_create(
    *,
    actor: User | None,
    centre: ServiceCentre,
    number: str,
    name: str,
    kind: str,
    department: Department | None = None,
    unit: Unit | None = None,
) -> Window:
    _authorise(actor)
    if kind not in WindowKind.values:
        raise OrgError(_("窗口类型无效"), code="window_kind")
    if kind == WindowKind.DEPARTMENT and department is None:
        raise OrgError(_("部门窗口必须指定进驻部门"), code="window_department")
    if unit is not None and department is not None and unit.department_id != department.pk:
        raise OrgError(_("负责科室必须属于进驻部门"), code="window_unit")
    with transaction.atomic():
        if Window.objects.filter(centre=centre, number=number).exists():
            raise OrgError(_("该服务中心已有此窗口号"), code="window_number")
        window = Window.objects.create(
            centre=centre, number=number, name=name, kind=kind, department=department, unit=unit
        )
        _audit(
            actor,
            "orgs.window.create",
            window,
            centre=centre.name,
            number=number,
            kind=kind,
            department=department.code if department else None,
        )
    return window


# --- helpers -----------------------------------------------------------------------------


def _apply(instance: models.Model, values: Mapping[str, Any]) -> list[str]:
    changed = []
    for field, value in values.items():
        if getattr(instance, field) != value:
            setattr(instance, field, value)
            changed.append(field)
    if changed:
        instance.save(update_fields=changed)
    return sorted(changed)
