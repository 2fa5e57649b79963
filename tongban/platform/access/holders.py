"""Who in a department holds a permission: the people to tell about work waiting there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from tongban.platform.access.models import RoleAssignment, Scope


def department_holders(
    permission: str, department_ids: Iterable[int], *, limit: int = 50
) -> dict[int, list[Any]]:
    """Active users holding ``permission`` through a live grant anchored in each department:
    department or department-tree scope on it, unit or unit-tree scope on one of its units.
    City-wide and division grants are left out (the people who work there, not every
    administrator above them). At most ``limit`` users per department, by user id."""
    ids = set(department_ids)
    if not ids:
        return {}
    now = timezone.now()
    assignments = (
        RoleAssignment.objects.filter(role__permissions__code=permission, user__is_active=True)
        .filter(
            Q(scope__in=(Scope.DEPARTMENT, Scope.DEPARTMENT_TREE), department_id__in=ids)
            | Q(scope__in=(Scope.UNIT, Scope.UNIT_TREE), unit__department_id__in=ids)
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .select_related("user", "unit")
        .order_by("user_id")
    )
    found: dict[int, dict[int, Any]] = {}
    for assignment in assignments:
        if assignment.scope in (Scope.DEPARTMENT, Scope.DEPARTMENT_TREE):
            department_id = assignment.department_id
        else:
            department_id = assignment.unit.department_id if assignment.unit else None
        if department_id is None:
            continue
        people = found.setdefault(department_id, {})
        if len(people) < limit:
            people.setdefault(assignment.user_id, assignment.user)
    return {department_id: list(people.values()) for department_id, people in found.items()}
