"""A small city for the receiving-side and 督查督办 tests.

市政府办公厅 (SZF) issues documents and supervises tasks (its 督查室 officer); the market
regulator (SCJGJ) receives them: a 文书 clerk (RECEIVE, HANDLE, ARCHIVE), a leader
(INSTRUCT) and two colleagues without any documents role; the health commission (WJW) has a
clerk of its own (everything, over WJW only) and a reporter. Import the fixture into a test
module with ``from tongban.apps.documents.tests.fixtures_receiving import town_fixture``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from tests import factories
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import (
    Delivery,
    DeliveryState,
    Dispatch,
    Document,
    DocumentState,
    Urgency,
)
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department


@dataclass
class Town:
    office: Department
    market: Department
    health: Department
    supervisor: User
    clerk: User
    leader: User
    colleague: User
    colleague2: User
    reporter: User
    health_clerk: User
    health_reporter: User
    document: Document
    dispatch: Dispatch

    def delivery(self, recipient: Department | None = None, **fields: Any) -> Delivery:
        now = timezone.now()
        values: dict[str, Any] = {
            "dispatch": self.dispatch,
            "document": self.document,
            "recipient": recipient or self.market,
            "state": DeliveryState.SIGNED,
            "delivered_at": now - dt.timedelta(hours=2),
            "due_at": now + dt.timedelta(hours=22),
            "signed_at": now - dt.timedelta(hours=1),
            **fields,
        }
        return Delivery.objects.create(**values)


@pytest.fixture(name="town")
def town_fixture(db: Any) -> Town:
    division = factories.division()
    office = factories.department(division, "SZF", "示范市人民政府办公厅")
    market = factories.department(division, "SCJGJ", "示范市市场监督管理局")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    office_unit = factories.unit(office, "SZF-DCS", "督查室")
    market_unit = factories.unit(market, "SCJGJ-BGS", "办公室")
    market_unit2 = factories.unit(market, "SCJGJ-XK", "行政许可科")
    health_unit = factories.unit(health, "WJW-BGS", "办公室")
    clerk_role = factories.role("doc_clerk", [p.RECEIVE, p.HANDLE, p.ARCHIVE])
    leader_role = factories.role("doc_leader", [p.INSTRUCT, p.HANDLE])
    supervise_role = factories.role("doc_supervise", [p.TASK_SUPERVISE, p.VIEW])
    report_role = factories.role("doc_report", [p.TASK_REPORT])
    health_role = factories.role(
        "doc_all_receiving", [p.RECEIVE, p.HANDLE, p.INSTRUCT, p.ARCHIVE, p.TASK_REPORT]
    )
    dept = Scope.DEPARTMENT
    supervisor = factories.staff("ducha", office_unit, role_obj=supervise_role, scope=dept)
    clerk = factories.staff("wenshu", market_unit, role_obj=clerk_role, scope=dept, name="文书")
    leader = factories.staff("juzhang", market_unit, role_obj=leader_role, scope=dept, name="局长")
    colleague = factories.staff("keyuan", market_unit2, name="科员甲")
    colleague2 = factories.staff("keyuan2", market_unit2, name="科员乙")
    reporter = factories.staff("tianbao", market_unit, role_obj=report_role, scope=dept)
    health_clerk = factories.staff("wjw-wenshu", health_unit, role_obj=health_role, scope=dept)
    health_reporter = factories.staff("wjw-tianbao", health_unit, role_obj=report_role, scope=dept)
    now = timezone.now()
    document = Document.objects.create(
        issuer=office,
        drafter=supervisor,
        kind="file",
        state=DocumentState.DISTRIBUTED,
        urgency=Urgency.URGENT,
        issuer_code="示范府办",
        year=now.year,
        serial=12,
        number=f"示范府办〔{now.year}〕12号",
        title="关于开展政务服务标准化梳理工作的通知",
        signature="示范市人民政府办公厅",
        body="各有关单位：\n请按要求完成梳理。",
    )
    dispatch = Dispatch.objects.create(
        document=document, sender=office, sent_by=supervisor, sent_at=now, sign_within_hours=24
    )
    return Town(
        office,
        market,
        health,
        supervisor,
        clerk,
        leader,
        colleague,
        colleague2,
        reporter,
        health_clerk,
        health_reporter,
        document,
        dispatch,
    )
