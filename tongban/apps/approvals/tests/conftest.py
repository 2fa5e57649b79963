"""A small city for case tests: the market regulator with a window, a licensing unit and a
leader; a published licensing item; a citizen; an enterprise with its agent."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories
from tongban.apps.approvals import permissions, services
from tongban.apps.catalog.tests import builders
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import LegalPerson, User
from tongban.platform.accounts.services import agent_authorise
from tongban.platform.calendar import services as calendar_services
from tongban.platform.files.models import StoredFile
from tongban.platform.orgs.models import Department

_files = itertools.count(1)
TZ = dt.timezone(dt.timedelta(hours=8))


def at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    """A moment in Beijing time."""
    return dt.datetime(year, month, day, hour, 0, tzinfo=TZ)


def upload(user: User, name: str = "申请书.pdf") -> StoredFile:
    """A stored file as the upload service leaves it (contents do not matter here)."""
    number = next(_files)
    return StoredFile.objects.create(
        original_name=name,
        size=1024,
        content_type="application/pdf",
        sm3=f"{number:064d}",
        storage_name=f"files/test/{uuid.uuid4().hex}.pdf",
        uploaded_by=user,
    )


@dataclass
class City:
    market: Department
    item_id: int
    version_id: int
    citizen: User
    clerk: User
    officer: User
    officer2: User
    leader: User
    supervisor: User
    outsider: User
    agent: User
    enterprise: LegalPerson

    def materials(self, user: User | None = None) -> list[services.MaterialInput]:
        return [
            services.MaterialInput(
                name="食品经营许可申请书", file_id=upload(user or self.citizen).pk
            )
        ]


def _role(code: str, codes: list[str]) -> Any:
    return factories.role(code, codes)


@pytest.fixture
def calendar(db):
    calendar_services.calendar_seed()
    yield calendar_services.get_calendar(refresh=True)
    calendar_services.invalidate()


def make_city(**item_changes: Any) -> City:
    market = builders.department()
    version = builders.published_item(market, **item_changes)
    window = factories.unit(market, "SCJG-CK", "政务服务窗口")
    licensing = factories.unit(market, "SCJG-XK", "行政许可科")
    office = factories.unit(market, "SCJG-LD", "局领导")
    clerk_role = _role(
        "approvals_clerk",
        [
            permissions.CASE_RECEIVE,
            permissions.CASE_ACCEPT,
            permissions.CASE_DELIVER,
        ],
    )
    officer_role = _role("approvals_officer", [permissions.CASE_REVIEW])
    leader_role = _role(
        "approvals_leader",
        [permissions.CASE_REVIEW, permissions.CASE_DECIDE, permissions.CASE_EXTEND_APPROVE],
    )
    supervisor_role = _role("approvals_supervisor", [permissions.CASE_READ_ALL])
    clerk = factories.staff(
        "clerk", window, role_obj=clerk_role, scope=Scope.DEPARTMENT, name="王窗口"
    )
    officer = factories.staff(
        "officer", licensing, role_obj=officer_role, scope=Scope.DEPARTMENT, name="李审查"
    )
    officer2 = factories.staff(
        "officer2", licensing, role_obj=officer_role, scope=Scope.DEPARTMENT, name="赵审查"
    )
    leader = factories.staff(
        "leader", office, role_obj=leader_role, scope=Scope.DEPARTMENT, name="陈局长"
    )
    supervisor = factories.staff(
        "supervisor",
        office,
        role_obj=supervisor_role,
        scope=Scope.DIVISION,
        name="周监察",
        position="监察员",
    )
    police = builders.department("GAJ", "示范市公安局")
    police_unit = factories.unit(police, "GAJ-HZ", "户政科")
    outsider = factories.staff(
        "outsider", police_unit, role_obj=leader_role, scope=Scope.DEPARTMENT, name="孙外局"
    )
    citizen = factories.citizen("citizen", "张三")
    agent = factories.citizen("agent", "钱经办")
    enterprise = factories.enterprise()
    agent_authorise(
        actor=None, agent=agent, legal_person=enterprise, valid_from=dt.date(2020, 1, 1)
    )
    return City(
        market=market,
        item_id=version.item_id,
        version_id=version.pk,
        citizen=citizen,
        clerk=clerk,
        officer=officer,
        officer2=officer2,
        leader=leader,
        supervisor=supervisor,
        outsider=outsider,
        agent=agent,
        enterprise=enterprise,
    )


@pytest.fixture
def city(db) -> City:
    return make_city(for_legal_persons=True)
