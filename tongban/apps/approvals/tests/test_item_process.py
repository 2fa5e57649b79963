"""An uploaded BPMN process bound to an item: its cases run it, task by task, with the
roles and targets the administrator mapped; a process that cannot run is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tests import factories
from tongban.apps.approvals import permissions, processes, services
from tongban.apps.approvals.models import CaseState, ItemProcess
from tongban.apps.approvals.tests.test_cases import accept, submit
from tongban.platform.audit.models import AuditEntry
from tongban.platform.workflow import services as workflow
from tongban.platform.workflow.models import WorkTask

pytestmark = pytest.mark.django_db

MARKET = workflow.TaskTarget(department_code="SCJG")


def upload(*, roles: dict[str, str], targets: dict[str, workflow.TaskTarget] | None = None):
    """A process drawn elsewhere: 受理 → 现场核查 → 技术审查 → 决定 → 送达."""
    names = {"t1": "受理", "t2": "现场核查", "t3": "技术审查", "t4": "决定", "t5": "送达"}
    xml = workflow.definition_default_xml(
        key="drawn",
        name="食品经营许可（自定义流程）",
        steps=[
            workflow.DefaultStep(
                spec_id=spec, name=name, role="", lane="科室", target=workflow.TaskTarget()
            )
            for spec, name in names.items()
        ],
    )
    targets = targets if targets is not None else dict.fromkeys(names, MARKET)
    return workflow.definition_upload(
        actor=None,
        key="custom.food",
        name="食品经营许可（自定义流程）",
        xml=xml,
        task_map={
            spec: workflow.TaskMapping(
                role=roles.get(spec, ""), target=targets.get(spec, workflow.TaskTarget())
            )
            for spec in names
        },
    )


FULL = {"t1": "accept", "t2": "review", "t3": "review", "t4": "decide", "t5": "deliver"}


def test_cases_of_the_item_run_the_uploaded_process(city):
    definition = upload(roles=FULL)
    binding = processes.item_process_set(
        actor=None, item_id=city.item_id, definition_id=definition.pk
    )
    assert binding.definition_label.endswith("custom.food v1")
    case = accept(city, submit(city))
    open_tasks = WorkTask.objects.filter(
        instance_id=case.process_instance_id, state__in=["ready", "claimed"]
    )
    assert [task.name for task in open_tasks] == ["现场核查"]
    for expected in ("现场核查", "技术审查"):
        task = open_tasks.get()
        assert task.name == expected
        case = services.case_task_complete(
            actor=city.officer, case=case, task_id=task.pk, opinion="符合"
        )
    case = services.case_decide(actor=city.leader, case=case, approve=True)
    assert case.state == CaseState.DECIDED
    assert services.case_deliver(actor=city.clerk, case=case, method="online").state == (
        CaseState.DELIVERED
    )
    assert AuditEntry.objects.filter(action="approvals.item_process.set").count() == 1


def test_a_process_without_roles_or_targets_is_refused_by_name(city):
    without_roles = upload(roles={"t4": "decide"})
    with pytest.raises(ValidationError) as refused:
        processes.item_process_set(actor=None, item_id=city.item_id, definition_id=without_roles.pk)
    text = " ".join(refused.value.messages)
    assert "现场核查（t2）" in text
    assert "没有指定用途" in text
    untargeted = upload(roles=FULL, targets={"t1": MARKET, "t5": MARKET})
    with pytest.raises(ValidationError, match="不会出现在任何人的待办中"):
        processes.item_process_set(actor=None, item_id=city.item_id, definition_id=untargeted.pk)
    no_decision = upload(roles={**FULL, "t4": "review"})
    with pytest.raises(ValidationError, match="没有作出决定的环节"):
        processes.item_process_set(actor=None, item_id=city.item_id, definition_id=no_decision.pk)
    assert not ItemProcess.objects.exists()


def test_binding_needs_the_permission_over_the_items_department(city):
    definition = upload(roles=FULL)
    with pytest.raises(PermissionDenied):
        processes.item_process_set(
            actor=city.officer, item_id=city.item_id, definition_id=definition.pk
        )
    manager = factories.staff(
        "process_manager",
        factories.unit(city.market, "SCJG-FG", "法规科"),
        role_obj=factories.role("process_manager", [permissions.PROCESS_MANAGE]),
        scope="department",
    )
    processes.item_process_set(actor=manager, item_id=city.item_id, definition_id=definition.pk)
    processes.item_process_clear(actor=manager, item_id=city.item_id)
    assert not ItemProcess.objects.exists()
    # back to the generated process
    case = accept(city, submit(city))
    assert WorkTask.objects.get(instance_id=case.process_instance_id, state="ready").name == "审查"
