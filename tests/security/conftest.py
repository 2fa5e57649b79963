"""Personas for the security suite: one small city with every kind of user the issue
names, signed in the way they really are (staff who must pass TOTP have it passed), and a
few real objects owned by citizen A and handled by the market regulator.

Generic on purpose: other security tests may use ``world`` and ``sign_in`` as they are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from tests import factories
from tests.security.world_documents import DocumentsWorld, build_documents
from tests.security.world_sharing import SharingWorld, build_sharing
from tongban.apps.approvals import permissions as approvals_permissions
from tongban.apps.approvals import services as approvals_services
from tongban.apps.approvals.models import Case
from tongban.apps.approvals.tests.conftest import make_city, upload
from tongban.apps.licences import permissions as licence_permissions
from tongban.apps.licences import services as licence_services
from tongban.apps.licences.models import Licence
from tongban.apps.supervision import permissions as supervision_permissions
from tongban.apps.supervision import sources
from tongban.apps.supervision.models import Alert, Source, SupervisedCase
from tongban.platform.access.models import Role, RoleAssignment, Scope
from tongban.platform.accounts.models import User
from tongban.platform.files.models import StoredFile
from tongban.platform.notify.models import Message
from tongban.platform.orgs.models import Department

ANONYMOUS = "anonymous"
CITIZEN_A = "citizen_a"
CITIZEN_B = "citizen_b"
AGENT = "agent"
AGENT_UNAUTHORISED = "agent_unauthorised"
CLERK = "clerk"
OFFICER = "officer"
OTHER_OFFICER = "other_officer"
LEADER = "leader"
SUPERVISOR = "supervisor"
SYSTEM_ADMIN = "system_admin"
SECURITY_ADMIN = "security_admin"
AUDITOR = "auditor"

#: every persona of the issue, in a fixed order
PERSONAS: tuple[str, ...] = (
    ANONYMOUS,
    CITIZEN_A,
    CITIZEN_B,
    AGENT,
    AGENT_UNAUTHORISED,
    CLERK,
    OFFICER,
    OTHER_OFFICER,
    LEADER,
    SUPERVISOR,
    SYSTEM_ADMIN,
    SECURITY_ADMIN,
    AUDITOR,
)


@dataclass
class World:
    """The city, its people by persona, and the objects routes are filled with."""

    users: dict[str, User | None]
    market: Department
    other_department: Department
    item_id: int
    case: Case  # citizen A's case, accepted by the window of the market regulator
    enterprise_case: Case  # the enterprise's case, submitted by its authorised agent
    file: StoredFile  # uploaded by citizen A
    licence: Licence  # held by citizen A, issued by the market regulator
    source: Source
    source_key: str
    supervised_case: SupervisedCase  # of the market regulator
    alert: Alert  # a manual alert on it, open for the market regulator
    message: Message  # a notification to citizen A
    sharing: SharingWorld  # resources, requests, grants, calls, base data, exchange
    documents: DocumentsWorld  # drafts, a sealed document sent, a receipt, a supervised task
    extra: dict[str, Any] = field(default_factory=dict)


def sign_in(client: Client, user: User | None) -> Client:
    """Sign ``user`` in; a user who must use a second factor gets a verified session (as
    after /accounts/mfa/). ``None`` leaves the client anonymous."""
    if user is None:
        return client
    return factories.sign_in_verified(client, user)


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _stored_upload(user: User) -> StoredFile:
    """An upload with its bytes really in the storage."""
    stored = upload(user)
    default_storage.save(stored.storage_name, ContentFile(PDF))
    return stored


def build_world() -> World:
    city = make_city(for_legal_persons=True)
    citizen_b = factories.citizen("citizen_b", "李四")
    agent_unauthorised = factories.citizen("agent_unauth", "孙未授权")
    # the supervisor also holds the supervision permissions, city-wide, and must use TOTP
    supervise = factories.role(
        "security_supervisor",
        [
            supervision_permissions.MONITOR_VIEW,
            supervision_permissions.ALERT_OPEN,
            supervision_permissions.CORRECTION_REVIEW,
            supervision_permissions.RULES_MANAGE,
            supervision_permissions.EVALUATION_VIEW,
            approvals_permissions.CASE_READ_ALL,
        ],
    )
    Role.objects.filter(pk=supervise.pk).update(requires_mfa=True)
    RoleAssignment.objects.create(
        user=city.supervisor,
        role=supervise,
        scope=Scope.DIVISION,
        division=city.market.division,
    )
    # every staff persona may open the workbench, as every real staff role can
    workbench = factories.role("security_workbench", ["ui.workbench"])
    for user in (city.clerk, city.officer, city.outsider, city.leader, city.supervisor):
        RoleAssignment.objects.create(user=user, role=workbench, scope=Scope.SELF)
    system_admin = factories.staff("sysadm", admin_role="system_admin", name="系统管理员")
    RoleAssignment.objects.create(
        user=system_admin,
        role=factories.role("security_source_admin", [supervision_permissions.SOURCE_MANAGE]),
        scope=Scope.ALL,
    )
    security_admin = factories.staff("secadm", admin_role="security_admin", name="安全管理员")
    auditor = factories.staff("auditor", admin_role="auditor", name="审计员")
    # a licensing officer who is no persona: only issues citizen A's licence
    issuer_unit = factories.unit(city.market, "SCJG-ZZ", "证照科")
    issuer = factories.staff(
        "issuer",
        issuer_unit,
        role_obj=factories.role(
            "security_licence_issuer",
            [licence_permissions.LICENCE_ISSUE, licence_permissions.LICENCE_VIEW],
        ),
        scope=Scope.DEPARTMENT,
    )

    case = approvals_services.case_submit(
        actor=city.citizen,
        item_id=city.item_id,
        applicant=approvals_services.ApplicantInput(contact_phone="13812345678"),
        materials=city.materials(),
    )
    case = approvals_services.case_accept(
        actor=city.clerk, case=case, checked=["食品经营许可申请书"]
    )
    enterprise_case = approvals_services.case_submit(
        actor=city.agent,
        item_id=city.item_id,
        applicant=approvals_services.ApplicantInput(
            kind="legal_person", legal_person=city.enterprise, contact_phone="13912345678"
        ),
        materials=city.materials(city.agent),
    )
    person = city.citizen.person
    assert person is not None
    licence = licence_services.licence_issue(
        actor=issuer,
        type_code="SPJY",
        name="食品经营许可证",
        holder_name=person.name,
        holder_id_type="resident_id",
        holder_id_number=str(person.id_number),
        issuer_department_id=city.market.pk,
        valid_until=None,
        fields={"经营场所": "示范市中山路1号", "主体业态": "餐饮服务经营者"},
        source="",
    )
    source, key = sources.source_create(actor=system_admin, code="hotline", name="12345热线")
    other_department = city.outsider.postings.get().unit.department
    # a supervised case of the market regulator (through the intake) and a manual alert
    from tongban.apps.supervision import corrections
    from tongban.apps.supervision import services as supervision_services
    from tongban.apps.supervision.tests.conftest import opened_and_accepted

    supervision_services.forget_org_cache()
    opened = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    base = {"department": city.market.code, "unit": "SCJG-XK", "handler": "officer"}
    supervision_services.events_ingest(
        source=source, raw_events=opened_and_accepted("SC-0001", opened, **base)
    )
    supervised = SupervisedCase.objects.get(key="SC-0001")
    alert = corrections.alert_open_manual(
        actor=city.supervisor,
        department=city.market,
        case=supervised,
        dimension="timeliness",
        detail="群众投诉办理超时",
    )
    message = Message.objects.filter(recipient=city.citizen).order_by("pk").first()
    assert message is not None
    sharing = build_sharing(
        market=city.market,
        other=other_department,
        officer=city.officer,
        other_officer=city.outsider,
        leader=city.leader,
        supervisor=city.supervisor,
        system_admin=system_admin,
        auditor=auditor,
        citizen_id_number=str(person.id_number),
    )
    documents = build_documents(
        market=city.market,
        other=other_department,
        officer=city.officer,
        other_officer=city.outsider,
        leader=city.leader,
        supervisor=city.supervisor,
        system_admin=system_admin,
    )
    return World(
        users={
            ANONYMOUS: None,
            CITIZEN_A: city.citizen,
            CITIZEN_B: citizen_b,
            AGENT: city.agent,
            AGENT_UNAUTHORISED: agent_unauthorised,
            CLERK: city.clerk,
            OFFICER: city.officer,
            OTHER_OFFICER: city.outsider,
            LEADER: city.leader,
            SUPERVISOR: city.supervisor,
            SYSTEM_ADMIN: system_admin,
            SECURITY_ADMIN: security_admin,
            AUDITOR: auditor,
        },
        market=city.market,
        other_department=other_department,
        item_id=city.item_id,
        case=case,
        enterprise_case=enterprise_case,
        file=_stored_upload(city.citizen),
        licence=licence,
        source=source,
        source_key=key,
        supervised_case=supervised,
        alert=alert,
        message=message,
        sharing=sharing,
        documents=documents,
        extra={"city": city, "issuer": issuer, "at": dt.datetime.now(dt.UTC)},
    )


@pytest.fixture
def world(db: Any, settings: Any) -> World:
    # every persona opens the public document verification: above its per-address limit
    settings.TONGBAN_DOCUMENTS_VERIFY_PER_MINUTE = 1000
    return build_world()


@pytest.fixture
def as_persona(world: World) -> Any:
    """``as_persona("citizen_b")``: a fresh client signed in as that persona."""

    def make(persona: str) -> Client:
        return sign_in(Client(), world.users[persona])

    return make
