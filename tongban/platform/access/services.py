"""The one way to ask "may this actor do X, and to which rows?".

``scope_queryset(actor, queryset, permission, paths)`` narrows any queryset to what the
actor's role assignments for ``permission`` allow, as a single filtered query.
``require(actor, permission)`` raises ``PermissionDenied`` (and audits the denial).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.access.permissions import ADMIN_ROLE_PERMISSIONS, ROLES_ASSIGN
from tongban.platform.access.registry import all_permissions, is_registered
from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.orgs.models import PATH_END

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User

ModelT = TypeVar("ModelT", bound=models.Model)
logger = logging.getLogger(__name__)

_CACHE_ATTRIBUTE = "_tongban_grants"


@dataclass(frozen=True)
class ScopePaths:
    """How a model reaches the organisation tree, as ORM lookups from the model.

    ``owner`` names a user foreign key (for the "self" scope); ``unit``, ``department`` and
    ``division`` name foreign keys to ``orgs.Unit``, ``orgs.Department`` and
    ``orgs.Division``; an empty string means the model itself is that thing (scoping the
    ``Department`` table: ``ScopePaths(department="", division="division")``). ``None``:
    the model cannot express that scope, which then grants nothing.
    """

    owner: str | None = None
    unit: str | None = None
    department: str | None = None
    division: str | None = None


@dataclass(frozen=True)
class Grant:
    permission: str
    scope: str
    unit_id: int | None = None
    unit_path: str = ""
    department_id: int | None = None
    department_path: str = ""
    division_path: str = ""


def _load_grants(actor: User) -> dict[str, list[Grant]]:
    grants: dict[str, list[Grant]] = {}
    for code in ADMIN_ROLE_PERMISSIONS.get(actor.admin_role, frozenset()):
        grants.setdefault(code, []).append(Grant(code, Scope.ALL))
    now = timezone.now()
    assignments = (
        RoleAssignment.objects.filter(user=actor)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("unit", "department", "division")
        .prefetch_related("role__permissions")
    )
    for assignment in assignments:
        for permission in assignment.role.permissions.all():
            grants.setdefault(permission.code, []).append(
                Grant(
                    permission=permission.code,
                    scope=assignment.scope,
                    unit_id=assignment.unit_id,
                    unit_path=assignment.unit.path if assignment.unit else "",
                    department_id=assignment.department_id,
                    department_path=assignment.department.path if assignment.department else "",
                    division_path=assignment.division.path if assignment.division else "",
                )
            )
    return grants


def grants_for(actor: Any, permission: str) -> list[Grant]:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return []
    cache = getattr(actor, _CACHE_ATTRIBUTE, None)
    if cache is None:
        cache = _load_grants(actor)
        setattr(actor, _CACHE_ATTRIBUTE, cache)
    return cache.get(permission, [])


def forget_grants(actor: Any) -> None:
    if hasattr(actor, _CACHE_ATTRIBUTE):
        delattr(actor, _CACHE_ATTRIBUTE)


def has_permission(actor: Any, permission: str) -> bool:
    """True when the actor holds ``permission`` with any scope."""
    if not is_registered(permission):
        raise ValueError(f"unknown permission {permission}")
    return bool(grants_for(actor, permission))


def _range(lookup: str, path: str) -> Q:
    return Q(**{f"{lookup}__gte": path, f"{lookup}__lt": path + PATH_END})


def _field(prefix: str, name: str) -> str:
    """``unit`` + ``path`` → ``unit__path``; an empty prefix means the row itself."""
    return f"{prefix}__{name}" if prefix else name


def _key(prefix: str) -> str:
    return f"{prefix}_id" if prefix else "pk"


def _grant_filter(grant: Grant, actor: Any, paths: ScopePaths) -> Q | None:
    """The rows one grant opens, or None when the model cannot express the scope."""
    scope = grant.scope
    unit, department, division = paths.unit, paths.department, paths.division
    if scope == Scope.SELF:
        return Q(**{_key(paths.owner): actor.pk}) if paths.owner is not None else None
    if scope == Scope.UNIT:
        return Q(**{_key(unit): grant.unit_id}) if unit is not None else None
    if scope == Scope.UNIT_TREE:
        return _range(_field(unit, "path"), grant.unit_path) if unit is not None else None
    if scope == Scope.DEPARTMENT:
        if department is not None:
            return Q(**{_key(department): grant.department_id})
        if unit is not None:
            return Q(**{_field(unit, "department_id"): grant.department_id})
        return None
    if scope == Scope.DEPARTMENT_TREE:
        if department is not None:
            return _range(_field(department, "path"), grant.department_path)
        if unit is not None:
            return _range(_field(unit, "department_path"), grant.department_path)
        return None
    if scope == Scope.DIVISION:
        if division is not None:
            return _range(_field(division, "path"), grant.division_path)
        if department is not None:
            return _range(_field(department, "division_path"), grant.division_path)
        if unit is not None:
            return _range(_field(unit, "division_path"), grant.division_path)
        return None
    return None


def scope_queryset(
    actor: Any, queryset: models.QuerySet[ModelT], permission: str, paths: ScopePaths
) -> models.QuerySet[ModelT]:
    """Narrow ``queryset`` to the rows the actor may see under ``permission``.

    Deny by default: no grant, or only grants the model cannot express, gives no rows.
    """
    if not is_registered(permission):
        raise ValueError(f"unknown permission {permission}")
    condition: Q | None = None
    for grant in grants_for(actor, permission):
        if grant.scope == Scope.ALL:
            return queryset
        part = _grant_filter(grant, actor, paths)
        if part is not None:
            condition = part if condition is None else condition | part
    if condition is None:
        return queryset.none()
    return queryset.filter(condition)


def can_access(actor: Any, obj: models.Model, permission: str, paths: ScopePaths) -> bool:
    queryset = type(obj)._default_manager.filter(pk=obj.pk)
    return scope_queryset(actor, queryset, permission, paths).exists()


def deny(actor: Any, permission: str, *, target: models.Model | None = None) -> None:
    """Audit a refused action and raise ``PermissionDenied``.

    Services must check permissions *before* opening their transaction: a denial raised
    inside an atomic block rolls back with it, audit entry included.
    """
    if connection.in_atomic_block:
        logger.debug(
            "permission %s denied inside a transaction: its audit entry is lost "
            "if the transaction rolls back; check permissions first",
            permission,
        )
    with transaction.atomic():
        audit_record(
            action=f"{permission}",
            actor=actor,
            target=target,
            outcome=Outcome.DENIED,
            detail={"reason": "permission"},
        )
    raise PermissionDenied(_("您没有执行此操作的权限"))


def require(
    actor: Any,
    permission: str,
    *,
    target: models.Model | None = None,
    paths: ScopePaths | None = None,
) -> None:
    """Raise ``PermissionDenied`` unless the actor holds ``permission`` (over ``target``)."""
    if target is not None and paths is not None:
        allowed = can_access(actor, target, permission, paths)
    else:
        allowed = has_permission(actor, permission)
    if not allowed:
        deny(actor, permission, target=target)


def user_requires_mfa(user: Any) -> bool:
    if getattr(user, "admin_role", ""):
        return True
    return RoleAssignment.objects.filter(user=user, role__requires_mfa=True).exists()


def access_sync_permissions() -> int:
    """Write every registered permission to the database; return how many were created."""
    created = 0
    for spec in all_permissions():
        _, was_created = Permission.objects.update_or_create(
            code=spec.code, defaults={"name": spec.name}
        )
        created += int(was_created)
    return created


class AssignmentError(ValueError):
    pass


def role_assign(
    *,
    actor: User,
    user: User,
    role: Role,
    scope: str,
    unit: Any = None,
    department: Any = None,
    division: Any = None,
    valid_until: Any = None,
) -> RoleAssignment:
    """Give ``user`` a role with a data scope. Only holders of ``access.role.assign``
    (the security administrator) may; nobody may assign roles to themselves."""
    require(actor, ROLES_ASSIGN)
    with transaction.atomic():
        return _role_assign(
            actor=actor,
            user=user,
            role=role,
            scope=scope,
            unit=unit,
            department=department,
            division=division,
            valid_until=valid_until,
        )


def _role_assign(
    *,
    actor: User,
    user: User,
    role: Role,
    scope: str,
    unit: Any,
    department: Any,
    division: Any,
    valid_until: Any,
) -> RoleAssignment:
    if actor.pk == user.pk:
        raise AssignmentError(_("不能为自己分配角色"))
    if (
        user.admin_role in {"system_admin", "auditor"}
        and role.permissions.filter(code=ROLES_ASSIGN).exists()
    ):
        # 三权分立: only the security administrator may hold the role-assignment power
        raise AssignmentError(_("系统管理员和安全审计员不能拥有分配角色的权限"))
    if role.for_public == (user.kind == "staff"):
        raise AssignmentError(_("该角色不适用于此类用户"))
    if scope in {Scope.UNIT, Scope.UNIT_TREE} and unit is None:
        raise AssignmentError(_("科室范围的授权必须指定科室"))
    if scope in {Scope.DEPARTMENT, Scope.DEPARTMENT_TREE} and department is None:
        raise AssignmentError(_("部门范围的授权必须指定部门"))
    if scope == Scope.DIVISION and division is None:
        raise AssignmentError(_("区划范围的授权必须指定行政区划"))
    assignment = RoleAssignment.objects.create(
        user=user,
        role=role,
        scope=scope,
        unit=unit,
        department=department,
        division=division,
        granted_by=actor,
        valid_until=valid_until,
    )
    audit_record(
        action="access.role.assign",
        actor=actor,
        target=assignment,
        detail={
            "user": user.username,
            "role": role.code,
            "scope": scope,
            "unit": getattr(unit, "code", None),
            "department": getattr(department, "code", None),
            "division": getattr(division, "code", None),
        },
    )
    forget_grants(user)
    return assignment


def role_revoke(*, actor: User, assignment: RoleAssignment) -> None:
    require(actor, ROLES_ASSIGN)
    with transaction.atomic():
        _role_revoke(actor=actor, assignment=assignment)


def _role_revoke(*, actor: User, assignment: RoleAssignment) -> None:
    audit_record(
        action="access.role.revoke",
        actor=actor,
        target=assignment,
        detail={
            "user": assignment.user.username,
            "role": assignment.role.code,
            "scope": assignment.scope,
        },
    )
    assignment.delete()
