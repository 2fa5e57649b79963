"""Definitions, instances and tasks through the services: mapping, transitions, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import verify_chain
from tongban.platform.workflow import services
from tongban.platform.workflow.models import (
    ProcessDefinition,
    ProcessInstance,
    TaskOutcome,
    WorkTask,
    WorkTaskState,
)
from tongban.platform.workflow.selectors import task_inbox_for
from tongban.platform.workflow.services import (
    BpmnRefused,
    TaskMapping,
    TaskTarget,
    definition_default,
    definition_upload,
    instance_cancel,
    instance_position,
    instance_start,
    task_claim,
    task_complete,
    task_return,
)
from tongban.platform.workflow.tests import samples

pytestmark = pytest.mark.django_db


def _open(instance):
    return list(
        WorkTask.objects.filter(
            instance=instance, state__in=[WorkTaskState.READY, WorkTaskState.CLAIMED]
        ).order_by("spec_id")
    )


def _actions():
    return list(AuditEntry.objects.order_by("seq").values_list("action", flat=True))


@pytest.fixture
def joint(people, targets):
    """The parallel process, its lanes mapped to departments and one task mapped itself."""
    return definition_upload(
        actor=people["admin"],
        key="joint.opening",
        name="企业开办",
        xml=samples.PARALLEL_WITH_CHOICE,
        lane_map={
            "窗口": targets["window"],
            "Lane_departments": targets["market"],
            "分管领导": targets["leader"],
        },
        task_map={"review_tax": TaskMapping(role="review", target=targets["tax"], days=5)},
    )


@pytest.fixture
def linear(people, targets):
    return definition_default(
        actor=None,
        key="item.food",
        name="食品经营许可",
        steps=samples.steps(targets["window"], targets["market"], targets["leader"]),
    )


def test_upload_resolves_lane_and_task_targets(joint, people):
    assert (joint.key, joint.version, joint.process_id) == ("joint.opening", 1, "Process_1")
    assert joint.task_map["accept"] == {
        "name": "受理",
        "lane": "窗口",
        "role": "",
        "days": 0,
        "department_code": "ZWFW",
        "unit_code": "ZWFW-CK",
        "position_code": "",
    }
    assert joint.task_map["review_market"]["unit_code"] == "SCJG-XK"  # by lane id
    assert joint.task_map["review_tax"] == {
        "name": "税务审查",
        "lane": "业务科室",
        "role": "review",
        "days": 5,
        "department_code": "SWJ",
        "unit_code": "",
        "position_code": "",
    }
    assert joint.created_by == people["admin"]
    assert _actions()[-1] == "workflow.definition.upload"
    again = definition_upload(
        actor=people["admin"],
        key="joint.opening",
        name="企业开办",
        xml=samples.PARALLEL_WITH_CHOICE,
    )
    assert again.version == 2
    assert again.task_map["accept"]["department_code"] == ""  # unmapped this time


def test_upload_needs_the_permission_and_valid_mappings(people, targets):
    with pytest.raises(PermissionDenied):
        definition_upload(actor=people["clerk"], key="k", name="流程", xml=samples.linear("a"))
    with pytest.raises(ValidationError, match="不是流程中的人工任务：zzz"):
        definition_upload(
            actor=people["admin"],
            key="k",
            name="流程",
            xml=samples.linear("a"),
            task_map={"zzz": TaskMapping()},
        )
    with pytest.raises(ValidationError, match="部门编码不存在：NOPE"):
        definition_upload(
            actor=people["admin"],
            key="k",
            name="流程",
            xml=samples.linear("a"),
            task_map={"a": TaskMapping(target=TaskTarget(department_code="NOPE"))},
        )
    with pytest.raises(ValidationError, match="不属于部门"):
        definition_upload(
            actor=people["admin"],
            key="k",
            name="流程",
            xml=samples.linear("a"),
            task_map={"a": TaskMapping(target=TaskTarget("SWJ", "SCJG-XK"))},
        )
    with pytest.raises(BpmnRefused):
        definition_upload(actor=people["admin"], key="k", name="流程", xml=b"<nope/>")
    assert ProcessDefinition.objects.count() == 0


def test_default_definition_is_idempotent_for_identical_steps(targets):
    steps = samples.steps(targets["window"], targets["market"], targets["leader"])
    first = definition_default(actor=None, key="item.1", name="事项", steps=steps)
    second = definition_default(actor=None, key="item.1", name="事项", steps=steps)
    assert second.pk == first.pk
    assert first.is_generated
    assert first.task_map["review_1"]["days"] == 5
    assert first.task_map["review_1"]["role"] == "review"
    changed = [
        *steps[:-1],
        services.DefaultStep("deliver", "送达", "deliver", "窗口", targets["window"], 9),
    ]
    third = definition_default(actor=None, key="item.1", name="事项", steps=changed)
    assert third.version == 2
    assert _actions().count("workflow.definition.default") == 2


def test_start_materialises_the_first_tasks_with_their_targets(joint, people):
    instance = instance_start(
        actor=people["clerk"], definition=joint, subject="approvals.case:1", data={"fee": 0}
    )
    tasks = _open(instance)
    assert [(t.spec_id, t.name, t.lane, t.department_code, t.unit_code) for t in tasks] == [
        ("accept", "受理", "窗口", "ZWFW", "ZWFW-CK")
    ]
    assert tasks[0].state == WorkTaskState.READY
    assert instance.started_by == people["clerk"]
    assert not instance.is_finished
    assert "spec" not in instance.state  # the spec comes from the definition
    entry = AuditEntry.objects.get(action="workflow.instance.start")
    assert entry.actor_id == people["clerk"].pk
    assert instance_position(instance) == services.Position(active=["accept"], completed=["start"])


def test_parallel_gateway_gives_two_ready_tasks_and_the_join_waits(joint, people):
    instance = instance_start(actor=people["clerk"], definition=joint, subject="case:2")
    (accept,) = _open(instance)
    created = task_complete(actor=people["clerk"], task=accept, data={"fee": 80})
    assert sorted((t.spec_id, t.department_code) for t in created) == [
        ("review_market", "SCJG"),
        ("review_tax", "SWJ"),
    ]
    accept.refresh_from_db()
    assert (accept.state, accept.outcome, accept.completed_by) == (
        WorkTaskState.COMPLETED,
        TaskOutcome.DONE,
        people["clerk"],
    )
    market = next(t for t in created if t.spec_id == "review_market")
    tax = next(t for t in created if t.spec_id == "review_tax")
    assert task_complete(actor=people["taxman"], task=tax) == []  # the join waits
    assert [t.spec_id for t in _open(instance)] == ["review_market"]
    (decide,) = task_complete(actor=people["officer"], task=market, data={"opinion": "同意"})
    assert decide.spec_id == "decide"
    assert decide.position_code == "分管副局长"
    position = instance_position(ProcessInstance.objects.get(pk=instance.pk))
    assert position.active == ["decide"]
    assert {"accept", "split", "review_market", "review_tax", "join"} <= set(position.completed)


def _to_decision(joint, people, subject):
    instance = instance_start(actor=people["clerk"], definition=joint, subject=subject)
    (accept,) = _open(instance)
    task_complete(actor=people["clerk"], task=accept, data={"fee": 80})
    for task in _open(instance):
        actor = people["taxman"] if task.spec_id == "review_tax" else people["officer"]
        task_complete(actor=actor, task=task)
    (decide,) = _open(instance)
    return instance, decide


def test_exclusive_gateway_follows_the_condition_on_the_data(joint, people):
    approved, decide = _to_decision(joint, people, "case:yes")
    (deliver,) = task_complete(actor=people["leader"], task=decide, data={"approved": True})
    assert deliver.spec_id == "deliver"
    assert task_complete(actor=people["clerk"], task=deliver) == []
    approved.refresh_from_db()
    assert approved.is_finished
    assert approved.finished_at is not None
    assert "end_delivered" in instance_position(approved).completed

    refused, decide = _to_decision(joint, people, "case:no")
    assert task_complete(actor=people["leader"], task=decide, data={"approved": False}) == []
    refused.refresh_from_db()
    assert refused.is_finished
    position = instance_position(refused)
    assert "end_refused" in position.completed
    assert "deliver" not in position.completed


def test_a_condition_on_missing_data_refuses_the_completion_and_changes_nothing(joint, people):
    instance, decide = _to_decision(joint, people, "case:missing")
    state_before = ProcessInstance.objects.get(pk=instance.pk).state
    with pytest.raises(ValidationError, match="未提供的数据：approved"):
        task_complete(actor=people["leader"], task=decide)
    decide.refresh_from_db()
    assert decide.state == WorkTaskState.READY
    assert ProcessInstance.objects.get(pk=instance.pk).state == state_before


def test_return_to_an_earlier_task_withdraws_the_parallel_branch(joint, people):
    instance = instance_start(actor=people["clerk"], definition=joint, subject="case:3")
    (accept,) = _open(instance)
    task_complete(actor=people["clerk"], task=accept, data={"fee": 80})
    market, tax = _open(instance)
    assert (market.spec_id, tax.spec_id) == ("review_market", "review_tax")

    with pytest.raises(ValidationError, match="请填写原因"):
        task_return(actor=people["officer"], task=market, to_spec_id="accept", reason=" ")
    with pytest.raises(ValidationError, match="之前已办结的环节：review_tax"):
        task_return(actor=people["officer"], task=market, to_spec_id="review_tax", reason="错")

    created = task_return(
        actor=people["officer"], task=market, to_spec_id="accept", reason="材料不全"
    )
    assert [(t.spec_id, t.state) for t in created] == [("accept", WorkTaskState.READY)]
    market.refresh_from_db()
    tax.refresh_from_db()
    assert (market.state, market.outcome, market.note) == (
        WorkTaskState.COMPLETED,
        TaskOutcome.RETURNED,
        "材料不全",
    )
    assert (tax.state, tax.outcome) == (WorkTaskState.CANCELLED, TaskOutcome.WITHDRAWN)
    assert [t.spec_id for t in _open(instance)] == ["accept"]
    # the process runs again from there
    again = task_complete(actor=people["clerk"], task=created[0], data={"fee": 10})
    assert sorted(t.spec_id for t in again) == ["review_market", "review_tax"]
    assert "workflow.task.return" in _actions()


def test_cancel_withdraws_every_open_task(joint, people):
    instance = instance_start(actor=people["clerk"], definition=joint, subject="case:4")
    (accept,) = _open(instance)
    task_complete(actor=people["clerk"], task=accept, data={"fee": 1})
    instance_cancel(actor=people["clerk"], instance=instance, reason="申请人撤回")
    assert instance.is_finished
    assert instance.is_cancelled
    assert instance.cancel_reason == "申请人撤回"
    assert _open(instance) == []
    assert WorkTask.objects.filter(instance=instance, state=WorkTaskState.CANCELLED).count() == 2
    assert instance_position(instance).active == []
    with pytest.raises(ValidationError, match="流程已结束"):
        instance_cancel(actor=people["clerk"], instance=instance, reason="再撤")
    entry = AuditEntry.objects.get(action="workflow.instance.cancel")
    assert entry.actor_id == people["clerk"].pk


def test_claim_conflicts(joint, people):
    instance = instance_start(actor=people["clerk"], definition=joint, subject="case:5")
    (accept,) = _open(instance)
    claimed = task_claim(actor=people["clerk"], task=accept)
    assert (claimed.state, claimed.claimed_by) == (WorkTaskState.CLAIMED, people["clerk"])
    assert task_claim(actor=people["clerk"], task=accept).pk == accept.pk  # idempotent
    with pytest.raises(ValidationError, match="已由 clerk 签收"):
        task_claim(actor=people["clerk2"], task=accept)
    with pytest.raises(ValidationError, match="已由 clerk 签收"):
        task_complete(actor=people["clerk2"], task=accept)
    with pytest.raises(PermissionDenied):
        task_claim(actor=people["officer"], task=accept)  # not a window clerk
    assert AuditEntry.objects.filter(action="workflow.task.claim", outcome="denied").count() == 1
    # only the claimer sees it now
    assert list(task_inbox_for(actor=people["clerk"])) == [accept]
    assert list(task_inbox_for(actor=people["clerk2"])) == []
    task_complete(actor=people["clerk"], task=accept, data={"fee": 1})
    with pytest.raises(ValidationError, match="该任务已办结"):
        task_claim(actor=people["clerk"], task=accept)
    with pytest.raises(ValidationError, match="该任务已办结"):
        task_complete(actor=people["clerk"], task=accept)


def test_an_exception_mid_transition_leaves_the_previous_state(joint, people, monkeypatch):
    instance = instance_start(actor=people["clerk"], definition=joint, subject="case:6")
    (accept,) = _open(instance)
    before = ProcessInstance.objects.get(pk=instance.pk)
    audit_count = AuditEntry.objects.count()

    def explode(*args, **kwargs):
        raise RuntimeError("the server died")

    monkeypatch.setattr(services, "_save_instance", explode)
    with pytest.raises(RuntimeError, match="the server died"):
        task_complete(actor=people["clerk"], task=accept, data={"fee": 1})
    after = ProcessInstance.objects.get(pk=instance.pk)
    assert (after.state, after.revision) == (before.state, before.revision)
    accept.refresh_from_db()
    assert accept.state == WorkTaskState.READY
    assert [t.spec_id for t in _open(instance)] == ["accept"]  # no new tasks half-written
    assert AuditEntry.objects.count() == audit_count
    monkeypatch.undo()
    assert len(task_complete(actor=people["clerk"], task=accept, data={"fee": 1})) == 2


def test_inbox_is_scoped_to_postings(joint, linear, people):
    instance_start(actor=people["clerk"], definition=joint, subject="case:7")
    other = instance_start(actor=people["clerk"], definition=linear, subject="case:8")
    (accept,) = _open(other)
    assert sorted(t.instance.subject for t in task_inbox_for(actor=people["clerk"])) == [
        "case:7",
        "case:8",
    ]
    assert list(task_inbox_for(actor=people["officer"])) == []
    task_complete(actor=people["clerk"], task=accept)
    (review,) = _open(other)
    assert review.spec_id == "review_1"
    # 许可一科 lies under 行政许可处 (SCJG-XK), same position: both officers see it
    assert list(task_inbox_for(actor=people["officer"])) == [review]
    assert list(task_inbox_for(actor=people["officer2"])) == [review]
    assert list(task_inbox_for(actor=people["leader"])) == []  # 分管副局长, not 科员
    assert list(task_inbox_for(actor=people["taxman"])) == []
    assert list(task_inbox_for(actor=people["nobody"])) == []
    with pytest.raises(PermissionDenied):
        task_complete(actor=people["taxman"], task=review)


def test_unmapped_tasks_reach_nobody_but_the_system(people):
    definition = definition_upload(
        actor=people["admin"], key="bare", name="未映射", xml=samples.linear("a", "b")
    )
    instance = instance_start(actor=None, definition=definition, subject="s")
    (task,) = _open(instance)
    assert list(task_inbox_for(actor=people["clerk"])) == []
    with pytest.raises(PermissionDenied):
        task_complete(actor=people["clerk"], task=task)
    (second,) = task_complete(actor=None, task=task)
    assert second.spec_id == "b"


def test_data_must_be_plain_json(joint, people):
    with pytest.raises(ValidationError, match="只能包含"):
        instance_start(actor=None, definition=joint, subject="s", data={"when": object()})
    with pytest.raises(ValidationError, match="标识符"):
        instance_start(actor=None, definition=joint, subject="s", data={"not a name": 1})
    with pytest.raises(ValidationError, match="业务对象"):
        instance_start(actor=None, definition=joint, subject="", data={})
    assert ProcessInstance.objects.count() == 0


def test_sub_process_tasks_are_materialised_and_the_audit_chain_holds(people):
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:subProcess id="sub" name="联合审查">'
        '<bpmn:startEvent id="ss"/><bpmn:userTask id="inner" name="内部审查"/>'
        '<bpmn:endEvent id="se"/>'
        + samples.flow("sf1", "ss", "inner")
        + samples.flow("sf2", "inner", "se")
        + '</bpmn:subProcess><bpmn:userTask id="after" name="之后"/><bpmn:endEvent id="e"/>'
        + samples.flow("f1", "s", "sub")
        + samples.flow("f2", "sub", "after")
        + samples.flow("f3", "after", "e")
    )
    definition = definition_upload(actor=people["admin"], key="sub", name="子流程", xml=xml)
    instance = instance_start(actor=None, definition=definition, subject="sub:1")
    (inner,) = _open(instance)
    assert inner.spec_id == "inner"
    assert instance_position(instance).active == ["sub", "inner"]
    (after,) = task_complete(actor=None, task=inner)
    assert after.spec_id == "after"
    task_return(actor=None, task=after, to_spec_id="inner", reason="重审")
    (inner_again,) = _open(instance)
    assert inner_again.spec_id == "inner"
    task_complete(actor=None, task=inner_again)
    task_complete(actor=None, task=_open(instance)[0])
    instance.refresh_from_db()
    assert instance.is_finished
    assert verify_chain().ok


def test_state_restores_whatever_order_the_database_keeps_the_tasks_in(joint, people):
    # PostgreSQL's jsonb reorders object keys; task data is stored as deltas to the parent
    instance = instance_start(actor=people["clerk"], definition=joint, subject="case:order")
    (accept,) = _open(instance)
    task_complete(actor=people["clerk"], task=accept, data={"fee": 80})
    stored = ProcessInstance.objects.get(pk=instance.pk)
    stored.state["tasks"] = dict(reversed(list(stored.state["tasks"].items())))
    stored.save(update_fields=["state"])
    for task in _open(instance):
        actor = people["taxman"] if task.spec_id == "review_tax" else people["officer"]
        task_complete(actor=actor, task=task)
    (decide,) = _open(instance)
    (deliver,) = task_complete(actor=people["leader"], task=decide, data={"approved": True})
    assert deliver.spec_id == "deliver"  # "fee <= 100" still saw the fee given at acceptance


INCLUSIVE = samples.process(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="apply"/>'
    '<bpmn:inclusiveGateway id="which" default="f_none"/>'
    '<bpmn:userTask id="fire"/><bpmn:userTask id="health"/><bpmn:userTask id="none"/>'
    '<bpmn:inclusiveGateway id="merge"/><bpmn:userTask id="decide"/><bpmn:endEvent id="e"/>'
    + samples.flow("f1", "s", "apply")
    + samples.flow("f2", "apply", "which")
    + samples.flow("f_fire", "which", "fire", "'fire' in checks")
    + samples.flow("f_health", "which", "health", "'health' in checks")
    + samples.flow("f_none", "which", "none")
    + samples.flow("f3", "fire", "merge")
    + samples.flow("f4", "health", "merge")
    + samples.flow("f5", "none", "merge")
    + samples.flow("f6", "merge", "decide")
    + samples.flow("f7", "decide", "e")
)


@pytest.mark.parametrize(
    ("checks", "branches"),
    [(["fire", "health"], ["fire", "health"]), (["health"], ["health"]), ([], ["none"])],
)
def test_inclusive_gateway_runs_the_branches_whose_conditions_hold(people, checks, branches):
    definition = definition_upload(actor=None, key="inclusive", name="包容", xml=INCLUSIVE)
    instance = instance_start(actor=None, definition=definition, subject="inc")
    (apply,) = _open(instance)
    created = task_complete(actor=None, task=apply, data={"checks": checks})
    assert sorted(t.spec_id for t in created) == branches
    for task in created[:-1]:
        assert task_complete(actor=None, task=task) == []  # the merge waits for the rest
    (decide,) = task_complete(actor=None, task=created[-1])
    assert decide.spec_id == "decide"
