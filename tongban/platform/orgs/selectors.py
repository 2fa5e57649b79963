"""Reads of the organisation tree. Each selector is one query: a subtree is the range
``path >= p AND path < p + '~'`` on an indexed materialised path (see
docs/decisions/0007-org-trees.md). Querysets are lazy; evaluating one runs one query."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from tongban.platform.orgs.models import PATH_END, Department, Division, Posting, Unit

if TYPE_CHECKING:
    from tongban.platform.accounts.models import User


def _in_subtree(field: str, path: str) -> Q:
    return Q(**{f"{field}__gte": path, f"{field}__lt": path + PATH_END})


def divisions_under(division: Division) -> QuerySet[Division]:
    """The division and every division below it, ordered by code."""
    return Division.objects.filter(_in_subtree("path", division.path)).order_by("code")


def departments_of_division(
    division: Division, *, include_subdivisions: bool = True
) -> QuerySet[Department]:
    """Departments of a division, and by default of every division below it."""
    if include_subdivisions:
        condition = _in_subtree("division_path", division.path)
    else:
        condition = Q(division_path=division.path)
    return Department.objects.filter(condition).order_by("division_path", "path")


def departments_under(department: Department) -> QuerySet[Department]:
    """The department and its subordinate departments (区局 under 市局)."""
    return Department.objects.filter(_in_subtree("path", department.path)).order_by("path")


def units_under(unit: Unit) -> QuerySet[Unit]:
    """The unit and every unit below it, in tree order."""
    return Unit.objects.filter(_in_subtree("path", unit.path)).order_by("path")


def units_of_department(
    department: Department, *, include_subordinate_departments: bool = False
) -> QuerySet[Unit]:
    """A department's units; optionally also those of its subordinate departments."""
    if include_subordinate_departments:
        condition = _in_subtree("department_path", department.path)
    else:
        condition = Q(department_path=department.path)
    return Unit.objects.filter(condition).order_by("department_path", "path")


def staff_of_unit(unit: Unit, *, include_subunits: bool = True) -> QuerySet[User]:
    """Active staff posted (primary or not) to the unit, by default also to units below it.

    One query: an EXISTS over postings joined to the unit's indexed path.
    """
    if include_subunits:
        postings = Posting.objects.filter(_in_subtree("unit__path", unit.path), user=OuterRef("pk"))
    else:
        postings = Posting.objects.filter(unit=unit, user=OuterRef("pk"))
    user_model: type[User] = get_user_model()  # type: ignore[assignment]
    return user_model.objects.filter(Exists(postings), kind="staff", is_active=True).order_by(
        "display_name", "username"
    )


def postings_of_unit(unit: Unit, *, include_subunits: bool = True) -> QuerySet[Posting]:
    """Postings in the unit (and below), with user, unit and position loaded."""
    condition = _in_subtree("unit__path", unit.path) if include_subunits else Q(unit=unit)
    return (
        Posting.objects.filter(condition)
        .select_related("user", "unit", "position")
        .order_by("unit__path", "position__rank", "user__display_name")
    )


def primary_posting(user: User) -> Posting | None:
    """The user's primary posting with its unit, department, division and position."""
    return (
        Posting.objects.select_related("unit__department__division", "position")
        .filter(user=user, is_primary=True)
        .first()
    )
