"""The orgs admin saves through the services: paths computed, moves rewrite subtrees,
validation errors shown on the form, every change audited with the acting user."""

from __future__ import annotations

import pytest

from tongban.platform.access.models import Permission, Role, RoleAssignment, Scope
from tongban.platform.access.permissions import ORGS_MANAGE, ORGS_VIEW
from tongban.platform.access.services import access_sync_permissions
from tongban.platform.accounts.idnumbers import make_uscc
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry
from tongban.platform.orgs import services
from tongban.platform.orgs.models import DivisionLevel, Unit

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client) -> User:
    access_sync_permissions()
    role = Role.objects.create(code="org_manager", name="组织机构管理")
    role.permissions.set(Permission.objects.filter(code__in=[ORGS_VIEW, ORGS_MANAGE]))
    user = User.objects.create_user(
        "orgadmin", "Test@2026x", display_name="组织管理员", kind="staff", is_staff=True
    )
    RoleAssignment.objects.create(user=user, role=role, scope=Scope.ALL)
    client.force_login(user)
    return user


@pytest.fixture
def departments():
    city = services.division_create(
        actor=None, code="990100000000", name="示范市", level=DivisionLevel.CITY
    )
    police = services.department_create(
        actor=None,
        division=city,
        code="GAJ",
        uscc=make_uscc("1", "1", "990100", "K0000001X"),
        name="示范市公安局",
    )
    civil = services.department_create(
        actor=None,
        division=city,
        code="MZJ",
        uscc=make_uscc("1", "1", "990100", "K0000002X"),
        name="示范市民政局",
    )
    return police, civil


def test_adding_a_unit_in_the_admin_goes_through_the_service(client, manager, departments):
    police, _ = departments
    team = services.unit_create(actor=None, department=police, code="GAJ-ZA", name="治安支队")
    response = client.post(
        "/admin/orgs/unit/add/",
        {
            "department": police.pk,
            "parent": team.pk,
            "code": "GAJ-HZ",
            "name": "户政科",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    unit = Unit.objects.get(code="GAJ-HZ")
    assert (unit.path, unit.department_path) == ("/GAJ-ZA/GAJ-HZ/", "/GAJ/")
    entry = AuditEntry.objects.get(action="orgs.unit.create", actor_label="orgadmin")
    assert entry.object_id == str(unit.pk)


def test_a_parent_from_another_department_is_a_form_error(client, manager, departments):
    police, civil = departments
    office = services.unit_create(actor=None, department=civil, code="MZJ-BGS", name="办公室")
    response = client.post(
        "/admin/orgs/unit/add/",
        {
            "department": police.pk,
            "parent": office.pk,
            "code": "GAJ-X",
            "name": "某科",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "上级科室必须属于同一部门" in response.content.decode()
    assert not Unit.objects.filter(code="GAJ-X").exists()


def test_changing_the_parent_in_the_admin_moves_the_subtree(client, manager, departments):
    police, _ = departments
    first = services.unit_create(actor=None, department=police, code="A", name="一处")
    second = services.unit_create(actor=None, department=police, code="B", name="二处")
    child = services.unit_create(actor=None, department=police, code="C", name="一科", parent=first)
    leaf = services.unit_create(actor=None, department=police, code="D", name="一组", parent=child)
    response = client.post(
        f"/admin/orgs/unit/{child.pk}/change/",
        {"parent": second.pk, "name": "一科（新）", "is_active": "on"},
    )
    assert response.status_code == 302
    child.refresh_from_db()
    leaf.refresh_from_db()
    assert (child.name, child.path, leaf.path) == ("一科（新）", "/B/C/", "/B/C/D/")
    actions = list(
        AuditEntry.objects.filter(actor_label="orgadmin")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["orgs.unit.update", "orgs.unit.move"]


def test_viewers_without_orgs_manage_cannot_add(client, departments):
    access_sync_permissions()
    role = Role.objects.create(code="org_viewer", name="查看")
    role.permissions.set(Permission.objects.filter(code=ORGS_VIEW))
    viewer = User.objects.create_user(
        "viewer", "Test@2026x", display_name="查看者", kind="staff", is_staff=True
    )
    RoleAssignment.objects.create(user=viewer, role=role, scope=Scope.ALL)
    client.force_login(viewer)
    assert client.get("/admin/orgs/unit/").status_code == 200
    police, _ = departments
    response = client.post(
        "/admin/orgs/unit/add/", {"department": police.pk, "code": "Z", "name": "某科"}
    )
    assert response.status_code == 403
    assert not Unit.objects.filter(code="Z").exists()
