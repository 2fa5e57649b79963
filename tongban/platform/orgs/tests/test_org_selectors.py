"""Tree selectors: exact results, and each is one query."""

from __future__ import annotations

import pytest

from tongban.platform.accounts.idnumbers import make_uscc
from tongban.platform.accounts.models import User
from tongban.platform.orgs import selectors, services
from tongban.platform.orgs.models import DivisionLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    """示范市 with two districts, a city bureau with a district counterpart, nested units
    and staff."""
    city = services.division_create(
        actor=None, code="990100000000", name="示范市", level=DivisionLevel.CITY
    )
    east = services.division_create(
        actor=None, code="990102000000", name="东湖区", level=DivisionLevel.COUNTY, parent=city
    )
    west = services.division_create(
        actor=None, code="990103000000", name="西山区", level=DivisionLevel.COUNTY, parent=city
    )
    town = services.division_create(
        actor=None, code="990102001000", name="湖滨街道", level=DivisionLevel.TOWN, parent=east
    )
    number = iter(range(1, 100))

    def department(division, code, name, parent=None):
        return services.department_create(
            actor=None,
            division=division,
            code=code,
            uscc=make_uscc("1", "1", division.code[:6], f"K{next(number):07d}X"),
            name=name,
            parent=parent,
        )

    market = department(city, "SCJ", "示范市市场监督管理局")
    east_market = department(east, "DH-SCJ", "东湖区市场监督管理局", parent=market)
    west_market = department(west, "XS-SCJ", "西山区市场监督管理局", parent=market)
    labour = department(city, "RSJ", "示范市人力资源和社会保障局")

    def unit(dept, code, name, parent=None):
        return services.unit_create(
            actor=None, department=dept, code=code, name=name, parent=parent
        )

    approval = unit(market, "SCJ-XZSP", "行政审批科")
    registration = unit(market, "SCJ-DJZC", "登记注册组", parent=approval)
    office = unit(market, "SCJ-BGS", "办公室")
    east_office = unit(east_market, "DH-SCJ-BGS", "办公室")
    unit(labour, "RSJ-BGS", "办公室")

    clerk = services.position_create(actor=None, code="window_clerk", name="窗口受理员")
    chief = services.position_create(actor=None, code="section_chief", name="科长")

    def staff(username, name, where, position, *, is_primary=True, active=True):
        user = User.objects.create_user(
            username, "Test@2026x", display_name=name, kind="staff", is_active=active
        )
        services.posting_create(
            actor=None, user=user, unit=where, position=position, is_primary=is_primary
        )
        return user

    zhang = staff("zhang", "张伟", approval, chief)
    li = staff("li", "李娜", registration, clerk)
    wang = staff("wang", "王芳", office, clerk)
    staff("zhao", "赵敏", registration, clerk, active=False)
    # zhang also helps out in the registration group (second, non-primary posting)
    services.posting_create(
        actor=None, user=zhang, unit=registration, position=clerk, is_primary=False
    )
    return {
        "city": city,
        "east": east,
        "west": west,
        "town": town,
        "market": market,
        "east_market": east_market,
        "west_market": west_market,
        "labour": labour,
        "approval": approval,
        "registration": registration,
        "office": office,
        "east_office": east_office,
        "zhang": zhang,
        "li": li,
        "wang": wang,
    }


def test_divisions_under(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = [d.name for d in selectors.divisions_under(tree["city"])]
    assert names == ["示范市", "东湖区", "湖滨街道", "西山区"]
    with django_assert_num_queries(1):
        names = [d.name for d in selectors.divisions_under(tree["east"])]
    assert names == ["东湖区", "湖滨街道"]


def test_departments_of_division(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = [d.code for d in selectors.departments_of_division(tree["city"])]
    assert sorted(codes) == ["DH-SCJ", "RSJ", "SCJ", "XS-SCJ"]
    with django_assert_num_queries(1):
        codes = [
            d.code
            for d in selectors.departments_of_division(tree["city"], include_subdivisions=False)
        ]
    assert codes == ["RSJ", "SCJ"]
    with django_assert_num_queries(1):
        codes = [d.code for d in selectors.departments_of_division(tree["east"])]
    assert codes == ["DH-SCJ"]


def test_departments_under(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = [d.code for d in selectors.departments_under(tree["market"])]
    assert codes == ["SCJ", "DH-SCJ", "XS-SCJ"]


def test_units_under(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = [u.code for u in selectors.units_under(tree["approval"])]
    assert codes == ["SCJ-XZSP", "SCJ-DJZC"]
    with django_assert_num_queries(1):
        codes = [u.code for u in selectors.units_under(tree["registration"])]
    assert codes == ["SCJ-DJZC"]


def test_units_of_department(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        codes = [u.code for u in selectors.units_of_department(tree["market"])]
    assert codes == ["SCJ-BGS", "SCJ-XZSP", "SCJ-DJZC"]
    with django_assert_num_queries(1):
        codes = [
            u.code
            for u in selectors.units_of_department(
                tree["market"], include_subordinate_departments=True
            )
        ]
    assert codes == ["SCJ-BGS", "SCJ-XZSP", "SCJ-DJZC", "DH-SCJ-BGS"]


def test_staff_of_unit(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = sorted(u.username for u in selectors.staff_of_unit(tree["approval"]))
    # zhang once although posted twice in the subtree; the inactive zhao is left out
    assert names == ["li", "zhang"]
    with django_assert_num_queries(1):
        names = [
            u.username for u in selectors.staff_of_unit(tree["approval"], include_subunits=False)
        ]
    assert names == ["zhang"]
    with django_assert_num_queries(1):
        names = [u.username for u in selectors.staff_of_unit(tree["east_office"])]
    assert names == []


def test_postings_of_unit(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = [
            (p.unit.code, p.user.username, p.position.name)
            for p in selectors.postings_of_unit(tree["approval"])
        ]
    assert sorted(rows) == [
        ("SCJ-DJZC", "li", "窗口受理员"),
        ("SCJ-DJZC", "zhang", "窗口受理员"),
        ("SCJ-DJZC", "zhao", "窗口受理员"),
        ("SCJ-XZSP", "zhang", "科长"),
    ]


def test_primary_posting(tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        posting = selectors.primary_posting(tree["zhang"])
        assert posting is not None
        labels = (
            posting.unit.name,
            posting.unit.department.name,
            posting.unit.department.division.name,
            posting.position.name,
        )
    assert labels == ("行政审批科", "示范市市场监督管理局", "示范市", "科长")
    outsider = User.objects.create_user("x", "Test@2026x", display_name="无", kind="staff")
    with django_assert_num_queries(1):
        assert selectors.primary_posting(outsider) is None


def test_selectors_follow_a_move(tree, django_assert_num_queries):
    services.unit_move(actor=None, unit=tree["registration"], parent=tree["office"])
    with django_assert_num_queries(1):
        names = sorted(u.username for u in selectors.staff_of_unit(tree["office"]))
    assert names == ["li", "wang", "zhang"]
    with django_assert_num_queries(1):
        codes = [u.code for u in selectors.units_under(tree["approval"])]
    assert codes == ["SCJ-XZSP"]
