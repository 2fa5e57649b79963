"""A small city for the exchange tests: the city government's office (the issuer) with a
sender (NUMBER_SEAL + VIEW) and a viewer (VIEW), three district governments and two
bureaus that receive (a receiving clerk in two of them), a city group administrator
(GROUP_MANAGE) and plain staff; ``sealed_document`` makes a document ready to send
without rendering a PDF.

Usage in a test module::

    from tongban.apps.documents.tests import fixtures_exchange
    exchange_city = fixtures_exchange.exchange_city

``API`` is the prefix of the exchange area in the real documents API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

import tongban.apps.documents.handlers  # noqa: F401  (registers the subscribers)
from tests import factories
from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import Document, DocumentState
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.files.models import StoredFile
from tongban.platform.orgs.models import Department, Division

API = "/api/documents/exchange"


@dataclass
class ExchangeCity:
    division: Division
    district_division: Division
    office: Department  # 市政府办公室: issues and sends
    other_issuer: Department  # another issuing department (its sender may not send ours)
    districts: list[Department]  # 3 district governments
    bureaus: list[Department]  # 2 bureaus (the first with a sub-unit department)
    sub_bureau: Department  # a department under bureaus[0]
    sender: User  # NUMBER_SEAL + VIEW over the office
    viewer: User  # VIEW over the office
    other_sender: User  # NUMBER_SEAL over other_issuer
    clerk_a: User  # RECEIVE over districts[0]
    clerk_b: User  # RECEIVE over districts[1]
    group_admin: User  # GROUP_MANAGE (city)
    plain: User

    @property
    def recipients(self) -> list[Department]:
        return [*self.districts, *self.bureaus, self.sub_bureau]


_files = iter(range(1, 10**9))


def sealed_document(city: ExchangeCity, **overrides: Any) -> Document:
    """A document at the 分发 step with a (fake) sealed PDF: no rendering."""
    stored = StoredFile.objects.create(
        original_name="document.pdf",
        size=10,
        content_type="application/pdf",
        sm3="0" * 64,
        storage_name=f"test/{uuid.uuid4().hex}.pdf",
        uploaded_by=city.sender,
    )
    values: dict[str, Any] = {
        "issuer": city.office,
        "drafter": city.sender,
        "issuer_code": "示范府办",
        "year": 2026,
        "serial": next(_files),
        "title": "示范市人民政府办公室关于做好年度政务公开工作的通知",
        "body": "各区人民政府，市直各单位：\n现就有关事项通知如下。",
        "state": DocumentState.DISTRIBUTING,
        "sealed_pdf": stored,
        "sealed_at": timezone.now(),
        "date": dt.date(2026, 11, 30),
    }
    values["number"] = f"示范府办〔2026〕{values['serial']}号"
    values.update(overrides)
    return Document.objects.create(**values)


@pytest.fixture
def exchange_city(db: Any) -> ExchangeCity:
    city = factories.division()
    district_division = factories.division("990102000000", "示范市东区", 3, city)
    office = factories.department(city, "SZFB", "示范市人民政府办公室")
    other_issuer = factories.department(city, "FGW", "示范市发展和改革委员会")
    districts = [
        factories.department(district_division, "DQ01", "示范市东区人民政府"),
        factories.department(district_division, "DQ02", "示范市西区人民政府"),
        factories.department(district_division, "DQ03", "示范市南区人民政府"),
    ]
    bureaus = [
        factories.department(city, "JYJ", "示范市教育局"),
        factories.department(city, "WJW", "示范市卫生健康委员会"),
    ]
    sub_bureau = factories.department(city, "JYJ-KS", "示范市教育考试院", parent=bureaus[0])
    sender_role = factories.role("doc_sender", [p.NUMBER_SEAL, p.VIEW])
    viewer_role = factories.role("doc_viewer", [p.VIEW])
    clerk_role = factories.role("doc_clerk", [p.RECEIVE])
    group_role = factories.role("doc_groups", [p.GROUP_MANAGE])
    office_unit = factories.unit(office, "SZFB-WS", "文电处")
    other_unit = factories.unit(other_issuer, "FGW-BGS", "办公室")
    unit_a = factories.unit(districts[0], "DQ01-BGS", "区政府办公室")
    unit_b = factories.unit(districts[1], "DQ02-BGS", "区政府办公室")
    department = Scope.DEPARTMENT
    return ExchangeCity(
        division=city,
        district_division=district_division,
        office=office,
        other_issuer=other_issuer,
        districts=districts,
        bureaus=bureaus,
        sub_bureau=sub_bureau,
        sender=factories.staff("ex_sender", office_unit, role_obj=sender_role, scope=department),
        viewer=factories.staff("ex_viewer", office_unit, role_obj=viewer_role, scope=department),
        other_sender=factories.staff(
            "ex_other", other_unit, role_obj=sender_role, scope=department
        ),
        clerk_a=factories.staff("ex_clerk_a", unit_a, role_obj=clerk_role, scope=department),
        clerk_b=factories.staff("ex_clerk_b", unit_b, role_obj=clerk_role, scope=department),
        group_admin=factories.staff(
            "ex_groups", office_unit, role_obj=group_role, scope=Scope.DIVISION
        ),
        plain=factories.staff("ex_plain", unit_a),
    )
