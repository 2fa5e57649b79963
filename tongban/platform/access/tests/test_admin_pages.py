"""Who may do what in the admin (三权分立), through the admin pages."""

from __future__ import annotations

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories
from tongban.platform.access.models import Role, RoleAssignment
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry


def _sign_in_verified(client, user: User) -> None:
    """Signed in with the second factor passed (the admin needs it for administrators)."""
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def people(db):
    return {
        "system": factories.staff("sysadm", admin_role="system_admin"),
        "security": factories.staff("secadm", admin_role="security_admin"),
        "auditor": factories.staff("auditor", admin_role="auditor"),
        "clerk": factories.staff("clerk1", name="办事员"),
        "role": factories.role("window", ["ui.workbench"]),
    }


def _assignment_form(user: User, role: Role) -> dict[str, str]:
    return {
        "user": str(user.pk),
        "role": str(role.pk),
        "scope": "all",
        "unit": "",
        "department": "",
        "division": "",
        "valid_until_0": "",
        "valid_until_1": "",
    }


def test_admins_without_a_verified_second_factor_are_sent_to_it(client, people):
    client.force_login(people["system"])
    assert client.get("/admin/")["Location"] == "/accounts/mfa/"


def test_the_system_administrator_manages_users_but_cannot_assign_roles(client, people):
    _sign_in_verified(client, people["system"])
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newclerk",
            "display_name": "新同事",
            "email": "",
            "mobile_number": "13812345678",
            "password": "Welcome#2026",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="newclerk")
    assert (created.kind, created.admin_role, created.mobile_masked) == ("staff", "", "138****5678")
    assert AuditEntry.objects.get(action="accounts.user.create").actor_id == people["system"].pk
    clerk = people["clerk"]
    response = client.post(
        f"/admin/accounts/user/{clerk.pk}/change/",
        {"display_name": "改名", "email": "", "is_active": "", "mobile_number": ""},
    )
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert (clerk.display_name, clerk.is_active) == ("改名", False)
    update = AuditEntry.objects.get(action="accounts.user.update")
    assert '"display_name"' in update.detail
    assert '"is_active"' in update.detail
    assert client.get("/admin/access/roleassignment/").status_code == 200  # may look
    assert client.get("/admin/access/roleassignment/add/").status_code == 403
    refused = client.post(
        "/admin/access/roleassignment/add/", _assignment_form(clerk, people["role"])
    )
    assert refused.status_code == 403
    assert not RoleAssignment.objects.exists()
    assert client.post(f"/admin/access/role/{people['role'].pk}/change/", {}).status_code == 403


def test_a_weak_password_is_refused_in_the_admin(client, people):
    _sign_in_verified(client, people["system"])
    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "weak", "display_name": "弱", "email": "", "password": "abcdefgh"},
    )
    assert response.status_code == 200
    assert "密码至少包含大写字母、小写字母、数字、符号中的3种".encode() in response.content
    assert not User.objects.filter(username="weak").exists()


def test_the_security_administrator_assigns_roles_through_the_service(client, people):
    _sign_in_verified(client, people["security"])
    clerk = people["clerk"]
    response = client.post(
        "/admin/access/roleassignment/add/", _assignment_form(clerk, people["role"])
    )
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=clerk)
    assert assignment.granted_by == people["security"]
    assigned = AuditEntry.objects.get(action="access.role.assign")
    assert (assigned.actor_id, assigned.object_id) == (people["security"].pk, str(assignment.pk))
    own = client.post(
        "/admin/access/roleassignment/add/",
        _assignment_form(people["security"], people["role"]),
    )
    assert own.status_code == 200
    assert "不能为自己分配角色".encode() in own.content
    response = client.post(f"/admin/access/roleassignment/{assignment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RoleAssignment.objects.exists()
    assert AuditEntry.objects.filter(action="access.role.revoke").count() == 1
    # Users: read-only for the security administrator.
    assert (
        client.post(f"/admin/accounts/user/{clerk.pk}/change/", {"display_name": "x"}).status_code
        == 403
    )
    assert client.get("/admin/accounts/user/add/").status_code == 403


def test_the_auditor_changes_nothing(client, people):
    _sign_in_verified(client, people["auditor"])
    clerk = people["clerk"]
    page = client.get(f"/admin/accounts/user/{clerk.pk}/change/")
    assert page.status_code == 200
    assert b'name="display_name"' not in page.content  # shown read-only
    assert (
        client.post(f"/admin/accounts/user/{clerk.pk}/change/", {"display_name": "x"}).status_code
        == 403
    )
    assert client.get("/admin/accounts/user/add/").status_code == 403
    assert (
        client.post(
            "/admin/access/roleassignment/add/", _assignment_form(clerk, people["role"])
        ).status_code
        == 403
    )
    assert client.post(f"/admin/access/role/{people['role'].pk}/change/", {}).status_code == 403
    clerk.refresh_from_db()
    assert clerk.display_name == "办事员"
    assert not RoleAssignment.objects.exists()


def test_person_admin_shows_the_masked_id_only(client, people):
    person = factories.person("赵六")
    viewer_role = factories.role("person-viewer", ["accounts.person.view", "accounts.user.view"])
    viewer = people["clerk"]
    RoleAssignment.objects.create(user=viewer, role=viewer_role, scope="all")
    User.objects.filter(pk=viewer.pk).update(is_staff=True)
    client.force_login(viewer)
    listing = client.get("/admin/accounts/naturalperson/")
    assert listing.status_code == 200
    assert person.id_number_masked.encode() in listing.content
    assert str(person.id_number).encode() not in listing.content
    detail = client.get(f"/admin/accounts/naturalperson/{person.pk}/change/")
    assert detail.status_code == 200
    assert str(person.id_number).encode() not in detail.content
    assert client.post(f"/admin/accounts/naturalperson/{person.pk}/change/", {}).status_code == 403
