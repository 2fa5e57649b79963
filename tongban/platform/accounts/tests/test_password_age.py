"""Passwords that must be changed before anything else (等保 8.1.4.1: periodic change;
an initial password set by an administrator is changed at first sign-in)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories
from tongban.platform.access.models import Scope
from tongban.platform.access.permissions import USERS_MANAGE
from tongban.platform.accounts.models import User
from tongban.platform.accounts.services import password_change_reason, staff_create
from tongban.platform.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

NEW = "Changed#2026a"


def _aged(user: User, days: int) -> User:
    user.password_changed_at = timezone.now() - dt.timedelta(days=days)
    user.save(update_fields=["password_changed_at"])
    return user


def test_a_staff_password_older_than_the_limit_must_be_changed_first(client, settings):
    settings.TONGBAN_PASSWORD_MAX_AGE_DAYS = 90
    user = _aged(factories.staff("old_pw"), 91)
    client.force_login(user)
    page = client.get("/accounts/security/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/password/"
    form = client.get("/accounts/password/")
    assert form.status_code == 200
    assert "已超过 90 天未修改".encode() in form.content
    # the session's API calls are refused too, with a reason a client can act on
    api = client.get("/api/platform/me")
    assert api.status_code == 403
    assert api.json()["code"] == "password_change_required"
    # changing it opens everything again; the change is audited
    done = client.post(
        "/accounts/password/", {"old_password": factories.PASSWORD, "new_password": NEW}
    )
    assert done.status_code == 302
    assert client.get("/accounts/security/").status_code == 200
    assert AuditEntry.objects.filter(action="accounts.password.change", actor_id=user.pk).exists()


def test_a_young_password_a_citizen_and_an_unknown_age_are_not_forced(client, settings):
    settings.TONGBAN_PASSWORD_MAX_AGE_DAYS = 90
    young = _aged(factories.staff("young_pw"), 89)
    citizen = _aged(factories.citizen("old_citizen"), 400)  # the public's do not expire
    unknown = factories.staff("unknown_pw")  # no password_changed_at: age unknown
    for user in (young, citizen, unknown):
        assert password_change_reason(user) == ""
    client.force_login(young)
    assert client.get("/accounts/security/").status_code == 200


def test_zero_days_turns_the_age_limit_off(settings):
    settings.TONGBAN_PASSWORD_MAX_AGE_DAYS = 0
    assert password_change_reason(_aged(factories.staff("never"), 3650)) == ""


def test_an_initial_password_from_the_administrator_is_changed_at_first_sign_in(client):
    manager = factories.staff(
        "user_manager", role_obj=factories.role("um", [USERS_MANAGE]), scope=Scope.ALL
    )
    created = staff_create(
        actor=manager, username="new_clerk", display_name="新窗口人员", password="Initial#2026"
    )
    assert created.password_change_required
    assert password_change_reason(created) == "initial"
    signed_in = client.post(
        "/accounts/login/", {"username": "new_clerk", "password": "Initial#2026"}
    )
    assert signed_in.status_code == 302
    page = client.get("/accounts/security/", follow=True)
    assert page.redirect_chain[-1][0] == "/accounts/password/"
    assert "由管理员设置".encode() in page.content
    # the same password again is not a change
    same = client.post(
        "/accounts/password/", {"old_password": "Initial#2026", "new_password": "Initial#2026"}
    )
    assert same.status_code == 200
    assert "新密码不能与原密码相同".encode() in same.content
    created.refresh_from_db()
    assert created.password_change_required
    client.post("/accounts/password/", {"old_password": "Initial#2026", "new_password": NEW})
    created.refresh_from_db()
    assert not created.password_change_required
    assert client.get("/accounts/security/").status_code == 200
