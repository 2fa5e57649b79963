"""Natural and legal persons, agents acting for enterprises, tokens, createadmin."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests import factories
from tongban.platform.access.permissions import ROLES_ASSIGN
from tongban.platform.accounts import services
from tongban.platform.accounts.api_auth import TokenAuth
from tongban.platform.accounts.idnumbers import (
    InvalidIdNumber,
    make_resident_id,
    make_uscc,
    validate_resident_id,
    validate_uscc,
)
from tongban.platform.accounts.middleware import ACTING_FOR_SESSION_KEY
from tongban.platform.accounts.models import AccessToken, LegalPerson, NaturalPerson, User
from tongban.platform.audit.models import AuditEntry


def test_resident_ids_built_by_make_resident_id_validate_and_known_bad_ones_do_not():
    good = make_resident_id("440106", dt.date(1985, 12, 31), 124)
    assert validate_resident_id(good) == good
    assert validate_resident_id("11010519491231002X") == "11010519491231002X"
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as error:
        validate_resident_id(bad_check)
    assert error.value.code == "check_char"
    assert str(error.value) == "公民身份号码校验码错误"
    with pytest.raises(InvalidIdNumber) as error:
        validate_resident_id("440106" + "19850230" + "124" + "0")  # 30 February
    assert error.value.code == "birth_date"
    with pytest.raises(InvalidIdNumber) as error:
        validate_resident_id("4401061985123")
    assert error.value.code == "format"


def test_uscc_check_character_and_forbidden_letters():
    good = make_uscc("9", "1", "440100", "MA5C12345")
    assert validate_uscc(good.lower()) == good
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"  # published sample
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidIdNumber) as error:
        validate_uscc(wrong)
    assert error.value.code == "check_char"
    for letter in "IOZSV":
        with pytest.raises(InvalidIdNumber) as error:
            validate_uscc(good[:10] + letter + good[11:])
        assert error.value.code == "format"


@pytest.mark.django_db
def test_person_register_derives_gender_and_birth_date_and_refuses_duplicates():
    number = make_resident_id("440103", dt.date(1992, 3, 4), 42)  # even sequence: female
    person = services.person_register(
        actor=None, name=" 陈红 ", id_number=number.lower(), address="示范路1号"
    )
    assert (person.name, person.gender, person.birth_date) == ("陈红", "F", dt.date(1992, 3, 4))
    assert person.id_number_masked == f"4401**********{number[-4:]}"
    assert services.person_find_by_id_number(number) == person
    assert services.person_find_by_id_number(number.lower()) == person
    assert (
        services.person_find_by_id_number(make_resident_id("440103", dt.date(1992, 3, 4), 44))
        is None
    )
    registered = AuditEntry.objects.get(action="accounts.person.register")
    assert number not in registered.detail
    with pytest.raises(ValidationError) as error:
        services.person_register(actor=None, name="陈红", id_number=number)
    assert error.value.message_dict == {"id_number": ["该公民身份号码已登记"]}
    with pytest.raises(ValidationError) as error:
        services.person_register(
            actor=None,
            name="陈红",
            id_number=make_resident_id("440103", dt.date(1992, 3, 4), 46),
            gender="M",
        )
    assert error.value.message_dict == {"gender": ["性别与公民身份号码不符"]}
    with pytest.raises(ValidationError) as error:
        services.person_register(actor=None, name="某", id_number="440103199203040001")
    assert error.value.message_dict == {"id_number": ["公民身份号码校验码错误"]}
    assert NaturalPerson.objects.count() == 1


@pytest.mark.django_db
def test_registration_shows_errors_per_field_in_chinese(client):
    factories.citizen("taken")
    response = client.post(
        "/accounts/register/",
        {
            "username": "taken",
            "password": "short",
            "name": "王芳",
            "id_number": "440103199203040001",
            "mobile": "13800001111",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["username"] == ["该用户名已被使用"]
    assert errors["id_number"] == ["公民身份号码校验码错误"]
    assert "密码至少包含大写字母、小写字母、数字、符号中的3种" in errors["password"]
    assert "公民身份号码校验码错误".encode() in response.content
    bad_mobile = client.post(
        "/accounts/register/",
        {
            "username": "fresh",
            "password": "Strong@2026",
            "name": "王芳",
            "id_number": make_resident_id("440103", dt.date(1990, 1, 1), 11),
            "mobile": "12345",
        },
    )
    assert bad_mobile.context["form"].errors == {"mobile": ["请输入11位手机号码"]}
    assert User.objects.count() == 1
    assert NaturalPerson.objects.count() == 1


@pytest.mark.django_db
def test_legal_person_register_validates_the_uscc_and_refuses_duplicates():
    code = make_uscc("9", "1", "440100", "MA5C12345")
    company = services.legal_person_register(
        actor=None,
        name="示范科技有限公司",
        uscc=code,
        kind="enterprise",
        legal_representative="李四",
    )
    assert LegalPerson.objects.get(uscc=code) == company
    with pytest.raises(ValidationError) as error:
        services.legal_person_register(
            actor=None,
            name="另一家",
            uscc=code.lower(),
            kind="enterprise",
            legal_representative="王五",
        )
    assert error.value.message_dict == {"uscc": ["该统一社会信用代码已登记"]}
    with pytest.raises(ValidationError) as error:
        services.legal_person_register(
            actor=None, name="", uscc=code[:17] + "Z", kind="bogus", legal_representative=""
        )
    assert set(error.value.message_dict) == {"name", "uscc", "kind", "legal_representative"}
    assert LegalPerson.objects.count() == 1
    assert AuditEntry.objects.filter(action="accounts.legal_person.register").count() == 1


@pytest.mark.django_db
def test_acting_for_is_dropped_when_the_authorisation_expires(client):
    agent = factories.citizen("agent2", "孙八")
    company = factories.enterprise()
    today = timezone.localdate()
    authorisation = services.agent_authorise(
        actor=None, agent=agent, legal_person=company, valid_from=today, valid_until=today
    )
    assert AuditEntry.objects.get(action="accounts.agent.authorise").object_id == str(
        authorisation.pk
    )
    client.force_login(agent)
    client.post("/accounts/act-for/", {"authorisation": str(authorisation.pk)})
    assert client.session[ACTING_FOR_SESSION_KEY] == authorisation.pk
    client.post("/accounts/password/", {"old_password": "x", "new_password": "y"})
    authorisation.valid_until = today - dt.timedelta(days=1)
    authorisation.valid_from = today - dt.timedelta(days=2)
    authorisation.save()
    client.get("/accounts/security/")
    assert ACTING_FOR_SESSION_KEY not in client.session
    with pytest.raises(ValidationError):
        services.agent_authorise(
            actor=None,
            agent=agent,
            legal_person=company,
            valid_from=today,
            valid_until=today - dt.timedelta(days=1),
        )


@pytest.mark.django_db
def test_an_audit_entry_written_while_acting_for_records_actor_and_legal_person(client):
    agent = factories.citizen("agent3", "周九")
    company = factories.enterprise("示范市代理测试有限公司")
    authorisation = services.agent_authorise(
        actor=None, agent=agent, legal_person=company, valid_from=dt.date(2020, 1, 1)
    )
    client.force_login(agent)
    client.post("/accounts/act-for/", {"authorisation": str(authorisation.pk)})
    client.post("/accounts/security/", {"action": "token", "tk-name": "erp"})
    entry = AuditEntry.objects.get(action="accounts.token.create")
    assert entry.actor_id == agent.pk
    assert (entry.acting_for_type, entry.acting_for_id, entry.acting_for_label) == (
        "legal_person",
        str(company.pk),
        "示范市代理测试有限公司",
    )
    services.agent_revoke(actor=None, authorisation=authorisation)
    with pytest.raises(ValidationError):
        services.agent_revoke(actor=None, authorisation=authorisation)
    client.get("/accounts/security/")
    assert ACTING_FOR_SESSION_KEY not in client.session


@pytest.mark.django_db
def test_tokens_valid_expired_revoked_and_inactive(rf):
    user = factories.citizen()
    token, secret = services.token_create(actor=user, user=user, name="ci")
    assert len(secret) >= 43
    assert token.prefix == secret[:10]
    assert len(token.token_hash) == 64
    auth = TokenAuth()
    request = rf.get("/api/platform/me")
    assert auth.authenticate(request, secret) == user
    assert request.user == user
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert auth.authenticate(rf.get("/"), "tb_wrong") is None
    AccessToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert auth.authenticate(rf.get("/"), secret) is None
    AccessToken.objects.filter(pk=token.pk).update(expires_at=None)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert auth.authenticate(rf.get("/"), secret) is None
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert auth.authenticate(rf.get("/"), secret) == user
    services.token_revoke(actor=user, token=token)
    assert auth.authenticate(rf.get("/"), secret) is None
    with pytest.raises(ValidationError):
        services.token_revoke(actor=user, token=token)


@pytest.mark.django_db
def test_tokens_for_someone_else_need_user_management_and_admins_get_none():
    owner = factories.citizen("owner")
    other = factories.citizen("other", "李四")
    with pytest.raises(PermissionDenied):
        services.token_create(actor=other, user=owner, name="x")
    assert AuditEntry.objects.get(outcome="denied").action == "accounts.user.manage"
    assert not AccessToken.objects.exists()
    admin = factories.staff("sysadm", admin_role="system_admin")
    with pytest.raises(ValidationError) as error:
        services.token_create(actor=admin, user=admin, name="x")
    assert error.value.message_dict == {"name": ["管理员账号不能创建访问令牌"]}


@pytest.mark.django_db
def test_the_security_page_creates_shows_once_and_revokes_tokens(client):
    user = factories.citizen()
    client.force_login(user)
    created = client.post("/accounts/security/", {"action": "token", "tk-name": "erp"})
    secret = created.context["new_secret"]
    assert secret.startswith("tb_")
    assert secret.encode() in created.content
    token = AccessToken.objects.get(user=user)
    assert secret.encode() not in client.get("/accounts/security/").content
    client.post("/accounts/security/", {"action": "revoke", "token": str(token.pk)})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.filter(action="accounts.token.revoke", actor_id=user.pk).count() == 1


@pytest.mark.django_db
def test_createadmin_creates_each_administrator_and_checks_the_policy(monkeypatch):
    call_command(
        "createadmin", role="security_admin", username="sec", name="安全员", password="Secure#2026"
    )
    sec = User.objects.get(username="sec")
    assert (sec.kind, sec.admin_role, sec.is_staff) == ("staff", "security_admin", True)
    assert sec.check_password("Secure#2026")
    entry = AuditEntry.objects.get(action="accounts.admin.create")
    assert entry.actor_id is None
    assert json.loads(entry.detail) == {"admin_role": "security_admin", "source": "command"}
    monkeypatch.setenv("TONGBAN_ADMIN_PASSWORD", "Audit#2026x")
    call_command("createadmin", role="auditor", username="aud", name="审计员")
    assert User.objects.get(username="aud").check_password("Audit#2026x")
    monkeypatch.delenv("TONGBAN_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="password"):
        call_command(
            "createadmin", role="system_admin", username="weak", name="弱", password="password"
        )
    assert not User.objects.filter(username="weak").exists()


@pytest.mark.django_db
def test_createadmin_keeps_the_three_roles_apart():
    staff = factories.staff("both")
    call_command("createadmin", role="system_admin", username="both")
    staff.refresh_from_db()
    assert staff.admin_role == "system_admin"
    with pytest.raises(CommandError, match="只能担任一种管理员角色"):
        call_command("createadmin", role="auditor", username="both")
    staff.refresh_from_db()
    assert staff.admin_role == "system_admin"
    division = factories.division()
    unit = factories.unit(factories.department(division, "D1", "人社局"), "D1-U1", "人事科")
    assigner = factories.staff("assigner", unit, role_obj=factories.role("hr", [ROLES_ASSIGN]))
    with pytest.raises(CommandError, match="分配角色的权限"):
        call_command("createadmin", role="auditor", username="assigner")
    assigner.refresh_from_db()
    assert assigner.admin_role == ""
    citizen = factories.citizen("pub")
    with pytest.raises(CommandError, match="只有工作人员"):
        call_command("createadmin", role="auditor", username="pub")
    citizen.refresh_from_db()
    assert citizen.admin_role == ""
    assert AuditEntry.objects.filter(action="accounts.admin_role.grant").count() == 1


@pytest.mark.django_db
def test_token_use_is_recorded_at_most_once_a_minute(django_assert_num_queries):
    user = factories.citizen()
    token, secret = services.token_create(actor=user, user=user, name="ci")
    assert services.token_authenticate(secret) == user
    token.refresh_from_db()
    first = token.last_used_at
    with django_assert_num_queries(1):  # the lookup only: no UPDATE within the minute
        assert services.token_authenticate(secret) == user
    token.refresh_from_db()
    assert token.last_used_at == first
    AccessToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    with django_assert_num_queries(2):
        services.token_authenticate(secret)
    token.refresh_from_db()
    assert token.last_used_at > first
