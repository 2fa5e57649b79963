"""Parallel approval (并联审批): one application, one acceptance by the lead window, the
departments at the same time, each child its own clock and result, one delivery."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tongban.apps.approvals import permissions, selectors, services
from tongban.apps.approvals.models import Case, CaseState, Notice, Outcome
from tongban.apps.approvals.tests.conftest import City, make_city, upload
from tongban.apps.catalog import services as catalog_services
from tongban.apps.catalog.models import ServiceItem
from tongban.apps.catalog.tests import builders
from tongban.platform.access.models import Scope
from tongban.platform.accounts.models import User
from tongban.platform.events.models import Event
from tongban.platform.workflow.models import WorkTask

pytestmark = pytest.mark.django_db


@dataclass
class Joint:
    city: City
    social_item: int
    social_officer: User
    social_leader: User


@pytest.fixture
def joint(db) -> Joint:
    city = make_city(for_legal_persons=True)
    social = builders.department("RSJ", "示范市人力资源和社会保障局")
    social_item = builders.published_item(
        social,
        basic_code="000120001000",
        name="单位参保登记",
        item_type="other_power",
        for_legal_persons=True,
        legal_limit_days=15,
        promised_limit_days=5,
        materials=(catalog_services.MaterialInput(name="参保登记表"),),
        steps=(catalog_services.StepInput(name="审核", days=3),),
    )
    unit = factories.unit(social, "RSJ-SB", "社保科")
    officer_role = factories.role(
        "joint_officer", [permissions.CASE_REVIEW, permissions.CASE_DECIDE]
    )
    social_officer = factories.staff(
        "social_officer", unit, role_obj=officer_role, scope=Scope.DEPARTMENT, name="社保科员"
    )
    social_leader = factories.staff(
        "social_leader", unit, role_obj=officer_role, scope=Scope.DEPARTMENT, name="社保科长"
    )
    catalog_services.bundle_save(
        actor=None,
        code="qykb",
        name="企业开办",
        audience="enterprise",
        lead_department=city.market,
        items=ServiceItem.objects.filter(pk__in=[city.item_id, social_item.item_id]),
        joint_limit_days=30,
    )
    return Joint(city, social_item.item_id, social_officer, social_leader)


def submit_bundle(joint: Joint, key: str = "") -> Case:
    city = joint.city
    return services.case_submit_bundle(
        actor=city.agent,
        bundle_code="qykb",
        idempotency_key=key,
        applicant=services.ApplicantInput(kind="legal_person", legal_person=city.enterprise),
        materials=[
            services.MaterialInput(
                name="食品经营许可申请书", file_id=upload(city.agent).pk, item_id=city.item_id
            ),
            services.MaterialInput(
                name="参保登记表", file_id=upload(city.agent).pk, item_id=joint.social_item
            ),
        ],
    )


def accept_bundle(joint: Joint, parent: Case) -> Case:
    city = joint.city
    return services.case_accept(
        actor=city.clerk,
        case=parent,
        item_checks={city.item_id: ["食品经营许可申请书"], joint.social_item: ["参保登记表"]},
    )


def child(parent: Case, department_code: str) -> Case:
    return Case.objects.get(parent=parent, department_code=department_code)


def review_task(case: Case, role: str = "review") -> WorkTask:
    return WorkTask.objects.get(
        instance_id=case.process_instance_id, role=role, state__in=["ready", "claimed"]
    )


def test_one_application_makes_a_parent_and_a_child_per_item(joint):
    parent = submit_bundle(joint, key="bundle-0001-abcd")
    assert submit_bundle(joint, key="bundle-0001-abcd").pk == parent.pk
    assert parent.is_joint is True
    assert parent.case_type == "joint"
    assert (parent.legal_limit_days, parent.promised_limit_days) == (30, 30)
    assert parent.department_code == "SCJG"
    children = list(parent.children.order_by("pk"))
    assert [(c.department_code, c.state, c.promised_limit_days) for c in children] == [
        ("SCJG", "submitted", 10),
        ("RSJ", "submitted", 5),
    ]
    assert len({parent.number, *(c.number for c in children)}) == 3
    payload = Event.objects.get(name="approvals.case.submitted", payload__case_id=parent.pk).payload
    assert payload["department_codes"] == ["SCJG", "RSJ"]
    assert payload["is_joint"] is True
    child_payload = Event.objects.get(
        name="approvals.case.submitted", payload__case_id=children[1].pk
    ).payload
    assert child_payload["parent_number"] == parent.number
    assert child_payload["bundle_code"] == "qykb"


def test_the_joint_limit_defaults_to_45_working_days(joint):
    catalog_services.bundle_save(
        actor=None,
        code="qykb2",
        name="企业开办（默认时限）",
        audience="enterprise",
        lead_department=joint.city.market,
        items=ServiceItem.objects.filter(pk__in=[joint.city.item_id, joint.social_item]),
    )
    parent = services.case_submit_bundle(
        actor=joint.city.agent,
        bundle_code="qykb2",
        applicant=services.ApplicantInput(kind="legal_person", legal_person=joint.city.enterprise),
        materials=[
            services.MaterialInput(
                name="食品经营许可申请书",
                file_id=upload(joint.city.agent).pk,
                item_id=joint.city.item_id,
            ),
            services.MaterialInput(
                name="参保登记表", file_id=upload(joint.city.agent).pk, item_id=joint.social_item
            ),
        ],
    )
    assert parent.legal_limit_days == 45


def test_correction_of_a_joint_case_is_one_notice_for_the_whole_application(joint):
    city = joint.city
    parent = submit_bundle(joint)
    with pytest.raises(ValidationError):  # not on a child
        services.case_correction_request(
            actor=city.clerk,
            case=child(parent, "SCJG"),
            items=[services.CorrectionItem(material="申请表", reason="x")],
        )
    services.case_correction_request(
        actor=city.clerk,
        case=parent,
        items=[
            services.CorrectionItem(
                material="食品经营许可申请书", reason="未盖章", item_id=city.item_id
            ),
            services.CorrectionItem(
                material="参保登记表", reason="缺少经办人签字", item_id=joint.social_item
            ),
        ],
    )
    assert Notice.objects.filter(kind="correction").count() == 1
    notice = Notice.objects.get(case=parent, kind="correction")
    body = "\n".join(notice.paragraphs)
    assert "单位参保登记：参保登记表 —— 缺少经办人签字" in body
    assert set(Case.objects.values_list("state", flat=True)) == {"correction"}
    services.case_correction_answer(
        actor=city.agent,
        case=parent,
        materials=[
            services.MaterialInput(
                name="参保登记表", file_id=upload(city.agent).pk, item_id=joint.social_item
            )
        ],
    )
    assert set(Case.objects.values_list("state", flat=True)) == {"submitted"}
    social = child(parent, "RSJ")
    assert social.materials.get(is_current=True).round == 1


def test_the_lead_window_accepts_once_and_departments_work_at_the_same_time(joint):
    city = joint.city
    parent = submit_bundle(joint)
    with pytest.raises(ValidationError):
        services.case_accept(actor=city.clerk, case=child(parent, "SCJG"))
    parent = accept_bundle(joint, parent)
    market, social = child(parent, "SCJG"), child(parent, "RSJ")
    assert {market.state, social.state, parent.state} == {CaseState.ACCEPTED}
    assert market.accepted_at == social.accepted_at == parent.accepted_at
    assert parent.process_instance_id is None
    [notice] = Notice.objects.filter(kind="acceptance")  # one notice for the application
    assert notice.case_id == parent.pk
    assert any(social.number in paragraph for paragraph in notice.paragraphs)
    # both departments have work at once; a child's process starts at review
    assert review_task(market).spec_id == "review_1"
    assert review_task(social).name == "审核"
    assert WorkTask.objects.filter(spec_id="accept").count() == 0
    # the social security office sees its own child only
    assert [entry.case.pk for entry in selectors.task_inbox(actor=joint.social_officer)] == [
        social.pk
    ]
    # departments decide in any order; the parent is decided with the last child
    services.case_task_complete(
        actor=joint.social_officer, case=social, task_id=review_task(social).pk, opinion="符合"
    )
    services.case_decide(actor=joint.social_leader, case=social, approve=True)
    parent.refresh_from_db()
    assert parent.state == CaseState.ACCEPTED
    services.case_task_complete(
        actor=city.officer, case=market, task_id=review_task(market).pk, opinion="不符合"
    )
    services.case_decide(
        actor=city.leader,
        case=market,
        approve=False,
        reasons="经营场所不符合要求",
        appeal_rights=services.appeal_rights_default(market.department_name),
    )
    parent.refresh_from_db()
    assert parent.state == CaseState.DECIDED
    assert parent.outcome == Outcome.PARTIAL
    with pytest.raises(ValidationError):  # a child is never delivered alone
        services.case_deliver(actor=city.clerk, case=child(parent, "SCJG"), method="collect")
    delivered = services.case_deliver(actor=city.clerk, case=parent, method="collect")
    assert delivered.state == CaseState.DELIVERED
    states = set(Case.objects.filter(parent=parent).values_list("state", "delivery_method"))
    assert states == {("delivered", "collect")}
    detail = selectors.case_detail(actor=city.agent, case=parent)
    assert [view.case.department_code for view in detail.children] == ["SCJG", "RSJ"]
    assert len(detail.licences) == 0  # the approved item is not a licensing item


def test_joint_extension_maximum_is_15_days(joint):
    parent = accept_bundle(joint, submit_bundle(joint))
    with pytest.raises(ValidationError):
        services.case_extension_request(
            actor=joint.city.officer, case=parent, days=16, reason="多部门协调"
        )
    extension = services.case_extension_request(
        actor=joint.city.officer, case=parent, days=15, reason="多部门协调"
    )
    services.case_extension_approve(actor=joint.city.leader, extension=extension)
    payload = Event.objects.get(name="approvals.case.extended").payload
    assert payload["extension_days"] == 15
    assert payload["legal_days_left"] == 45


def test_withdrawing_a_joint_case_withdraws_every_child(joint):
    parent = accept_bundle(joint, submit_bundle(joint))
    with pytest.raises(ValidationError):
        services.case_withdraw(actor=joint.city.agent, case=child(parent, "RSJ"))
    with pytest.raises(PermissionDenied):
        services.case_withdraw(actor=joint.city.citizen, case=parent)
    services.case_withdraw(actor=joint.city.agent, case=parent, reason="暂缓开办")
    assert set(Case.objects.values_list("state", flat=True)) == {"withdrawn"}
    assert not WorkTask.objects.filter(state__in=["ready", "claimed"]).exists()
