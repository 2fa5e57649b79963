"""A small city for the seals, verify and archive tests.

Departments: the city government's office ``office`` (issues), the health commission
``health`` (receives) and the civil affairs bureau ``civil`` (an outsider). People:
``clerk`` (NUMBER_SEAL + VIEW + ARCHIVE over the office), ``keeper`` (SEAL_MANAGE over the
office), ``viewer`` (VIEW over the office), ``receiver`` (RECEIVE + HANDLE + ARCHIVE over
health), ``outsider`` (every documents permission over civil) and ``plain`` staff.

``numbered_document`` makes a signed-off, numbered document at the 用印 step without the
drafting process; ``sealed`` seals one for real (about half a second: use sparingly).

``API`` is the prefix of the real documents API.

Usage in a test module::

    from tongban.apps.documents.tests import fixtures_archive
    archive_city = fixtures_archive.archive_city
"""

from __future__ import annotations

import datetime as dt
import itertools
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
    Receipt,
    ReceiptState,
)
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.orgs.models import Department

API = "/api/documents"

_serials = itertools.count(1)
BODY = "为进一步规范政务公开工作，现将有关事项通知如下。\n一、加强组织领导。\n二、严格落实责任。"


@dataclass
class ArchiveCity:
    office: Department
    health: Department
    civil: Department
    clerk: User
    keeper: User
    viewer: User
    receiver: User
    outsider: User
    plain: User

    def numbered_document(self, **overrides: Any) -> Document:
        serial = next(_serials)
        values: dict[str, Any] = {
            "issuer": self.office,
            "drafter": self.clerk,
            "issuer_code": "示范府办",
            "year": 2026,
            "serial": serial,
            "number": f"示范府办〔2026〕{serial}号",
            "title": "示范市人民政府办公室关于做好政务公开工作的通知",
            "addressees": "各区人民政府，市直各单位",
            "body": BODY,
            "date": dt.date(2026, 11, 30),
            "state": DocumentState.SEALING,
            "signed_off_by": self.clerk,
            "signed_off_at": timezone.now(),
            "cc": ["市委办公室"],
            "printed_by": "示范市人民政府办公室",
            "printed_on": dt.date(2026, 11, 30),
        }
        values.update(overrides)
        return Document.objects.create(**values)

    def sealed(self, **overrides: Any) -> Document:
        from tongban.apps.documents import seals

        seals.ensure_seal(self.office)
        return seals.document_seal(actor=self.clerk, document=self.numbered_document(**overrides))

    def deliver(self, document: Document, recipient: Department, **fields: Any) -> Delivery:
        now = timezone.now()
        dispatch = Dispatch.objects.create(
            document=document,
            sender=document.issuer,
            sent_by=self.clerk,
            sent_at=now,
            sign_within_hours=24,
            recipient_count=1,
        )
        values: dict[str, Any] = {
            "dispatch": dispatch,
            "document": document,
            "recipient": recipient,
            "state": DeliveryState.PENDING,
            "delivered_at": now,
            "due_at": now + dt.timedelta(hours=24),
            **fields,
        }
        return Delivery.objects.create(**values)

    def receipt(self, department: Department | None = None, **overrides: Any) -> Receipt:
        values: dict[str, Any] = {
            "department": department or self.health,
            "year": 2026,
            "serial": next(_serials),
            "source": "示范市人民政府办公室",
            "source_number": "示范府办〔2026〕7号",
            "title": "关于开展食品安全专项检查的通知",
            "state": ReceiptState.CLOSED,
            "registered_by": self.receiver,
            "registered_at": timezone.now(),
            "closed_by": self.receiver,
            "closed_at": timezone.now(),
            "result": "已组织检查并报送情况",
        }
        values.update(overrides)
        return Receipt.objects.create(**values)


@pytest.fixture
def archive_city(db: Any) -> ArchiveCity:
    division = factories.division()
    office = factories.department(division, "SZFB", "示范市人民政府办公室")
    health = factories.department(division, "WJW", "示范市卫生健康委员会")
    civil = factories.department(division, "MZJ", "示范市民政局")
    clerk_role = factories.role("arc_clerk", [p.NUMBER_SEAL, p.VIEW, p.ARCHIVE])
    keeper_role = factories.role("arc_keeper", [p.SEAL_MANAGE])
    viewer_role = factories.role("arc_viewer", [p.VIEW])
    receiver_role = factories.role("arc_receiver", [p.RECEIVE, p.HANDLE, p.ARCHIVE])
    everything = factories.role(
        "arc_everything",
        [p.NUMBER_SEAL, p.VIEW, p.ARCHIVE, p.SEAL_MANAGE, p.RECEIVE, p.HANDLE, p.INSTRUCT],
    )
    office_unit = factories.unit(office, "SZFB-WS", "文电处")
    health_unit = factories.unit(health, "WJW-BGS", "办公室")
    civil_unit = factories.unit(civil, "MZJ-BGS", "办公室")
    department = Scope.DEPARTMENT
    return ArchiveCity(
        office=office,
        health=health,
        civil=civil,
        clerk=factories.staff("arc_clerk", office_unit, role_obj=clerk_role, scope=department),
        keeper=factories.staff("arc_keeper", office_unit, role_obj=keeper_role, scope=department),
        viewer=factories.staff("arc_viewer", office_unit, role_obj=viewer_role, scope=department),
        receiver=factories.staff(
            "arc_receiver", health_unit, role_obj=receiver_role, scope=department
        ),
        outsider=factories.staff("arc_outsider", civil_unit, role_obj=everything, scope=department),
        plain=factories.staff("arc_plain", office_unit),
    )
