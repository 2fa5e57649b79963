"""Organisation services: path maintenance, validation, moves, permissions and audit."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied

from tongban.platform.accounts.idnumbers import make_uscc
from tongban.platform.accounts.models import User
from tongban.platform.audit.models import AuditEntry, Outcome
from tongban.platform.orgs import services
from tongban.platform.orgs.models import (
    Department,
    Division,
    DivisionLevel,
    Position,
    Posting,
    Unit,
    Window,
    WindowKind,
)

pytestmark = pytest.mark.django_db


def _uscc(number: int, area: str = "990100") -> str:
    return make_uscc("1", "1", area, f"K{number:07d}X")


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_user(
        "sysadmin",
        "Test@2026x",
        display_name="系统管理员",
        kind="staff",
        admin_role="system_admin",
    )


@pytest.fixture
def city(admin_user: User) -> Division:
    province = services.division_create(
        actor=admin_user, code="990000000000", name="示范省", level=DivisionLevel.PROVINCE
    )
    return services.division_create(
        actor=admin_user,
        code="990100000000",
        name="示范市",
        level=DivisionLevel.CITY,
        parent=province,
    )


def _last_entry(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).order_by("-seq").first()


def test_division_paths_nest_under_the_parent_and_are_audited(admin_user, city):
    district = services.division_create(
        actor=admin_user,
        code="990102000000",
        name="东湖区",
        level=DivisionLevel.COUNTY,
        parent=city,
    )
    assert city.path == "/990000000000/990100000000/"
    assert district.path == "/990000000000/990100000000/990102000000/"
    entry = _last_entry("orgs.division.create")
    assert entry.actor_label == "sysadmin"
    assert entry.object_id == str(district.pk)
    assert json.loads(entry.detail) == {"code": "990102000000", "level": 3, "name": "东湖区"}
    assert AuditEntry.objects.filter(action="orgs.division.create").count() == 3


def test_division_code_must_be_twelve_digits(admin_user):
    with pytest.raises(services.OrgError) as caught:
        services.division_create(actor=admin_user, code="99010", name="坏", level=2)
    assert caught.value.messages == ["区划代码应为12位数字"]
    assert Division.objects.count() == 0


def test_lower_division_must_have_a_lower_level(admin_user, city):
    with pytest.raises(services.OrgError) as caught:
        services.division_create(
            actor=admin_user, code="990199000000", name="坏", level=2, parent=city
        )
    assert caught.value.code == "division_level_order"


def test_department_paths_follow_parent_department_and_division(admin_user, city):
    district = services.division_create(
        actor=admin_user, code="990102000000", name="东湖区", level=3, parent=city
    )
    market = services.department_create(
        actor=admin_user,
        division=city,
        code="SCJ",
        uscc=_uscc(1),
        name="示范市市场监督管理局",
        short_name="示范市监",
    )
    district_market = services.department_create(
        actor=admin_user,
        division=district,
        code="DH-SCJ",
        uscc=_uscc(2, "990102"),
        name="东湖区市场监督管理局",
        parent=market,
    )
    assert market.path == "/SCJ/"
    assert market.division_path == city.path
    assert district_market.path == "/SCJ/DH-SCJ/"
    assert district_market.division_path == district.path
    entry = _last_entry("orgs.department.create")
    assert json.loads(entry.detail)["parent"] == "SCJ"


def test_department_with_an_invalid_uscc_is_refused_in_chinese(admin_user, city):
    good = _uscc(3)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(services.OrgError) as caught:
        services.department_create(
            actor=admin_user, division=city, code="X", uscc=bad, name="示范市某局"
        )
    assert caught.value.messages == ["统一社会信用代码无效：统一社会信用代码校验码错误"]
    with pytest.raises(services.OrgError) as caught:
        services.department_create(
            actor=admin_user, division=city, code="X", uscc="123", name="示范市某局"
        )
    assert caught.value.code == "uscc"
    assert Department.objects.count() == 0
    assert not AuditEntry.objects.filter(action="orgs.department.create").exists()


@pytest.mark.parametrize("code", ["A/B", "A~B", " "])
def test_codes_may_not_contain_path_characters(admin_user, city, code):
    with pytest.raises(services.OrgError):
        services.department_create(
            actor=admin_user, division=city, code=code, uscc=_uscc(4), name="示范市某局"
        )
    assert Department.objects.count() == 0


def test_unit_paths_and_inherited_department_and_division_paths(admin_user, city):
    department = services.department_create(
        actor=admin_user, division=city, code="GAJ", uscc=_uscc(5), name="示范市公安局"
    )
    team = services.unit_create(
        actor=admin_user, department=department, code="GAJ-ZA", name="治安管理支队"
    )
    section = services.unit_create(
        actor=admin_user, department=department, code="GAJ-HZ", name="户政管理科", parent=team
    )
    assert team.path == "/GAJ-ZA/"
    assert section.path == "/GAJ-ZA/GAJ-HZ/"
    assert section.department_path == "/GAJ/"
    assert section.division_path == "/990000000000/990100000000/"
    entry = _last_entry("orgs.unit.create")
    assert json.loads(entry.detail) == {
        "code": "GAJ-HZ",
        "department": "GAJ",
        "parent": "GAJ-ZA",
    }


def test_unit_parent_must_belong_to_the_same_department(admin_user, city):
    police = services.department_create(
        actor=admin_user, division=city, code="GAJ", uscc=_uscc(6), name="示范市公安局"
    )
    civil = services.department_create(
        actor=admin_user, division=city, code="MZJ", uscc=_uscc(7), name="示范市民政局"
    )
    office = services.unit_create(actor=admin_user, department=police, code="GAJ-B", name="办公室")
    with pytest.raises(services.OrgError) as caught:
        services.unit_create(
            actor=admin_user, department=civil, code="MZJ-X", name="婚姻登记科", parent=office
        )
    assert caught.value.messages == ["上级科室必须属于同一部门"]
    assert Unit.objects.count() == 1


def test_department_move_rewrites_the_subtree_and_its_units(admin_user, city):
    a = services.department_create(
        actor=admin_user, division=city, code="A", uscc=_uscc(8), name="甲局"
    )
    b = services.department_create(
        actor=admin_user, division=city, code="B", uscc=_uscc(9), name="乙局", parent=a
    )
    c = services.department_create(
        actor=admin_user, division=city, code="C", uscc=_uscc(10), name="丙局", parent=b
    )
    other = services.department_create(
        actor=admin_user, division=city, code="Z", uscc=_uscc(11), name="丁局"
    )
    unit_c = services.unit_create(actor=admin_user, department=c, code="C-1", name="办公室")
    unit_a = services.unit_create(actor=admin_user, department=a, code="A-1", name="办公室")

    services.department_move(actor=admin_user, department=b, parent=other)

    paths = dict(Department.objects.values_list("code", "path"))
    assert paths == {"A": "/A/", "B": "/Z/B/", "C": "/Z/B/C/", "Z": "/Z/"}
    unit_c.refresh_from_db()
    unit_a.refresh_from_db()
    assert unit_c.department_path == "/Z/B/C/"
    assert unit_a.department_path == "/A/"
    b.refresh_from_db()
    assert b.parent_id == other.pk
    detail = json.loads(_last_entry("orgs.department.move").detail)
    assert detail == {
        "departments": 2,
        "parent": ["A", "Z"],
        "path": ["/A/B/", "/Z/B/"],
        "units": 1,
    }


def test_a_department_cannot_move_under_its_own_subtree(admin_user, city):
    a = services.department_create(
        actor=admin_user, division=city, code="A", uscc=_uscc(12), name="甲局"
    )
    b = services.department_create(
        actor=admin_user, division=city, code="B", uscc=_uscc(13), name="乙局", parent=a
    )
    with pytest.raises(services.OrgError):
        services.department_move(actor=admin_user, department=a, parent=b)
    a.refresh_from_db()
    assert a.path == "/A/"
    assert a.parent_id is None


def test_unit_move_rewrites_the_subtree_and_refuses_cycles(admin_user, city):
    department = services.department_create(
        actor=admin_user, division=city, code="D", uscc=_uscc(14), name="戊局"
    )
    x = services.unit_create(actor=admin_user, department=department, code="X", name="一处")
    y = services.unit_create(
        actor=admin_user, department=department, code="Y", name="一科", parent=x
    )
    z = services.unit_create(
        actor=admin_user, department=department, code="Z", name="一组", parent=y
    )
    w = services.unit_create(actor=admin_user, department=department, code="W", name="二处")

    services.unit_move(actor=admin_user, unit=y, parent=w)

    assert dict(Unit.objects.values_list("code", "path")) == {
        "W": "/W/",
        "X": "/X/",
        "Y": "/W/Y/",
        "Z": "/W/Y/Z/",
    }
    with pytest.raises(services.OrgError) as caught:
        services.unit_move(actor=admin_user, unit=w, parent=z)
    assert caught.value.code == "parent_cycle"
    assert json.loads(_last_entry("orgs.unit.move").detail)["units"] == 2


def test_an_actor_without_orgs_manage_is_refused_and_the_denial_audited(city):
    clerk = User.objects.create_user("clerk", "Test@2026x", display_name="张三", kind="staff")
    with pytest.raises(PermissionDenied):
        services.department_create(
            actor=clerk, division=city, code="Q", uscc=_uscc(15), name="示范市某局"
        )
    assert Department.objects.count() == 0
    denial = AuditEntry.objects.filter(actor_label="clerk").get()
    assert denial.action == "orgs.manage"
    assert denial.outcome == Outcome.DENIED


def test_a_new_primary_posting_demotes_the_old_one(admin_user, city):
    department = services.department_create(
        actor=admin_user, division=city, code="D", uscc=_uscc(16), name="戊局"
    )
    first = services.unit_create(actor=admin_user, department=department, code="U1", name="一科")
    second = services.unit_create(actor=admin_user, department=department, code="U2", name="二科")
    position = services.position_create(actor=admin_user, code="officer", name="科员")
    person = User.objects.create_user("li", "Test@2026x", display_name="李四", kind="staff")

    old = services.posting_create(actor=admin_user, user=person, unit=first, position=position)
    new = services.posting_create(actor=admin_user, user=person, unit=second, position=position)

    old.refresh_from_db()
    assert old.is_primary is False
    assert new.is_primary is True
    assert Posting.objects.filter(user=person, is_primary=True).get() == new
    assert json.loads(_last_entry("orgs.posting.create").detail)["demoted"] == 1


def test_public_users_cannot_be_posted(admin_user, city):
    department = services.department_create(
        actor=admin_user, division=city, code="D", uscc=_uscc(17), name="戊局"
    )
    unit = services.unit_create(actor=admin_user, department=department, code="U1", name="一科")
    position = Position.objects.create(code="officer", name="科员")
    citizen = User.objects.create_user("wang", "Test@2026x", display_name="王五", kind="public")
    with pytest.raises(services.OrgError):
        services.posting_create(actor=admin_user, user=citizen, unit=unit, position=position)
    assert Posting.objects.count() == 0


def test_windows_are_checked_and_audited(admin_user, city):
    department = services.department_create(
        actor=admin_user, division=city, code="D", uscc=_uscc(18), name="戊局"
    )
    other = services.department_create(
        actor=admin_user, division=city, code="E", uscc=_uscc(19), name="己局"
    )
    unit = services.unit_create(actor=admin_user, department=other, code="E1", name="审批科")
    centre = services.centre_create(
        actor=admin_user, division=city, name="示范市政务服务中心", hours="周一至周五"
    )
    with pytest.raises(services.OrgError):
        services.window_create(
            actor=admin_user,
            centre=centre,
            number="5",
            name="部门窗口",
            kind=WindowKind.DEPARTMENT,
        )
    with pytest.raises(services.OrgError):
        services.window_create(
            actor=admin_user,
            centre=centre,
            number="5",
            name="部门窗口",
            kind=WindowKind.DEPARTMENT,
            department=department,
            unit=unit,
        )
    window = services.window_create(
        actor=admin_user,
        centre=centre,
        number="5",
        name="戊局窗口",
        kind=WindowKind.DEPARTMENT,
        department=department,
    )
    assert list(Window.objects.all()) == [window]
    assert json.loads(_last_entry("orgs.window.create").detail)["department"] == "D"
    assert _last_entry("orgs.centre.create").object_label == "示范市政务服务中心"


def test_department_update_checks_the_new_uscc_and_audits_changed_fields(admin_user, city):
    department = services.department_create(
        actor=admin_user, division=city, code="D", uscc=_uscc(20), name="戊局"
    )
    services.department_create(
        actor=admin_user, division=city, code="E", uscc=_uscc(21), name="己局"
    )
    with pytest.raises(services.OrgError) as caught:
        services.department_update(
            actor=admin_user, department=department, changes={"uscc": _uscc(21)}
        )
    assert caught.value.code == "uscc_taken"
    services.department_update(
        actor=admin_user, department=department, changes={"name": "戊局（新）", "short_name": "戊"}
    )
    department.refresh_from_db()
    assert (department.name, department.short_name, department.uscc) == (
        "戊局（新）",
        "戊",
        _uscc(20),
    )
    detail = json.loads(_last_entry("orgs.department.update").detail)
    assert detail == {"fields": ["name", "short_name"]}
