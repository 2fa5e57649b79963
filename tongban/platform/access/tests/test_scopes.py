"""scope_queryset for every scope over a small org tree built with the orgs services."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from tests import factories
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.access.permissions import ORGS_VIEW, PERSON_REVEAL_ID
from tongban.platform.access.services import ScopePaths, require, scope_queryset
from tongban.platform.accounts.idnumbers import make_uscc
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.orgs import services as orgs
from tongban.platform.orgs.models import Position, Posting

PATHS = ScopePaths(owner="user", unit="unit")


def _uscc(number: int) -> str:
    return make_uscc("1", "1", "990100", f"{number:08d}0")


@pytest.fixture
def tree(db):
    """City ⊃ district. City bureau D1 ⊃ district branch D2; D1 has unit U1 ⊃ U1a; D3 is
    another city bureau. One member of staff posted in each unit."""
    city = orgs.division_create(actor=None, code="990100000000", name="示范市", level=2)
    district = orgs.division_create(
        actor=None, code="990102000000", name="示范区", level=3, parent=city
    )
    d1 = orgs.department_create(actor=None, division=city, code="D1", uscc=_uscc(1), name="民政局")
    d2 = orgs.department_create(
        actor=None, division=district, code="D2", uscc=_uscc(2), name="区民政局", parent=d1
    )
    d3 = orgs.department_create(actor=None, division=city, code="D3", uscc=_uscc(3), name="税务局")
    u1 = orgs.unit_create(actor=None, department=d1, code="U1", name="社会救助科")
    u1a = orgs.unit_create(actor=None, department=d1, code="U1a", name="低保组", parent=u1)
    u2 = orgs.unit_create(actor=None, department=d2, code="U2", name="区救助股")
    u3 = orgs.unit_create(actor=None, department=d3, code="U3", name="征管科")
    assert (u1a.path, u1a.department_path, u2.department_path, u2.division_path) == (
        "/U1/U1a/",
        "/D1/",
        "/D1/D2/",
        "/990100000000/990102000000/",
    )
    position = Position.objects.create(code="clerk", name="科员")
    postings = {}
    for unit in (u1, u1a, u2, u3):
        user = User.objects.create_user(f"s-{unit.code}", display_name=unit.code, kind="staff")
        postings[unit.code] = Posting.objects.create(user=user, unit=unit, position=position)
    return {
        "city": city,
        "district": district,
        "d1": d1,
        "d2": d2,
        "d3": d3,
        "units": {"U1": u1, "U1a": u1a, "U2": u2, "U3": u3},
        "postings": postings,
    }


def _visible(tree, scope: str, **anchor) -> set[str]:
    viewer = User.objects.create_user(f"viewer-{scope}", display_name="v", kind="staff")
    role = factories.role(f"r-{scope}", [ORGS_VIEW])
    RoleAssignment.objects.create(user=viewer, role=role, scope=scope, **anchor)
    # The "self" scope: the viewer's own posting.
    Posting.objects.create(
        user=viewer, unit=tree["units"]["U3"], position=Position.objects.get(code="clerk")
    )
    rows = scope_queryset(viewer, Posting.objects.all(), ORGS_VIEW, PATHS)
    return {f"{p.user.username}@{p.unit.code}" for p in rows.select_related("user", "unit")}


def _staff(*codes: str) -> set[str]:
    return {f"s-{code}@{code}" for code in codes}


def test_self_scope(tree):
    assert _visible(tree, Scope.SELF) == {"viewer-self@U3"}


def test_unit_scope(tree):
    assert _visible(tree, Scope.UNIT, unit=tree["units"]["U1"]) == _staff("U1")


def test_unit_tree_scope(tree):
    assert _visible(tree, Scope.UNIT_TREE, unit=tree["units"]["U1"]) == _staff("U1", "U1a")


def test_department_scope(tree):
    assert _visible(tree, Scope.DEPARTMENT, department=tree["d1"]) == _staff("U1", "U1a")


def test_department_tree_scope(tree):
    assert _visible(tree, Scope.DEPARTMENT_TREE, department=tree["d1"]) == _staff("U1", "U1a", "U2")


def test_division_scope(tree):
    assert _visible(tree, Scope.DIVISION, division=tree["district"]) == _staff("U2")
    # The city contains the district: everyone, both viewers included (posted in U3).
    assert _visible_city(tree) == _staff("U1", "U1a", "U2", "U3") | {
        "viewer-division@U3",
        "viewer-division2@U3",
    }


def _visible_city(tree) -> set[str]:
    viewer = User.objects.create_user("viewer-division2", display_name="v", kind="staff")
    role = factories.role("r-division2", [ORGS_VIEW])
    RoleAssignment.objects.create(
        user=viewer, role=role, scope=Scope.DIVISION, division=tree["city"]
    )
    Posting.objects.create(
        user=viewer, unit=tree["units"]["U3"], position=Position.objects.get(code="clerk")
    )
    rows = scope_queryset(viewer, Posting.objects.all(), ORGS_VIEW, PATHS)
    return {f"{p.user.username}@{p.unit.code}" for p in rows.select_related("user", "unit")}


def test_all_scope(tree):
    assert _visible(tree, Scope.ALL) == _staff("U1", "U1a", "U2", "U3") | {"viewer-all@U3"}


def test_no_grant_sees_nothing(tree):
    nobody = User.objects.create_user("nobody", display_name="n", kind="staff")
    assert not scope_queryset(nobody, Posting.objects.all(), ORGS_VIEW, PATHS).exists()


def test_a_denied_require_writes_an_audit_entry_with_outcome_denied(tree):
    clerk = tree["postings"]["U1"].user
    with pytest.raises(PermissionDenied):
        require(clerk, PERSON_REVEAL_ID)
    entry = AuditEntry.objects.get(outcome="denied")
    assert (entry.action, entry.actor_id) == (PERSON_REVEAL_ID, clerk.pk)


@pytest.mark.django_db
def test_the_system_admin_and_auditor_cannot_be_given_the_role_assignment_power():
    from tests import factories
    from tongban.platform.access.permissions import ROLES_ASSIGN
    from tongban.platform.access.services import AssignmentError, role_assign

    security = factories.staff("sec", admin_role="security_admin")
    assigner = factories.role("assigner", [ROLES_ASSIGN])
    for admin_role in ("system_admin", "auditor"):
        target = factories.staff(f"t-{admin_role}", admin_role=admin_role)
        with pytest.raises(AssignmentError):
            role_assign(actor=security, user=target, role=assigner, scope="all")
        assert not target.role_assignments.exists()
