"""Reading BPMN files: the generated default, refusals, the condition sandbox."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from tongban.platform.workflow.bpmn import MAX_XML_BYTES, BpmnRefused
from tongban.platform.workflow.conditions import (
    ConditionError,
    condition_evaluate,
    condition_problem,
)
from tongban.platform.workflow.services import (
    DefaultStep,
    TaskTarget,
    definition_check,
    definition_default_xml,
    definition_inspect,
)
from tongban.platform.workflow.tests import samples

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
NOWHERE = TaskTarget()


def _refusal(xml: bytes) -> BpmnRefused:
    with pytest.raises(BpmnRefused) as caught:
        definition_check(xml=xml)
    return caught.value


def test_default_xml_round_trips_with_lanes_and_complete_di():
    steps = samples.steps(NOWHERE, NOWHERE, NOWHERE)
    xml = definition_default_xml(key="item.001", name="食品经营许可", steps=steps)

    tasks = definition_check(xml=xml)

    assert [(t.spec_id, t.name, t.tag, t.lane) for t in tasks] == [
        ("accept", "受理", "userTask", "窗口"),
        ("review_1", "初审", "userTask", "业务科室"),
        ("decide", "决定", "userTask", "分管领导"),
        ("deliver", "送达", "userTask", "窗口"),
    ]
    summary = definition_inspect(xml=xml)
    assert [lane.name for lane in summary.lanes] == ["窗口", "业务科室", "分管领导"]
    assert summary.process_name == "食品经营许可"
    root = etree.fromstring(xml)
    semantic = {e.get("id") for e in root.iterfind(".//bpmn:process/*", NS)}
    semantic |= {e.get("id") for e in root.iterfind(".//bpmn:lane", NS)}
    semantic.add(root.find(".//bpmn:participant", NS).get("id"))
    shapes = {e.get("bpmnElement") for e in root.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = root.findall(".//bpmndi:BPMNEdge", NS)
    flows = {e.get("id") for e in root.iterfind(".//bpmn:sequenceFlow", NS)}
    assert shapes == semantic - flows - {"tb_lanes"}
    assert {edge.get("bpmnElement") for edge in edges} == flows
    assert len(flows) == 5
    for edge in edges:
        assert len(edge.findall("di:waypoint", NS)) in (2, 4)  # straight, or across lanes
    for shape in root.iterfind(".//bpmndi:BPMNShape", NS):
        assert shape.find("dc:Bounds", NS) is not None


def test_default_xml_is_the_same_bytes_for_the_same_steps():
    steps = samples.steps(NOWHERE, NOWHERE, NOWHERE)
    first = definition_default_xml(key="k", name="流程", steps=steps)
    assert definition_default_xml(key="k", name="流程", steps=steps) == first
    assert definition_default_xml(key="k", name="另一流程", steps=steps) != first


def test_default_xml_rejects_bad_step_ids():
    bad = [DefaultStep("tb_start", "受理", "accept", "窗口", NOWHERE)]
    with pytest.raises(Exception, match="环节 id 不合法"):
        definition_default_xml(key="k", name="流程", steps=bad)
    twice = [DefaultStep("a", "甲", "", "", NOWHERE), DefaultStep("a", "乙", "", "", NOWHERE)]
    with pytest.raises(Exception, match="环节 id 重复"):
        definition_default_xml(key="k", name="流程", steps=twice)


def test_plain_and_manual_tasks_are_work_for_people():
    tasks = definition_check(xml=samples.linear("a", "b", tag="task"))
    assert [(t.spec_id, t.tag) for t in tasks] == [("a", "task"), ("b", "task")]
    tasks = definition_check(xml=samples.linear("m", tag="manualTask"))
    assert [(t.spec_id, t.tag) for t in tasks] == [("m", "manualTask")]


def test_script_task_is_refused_with_its_tag_and_id():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:scriptTask id="Task_1" scriptFormat="python">'
        '<bpmn:script>import os</bpmn:script></bpmn:scriptTask><bpmn:endEvent id="e"/>'
        + samples.flow("f1", "s", "Task_1")
        + samples.flow("f2", "Task_1", "e")
    )
    refusal = _refusal(xml)
    assert (refusal.element, refusal.element_id) == ("scriptTask", "Task_1")
    assert refusal.message == "不支持的 BPMN 元素：scriptTask（id=Task_1）"


@pytest.mark.parametrize(
    ("element", "body"),
    [
        ("serviceTask", '<bpmn:serviceTask id="X"/>'),
        ("sendTask", '<bpmn:sendTask id="X"/>'),
        ("receiveTask", '<bpmn:receiveTask id="X"/>'),
        ("businessRuleTask", '<bpmn:businessRuleTask id="X"/>'),
        ("intermediateCatchEvent", '<bpmn:intermediateCatchEvent id="X"/>'),
        ("eventBasedGateway", '<bpmn:eventBasedGateway id="X"/>'),
        ("complexGateway", '<bpmn:complexGateway id="X"/>'),
        ("transaction", '<bpmn:transaction id="X"/>'),
    ],
)
def test_elements_the_platform_cannot_run_are_refused(element, body):
    xml = samples.process(
        f'<bpmn:startEvent id="s"/>{body}<bpmn:userTask id="u"/><bpmn:endEvent id="e"/>'
        + samples.flow("f1", "s", "X")
        + samples.flow("f2", "X", "u")
        + samples.flow("f3", "u", "e")
    )
    refusal = _refusal(xml)
    assert (refusal.element, refusal.element_id) == (element, "X")


def test_message_start_and_timer_boundary_events_are_refused():
    message_start = samples.process(
        '<bpmn:startEvent id="s"><bpmn:messageEventDefinition id="MED_1"/></bpmn:startEvent>'
        '<bpmn:userTask id="u"/>' + samples.flow("f1", "s", "u")
    )
    refusal = _refusal(message_start)
    assert (refusal.element, refusal.element_id) == ("messageEventDefinition", "MED_1")
    assert "id=s" in refusal.message

    boundary = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u"/>'
        '<bpmn:boundaryEvent id="timer" attachedToRef="u"><bpmn:timerEventDefinition/>'
        "</bpmn:boundaryEvent>" + samples.flow("f1", "s", "u")
    )
    refusal = _refusal(boundary)
    assert (refusal.element, refusal.element_id) == ("boundaryEvent", "timer")


def test_multi_instance_task_is_refused_naming_the_task():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u">'
        '<bpmn:multiInstanceLoopCharacteristics isSequential="false"/></bpmn:userTask>'
        + samples.flow("f1", "s", "u")
    )
    refusal = _refusal(xml)
    assert (refusal.element, refusal.element_id) == ("multiInstanceLoopCharacteristics", "u")


@pytest.mark.parametrize(
    "condition",
    [
        "__import__('os').system('id')",
        "open('/etc/passwd')",
        "amount.__class__",
        "[x for x in range(10**9)]",
        "lambda: 1",
        "amount * 2 &gt; 10",
        "${approved}",
        "data['x'] == 1",
    ],
)
def test_unsafe_or_foreign_conditions_are_refused_with_the_flow_id(condition):
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f_no"/>'
        '<bpmn:userTask id="yes"/><bpmn:userTask id="no"/>'
        + samples.flow("f1", "s", "g")
        + samples.flow("f_yes", "g", "yes", condition)
        + samples.flow("f_no", "g", "no")
    )
    refusal = _refusal(xml)
    assert (refusal.element, refusal.element_id) == ("sequenceFlow", "f_yes")
    assert "f_yes" in refusal.message


def test_condition_on_a_flow_leaving_a_task_is_refused():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="a"/><bpmn:userTask id="b"/>'
        + samples.flow("f1", "s", "a")
        + samples.flow("f2", "a", "b", "approved")
    )
    refusal = _refusal(xml)
    assert (refusal.element, refusal.element_id) == ("sequenceFlow", "f2")


def test_gateway_branch_without_condition_or_default_is_refused():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g"/>'
        '<bpmn:userTask id="a"/><bpmn:userTask id="b"/>'
        + samples.flow("f1", "s", "g")
        + samples.flow("f2", "g", "a", "x == 1")
        + samples.flow("f3", "g", "b")
    )
    refusal = _refusal(xml)
    assert (refusal.element, refusal.element_id) == ("sequenceFlow", "f3")


def test_a_loop_no_person_acts_in_is_refused():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g1" default="f2"/>'
        '<bpmn:exclusiveGateway id="g2" default="f3"/><bpmn:userTask id="u"/>'
        + samples.flow("f1", "s", "g1")
        + samples.flow("f2", "g1", "g2")
        + samples.flow("f3", "g2", "g1")
        + samples.flow("f4", "g2", "u", "x == 1")
    )
    refusal = _refusal(xml)
    assert refusal.element == "exclusiveGateway"
    assert refusal.element_id in ("g1", "g2")
    assert "循环" in refusal.message


def test_a_loop_back_through_a_user_task_is_allowed():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="fill"/>'
        '<bpmn:exclusiveGateway id="ok" default="again"/><bpmn:endEvent id="e"/>'
        + samples.flow("f1", "s", "fill")
        + samples.flow("f2", "fill", "ok")
        + samples.flow("done", "ok", "e", "complete == True")
        + samples.flow("again", "ok", "fill")
    )
    assert [t.spec_id for t in definition_check(xml=xml)] == ["fill"]


def test_call_activity_needs_a_process_of_the_same_file():
    missing = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:callActivity id="call" calledElement="elsewhere"/>'
        '<bpmn:userTask id="u"/>'
        + samples.flow("f1", "s", "call")
        + samples.flow("f2", "call", "u")
    )
    refusal = _refusal(missing)
    assert (refusal.element, refusal.element_id) == ("callActivity", "call")

    no_target = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:callActivity id="call"/><bpmn:userTask id="u"/>'
        + samples.flow("f1", "s", "call")
        + samples.flow("f2", "call", "u")
    )
    assert _refusal(no_target).element_id == "call"

    inner = (
        '<bpmn:process id="Inner" isExecutable="false"><bpmn:startEvent id="is"/>'
        '<bpmn:userTask id="inner_task" name="内部审查"/><bpmn:endEvent id="ie"/>'
        + samples.flow("if1", "is", "inner_task")
        + samples.flow("if2", "inner_task", "ie")
        + "</bpmn:process>"
    )
    found = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:callActivity id="call" calledElement="Inner"/>'
        '<bpmn:userTask id="u"/>'
        + samples.flow("f1", "s", "call")
        + samples.flow("f2", "call", "u"),
        extra=inner,
    )
    assert [t.spec_id for t in definition_check(xml=found)] == ["inner_task", "u"]


def test_malformed_empty_huge_and_foreign_files_are_refused_cleanly():
    assert "XML 格式错误" in _refusal(b"<bpmn:definitions><unclosed>").message
    assert _refusal(b"").message == "文件为空"
    assert _refusal(b"   \n").message == "文件为空"
    huge = b"<a>" + b" " * MAX_XML_BYTES + b"</a>"
    assert "文件过大" in _refusal(huge).message
    refusal = _refusal(b'<?xml version="1.0"?><html id="page"><body/></html>')
    assert (refusal.element, refusal.element_id) == ("html", "page")
    assert "根元素" in refusal.message
    other_namespace = b'<definitions xmlns="urn:not-bpmn"/>'
    assert _refusal(other_namespace).element == "definitions"
    assert _refusal(b"\xff\xfe\x00garbage").message.startswith("XML 格式错误")


def test_entities_and_dtds_are_refused():
    billion_laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&lol2;</definitions>'
    )
    assert "DTD" in _refusal(billion_laughs).message
    external = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</definitions>'
    )
    assert "DTD" in _refusal(external).message


def test_missing_and_duplicate_ids_are_refused():
    no_id = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask name="无编号"/>' + samples.flow("f1", "s", "x")
    )
    refusal = _refusal(no_id)
    assert (refusal.element, refusal.element_id) == ("userTask", "")
    assert "缺少 id" in refusal.message
    twice = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u"/><bpmn:userTask id="u"/>'
    )
    refusal = _refusal(twice)
    assert (refusal.element, refusal.element_id) == ("userTask", "u")


def test_no_process_or_several_startable_processes_are_refused():
    empty = (samples.HEADER + "</bpmn:definitions>").encode()
    refusal = _refusal(empty)
    assert (refusal.element, refusal.element_id) == ("definitions", "Definitions_1")
    second = (
        '<bpmn:process id="Other" isExecutable="false"><bpmn:startEvent id="s2"/>'
        '<bpmn:userTask id="u2"/>' + samples.flow("g1", "s2", "u2") + "</bpmn:process>"
    )
    two = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u"/>' + samples.flow("f1", "s", "u"),
        extra=second,
    )
    refusal = _refusal(two)
    assert (refusal.element, refusal.element_id) == ("process", "Other")
    # marking one of them executable chooses it
    chosen = two.replace(b'id="Other" isExecutable="false"', b'id="Other" isExecutable="true"')
    assert [t.spec_id for t in definition_check(xml=chosen)] == ["u2"]


def test_drawn_only_elements_are_kept_for_the_diagram_but_not_run():
    xml = samples.process(
        '<bpmn:startEvent id="s"/><bpmn:userTask id="u">'
        '<bpmn:extensionElements><camunda:script xmlns:camunda="http://camunda.org/schema/1.0/bpmn">'
        "import os</camunda:script></bpmn:extensionElements>"
        '<bpmn:dataOutputAssociation id="doa"><bpmn:targetRef>obj_ref</bpmn:targetRef>'
        "</bpmn:dataOutputAssociation></bpmn:userTask>"
        '<bpmn:dataObjectReference id="obj_ref" dataObjectRef="obj"/><bpmn:dataObject id="obj"/>'
        '<bpmn:textAnnotation id="note"><bpmn:text>说明</bpmn:text></bpmn:textAnnotation>'
        + samples.flow("f1", "s", "u")
    )
    summary = definition_inspect(xml=xml)
    assert [t.spec_id for t in summary.user_tasks] == ["u"]
    assert b"camunda" not in summary.executable_xml
    assert b"dataObject" not in summary.executable_xml
    assert "textAnnotation" in summary.stored_xml


def test_condition_sandbox_allows_only_comparisons_of_data():
    assert condition_problem("approved == True and fee <= 100") is None
    assert condition_problem("kind in ['a', 'b'] or not urgent") is None
    assert condition_problem("x is None") is None
    assert condition_problem("f(x)") is not None
    assert condition_problem("a.b") is not None
    assert condition_problem("_secret == 1") is not None
    assert condition_problem("x +") is not None
    assert condition_problem("x" * 1001) is not None
    assert condition_evaluate("fee <= 100 and kind in ('a', 'b')", {"fee": 50, "kind": "a"})
    assert not condition_evaluate("-fee > 0", {"fee": 5})
    assert condition_evaluate("a < b < c", {"a": 1, "b": 2, "c": 3}) is True
    with pytest.raises(ConditionError, match="未提供的数据：fee"):
        condition_evaluate("fee > 1", {})
    with pytest.raises(ConditionError, match="不能比较"):
        condition_evaluate("fee > 1", {"fee": "many"})
    with pytest.raises(ConditionError):
        condition_evaluate("__import__('os')", {})


def test_no_input_crashes_the_checker():
    rng = random.Random(20261130)
    default = definition_default_xml(
        key="fuzz", name="模糊", steps=samples.steps(NOWHERE, NOWHERE, NOWHERE)
    )
    sources = [samples.PARALLEL_WITH_CHOICE, default]
    cases: list[bytes] = []
    for source in sources:
        for _ in range(60):
            cut = rng.randrange(len(source))
            cases.append(source[:cut])
            mutated = bytearray(source)
            for _flip in range(rng.randrange(1, 6)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            cases.append(bytes(mutated))
            start = rng.randrange(len(source))
            cases.append(source[:start] + source[start + rng.randrange(1, 200) :])
    nested = samples.process(
        '<bpmn:startEvent id="s"/>'
        + "".join(f'<bpmn:subProcess id="p{i}">' for i in range(300))
        + "</bpmn:subProcess>" * 300
    )
    cases.append(nested)
    cases.append(samples.linear(*[f"t{i}" for i in range(400)]))  # too many flow nodes
    outcomes = {"accepted": 0, "refused": 0}
    messages = []
    for case in cases:
        try:
            definition_check(xml=case)
            outcomes["accepted"] += 1
        except BpmnRefused as refusal:
            messages.append(refusal.message)
            outcomes["refused"] += 1
    assert all(messages)
    assert outcomes["refused"] > 300
    assert outcomes["accepted"] > 0  # some flips only touch names or whitespace
