"""A small city for the drafting tests.

The city: 市政府办公室 (issuer, code SZFB) with a drafter, a checker, a leader and a clerk
(编号/用印/分发); 财政局 and 市场监管局 countersign; 民政局 only views its own documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests import factories
from tongban.apps.documents import drafting
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import Document
from tongban.platform.access.models import Permission, Role, Scope
from tongban.platform.access.permissions import WORKBENCH
from tongban.platform.access.services import access_sync_permissions
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department

BODY = "为进一步优化营商环境，现就有关事项通知如下。\n一、总体要求。\n二、工作措施。"


@dataclass
class City:
    office: Department
    finance: Department
    market: Department
    civil: Department
    drafter: User
    checker: User
    leader: User
    clerk: User
    finance_officer: User
    market_officer: User
    outsider: User

    def draft(self, countersign: list[Department] | None = None, **values: Any) -> Document:
        data: dict[str, Any] = {
            "title": "示范市人民政府办公室关于优化营商环境的通知",
            "body": BODY,
            "issuer_code": "示范府办",
            "addressees": "各区人民政府，市直各单位",
            **values,
        }
        return drafting.document_create(
            actor=self.drafter,
            issuer_id=self.office.pk,
            values=data,
            countersign_ids=[d.pk for d in (countersign or [])],
        )


@pytest.fixture(name="city")
def city_fixture(db: Any) -> City:
    division = factories.division()
    office = factories.department(division, "SZFB", "示范市人民政府办公室")
    finance = factories.department(division, "CZJ", "示范市财政局")
    market = factories.department(division, "SCJGJ", "示范市市场监督管理局")
    civil = factories.department(division, "MZJ", "示范市民政局")
    secretariat = factories.unit(office, "SZFB-MS", "秘书科")
    finance_unit = factories.unit(finance, "CZJ-BGS", "办公室")
    market_unit = factories.unit(market, "SCJGJ-BGS", "办公室")
    civil_unit = factories.unit(civil, "MZJ-BGS", "办公室")

    access_sync_permissions()  # once (factories.role syncs on every call)
    roles: dict[str, Role] = {}

    def staff(name: str, unit: Any, code: str, permissions: list[str]) -> User:
        role = roles.get(code)
        if role is None:
            role = roles[code] = Role.objects.create(code=f"doc_{code}", name=code)
            role.permissions.set(Permission.objects.filter(code__in=permissions))
        return factories.staff(name, unit, role_obj=role, scope=Scope.DEPARTMENT)

    return City(
        office=office,
        finance=finance,
        market=market,
        civil=civil,
        drafter=staff("drafter", secretariat, "drafter", [p.DRAFT, p.VIEW]),
        checker=staff("checker", secretariat, "checker", [p.CHECK, p.VIEW]),
        leader=staff("leader", secretariat, "leader", [p.SIGN_OFF, p.VIEW, WORKBENCH]),
        clerk=staff("clerk", secretariat, "clerk", [p.NUMBER_SEAL, p.VIEW]),
        finance_officer=staff("finance", finance_unit, "cs", [p.COUNTERSIGN]),
        market_officer=staff("market", market_unit, "cs", [p.COUNTERSIGN]),
        outsider=staff("outsider", civil_unit, "viewer", [p.VIEW, p.DRAFT]),
    )


def advance_to_sign(city: City, document: Document) -> Document:
    """拟稿 → 核稿 → 会签 (every department) → 签发 pending."""
    drafting.document_submit(actor=city.drafter, document=document)
    drafting.document_decide(actor=city.checker, document=document, decision="agree")
    for officer in (city.finance_officer, city.market_officer):
        if drafting.actionable_tasks(officer, document):
            drafting.document_decide(actor=officer, document=document, decision="agree")
    return document
