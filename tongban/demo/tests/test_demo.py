from __future__ import annotations

import pytest

from tongban.demo.loader import load_demo_city
from tongban.platform.access.models import RoleAssignment, Scope
from tongban.platform.accounts.idnumbers import validate_resident_id, validate_uscc
from tongban.platform.accounts.models import LegalPerson, NaturalPerson, User
from tongban.platform.orgs.models import Department, Division, Unit
from tongban.platform.orgs.selectors import departments_of_division, units_of_department

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Division.objects.count(),
        Department.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        NaturalPerson.objects.count(),
        LegalPerson.objects.count(),
        RoleAssignment.objects.count(),
    )


def test_the_demo_city_loads_once_and_again_without_duplicates(demo):
    summary = demo
    first = counts()
    assert 38 <= summary.counts["departments"] <= 45
    assert 650 <= summary.counts["staff"] <= 760
    assert summary.counts["windows"] == 30
    assert Division.objects.filter(level=3).count() == 3
    load_demo_city()
    assert counts() == first


def test_every_identity_number_in_the_demo_is_valid(demo):
    for uscc in list(Department.objects.values_list("uscc", flat=True)) + list(
        LegalPerson.objects.values_list("uscc", flat=True)
    ):
        assert validate_uscc(uscc) == uscc
    for person in NaturalPerson.objects.all():
        assert validate_resident_id(person.id_number) == person.id_number


def test_each_printed_login_has_its_role_and_scope(demo):
    summary = demo
    expected = {
        # case handlers: cases reach the org tree through their department
        "clerk": ("window_clerk", Scope.DIVISION),
        "officer": ("department_officer", Scope.DEPARTMENT),
        "leader": ("department_leader", Scope.DEPARTMENT_TREE),
        "supervisor": ("supervisor", Scope.DIVISION),
    }
    for login in summary.logins:
        user = User.objects.get(username=login.username)
        assert user.check_password("Demo@2026")
        if login.username in expected:
            # their application role; the sharing demo adds department-scoped data roles
            role_code, scope = expected[login.username]
            assignment = RoleAssignment.objects.get(user=user, role__code=role_code)
            assert assignment.scope == scope
    assert User.objects.get(username="sysadmin").admin_role == "system_admin"
    assert User.objects.get(username="citizen").person is not None
    assert User.objects.get(username="agent").agent_authorisations.count() == 3


def test_tree_queries_are_one_query(demo, django_assert_num_queries):
    city = Division.objects.get(code="990100000000")
    scj = Department.objects.get(code="SCJ")
    total = Department.objects.count()
    with django_assert_num_queries(1):
        assert len(list(departments_of_division(city))) == total
    with django_assert_num_queries(1):
        units = list(units_of_department(scj, include_subordinate_departments=True))
    assert {unit.department.division.level for unit in units} == {2, 3}


def test_the_demo_city_has_official_documents_in_every_stage(demo):
    """The general office's notice went through the whole sign-off and out to the districts
    and the city's departments; the market regulator handles it; printed logins have work."""
    from tongban.apps.documents.models import (
        ArchiveRecord,
        Delivery,
        DeliveryState,
        Document,
        DocumentState,
        Opinion,
        Receipt,
        ReceiptState,
        SupervisedTask,
        SupervisedTaskState,
    )
    from tongban.apps.supervision.models import Alert

    notice = Document.objects.get(title__contains="一网通办")
    assert notice.state == DocumentState.DISTRIBUTED
    assert notice.number.startswith("示范府办〔")
    assert notice.sealed_pdf_id is not None
    assert len(notice.content_sm3) == 64
    assert notice.sm2_signature
    assert set(Opinion.objects.filter(document=notice).values_list("step", flat=True)) == {
        "checking",
        "countersigning",
        "signing",
    }
    deliveries = Delivery.objects.filter(document=notice)
    assert deliveries.count() >= 35  # 各区人民政府 and 市直各单位
    states = set(deliveries.values_list("state", flat=True))
    assert {DeliveryState.PENDING, DeliveryState.SIGNED, DeliveryState.RETURNED} <= states
    assert DeliveryState.REGISTERED in states
    receipt = Receipt.objects.get(delivery__document=notice, department__code="SCJ")
    assert receipt.state == ReceiptState.HANDLING
    assert Document.objects.filter(issuer__code="SCJ", state=DocumentState.SIGNING).exists()
    assert Document.objects.filter(issuer__code="SCJ", state=DocumentState.CHECKING).exists()
    assert SupervisedTask.objects.filter(state=SupervisedTaskState.OVERDUE).count() == 1
    assert ArchiveRecord.objects.filter(document__issuer__code="SZFB").count() == 1
    logins = {login.username for login in demo.logins}
    assert {"szfb_d01", "szfb_u01c", "szfb_u02c", "scj_u01c"} <= logins
    del Alert  # the overdue task's alert arrives through the event outbox (not run here)


def test_the_demo_city_is_refused_in_production(settings):
    """Its logins and password are public: a production database must never get them."""
    from django.core.management import CommandError, call_command

    from tongban.demo.loader import DemoRefused

    settings.PRODUCTION = True
    before = User.objects.count()
    with pytest.raises(DemoRefused, match="生产环境"):
        load_demo_city()
    with pytest.raises(CommandError, match="TONGBAN_ENV=production"):
        call_command("demo", "--no-migrate")
    assert User.objects.count() == before
