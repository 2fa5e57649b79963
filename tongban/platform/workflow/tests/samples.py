"""Small BPMN files for the tests (built as text, like a modeller would write them)."""

from __future__ import annotations

from tongban.platform.workflow.services import DefaultStep, TaskTarget

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Definitions_1" '
    'targetNamespace="http://bpmn.io/schema/bpmn">\n'
)


def process(body: str, *, process_id: str = "Process_1", extra: str = "") -> bytes:
    return (
        f'{HEADER}<bpmn:process id="{process_id}" isExecutable="false">\n{body}\n'
        f"</bpmn:process>\n{extra}</bpmn:definitions>\n"
    ).encode()


def flow(flow_id: str, source: str, target: str, condition: str = "") -> str:
    if not condition:
        return f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}"/>'
    return (
        f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
    )


def linear(*elements: str, tag: str = "userTask") -> bytes:
    """start → each element (a task of ``tag``) → end."""
    nodes = ['<bpmn:startEvent id="start"/>']
    nodes += [f'<bpmn:{tag} id="{element}" name="{element}"/>' for element in elements]
    nodes.append('<bpmn:endEvent id="end"/>')
    chain = ["start", *elements, "end"]
    flows = [flow(f"f{i}", chain[i], chain[i + 1]) for i in range(len(chain) - 1)]
    return process("\n".join(nodes + flows))


# window → two departments at once → decision → (approved) delivery, else end
PARALLEL_WITH_CHOICE = process(
    """
<bpmn:laneSet id="LaneSet_1">
  <bpmn:lane id="Lane_window" name="窗口">
    <bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>accept</bpmn:flowNodeRef>
    <bpmn:flowNodeRef>deliver</bpmn:flowNodeRef>
  </bpmn:lane>
  <bpmn:lane id="Lane_departments" name="业务科室">
    <bpmn:flowNodeRef>review_market</bpmn:flowNodeRef>
    <bpmn:flowNodeRef>review_tax</bpmn:flowNodeRef>
  </bpmn:lane>
  <bpmn:lane id="Lane_leader" name="分管领导">
    <bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
  </bpmn:lane>
</bpmn:laneSet>
<bpmn:startEvent id="start" name="收件"/>
<bpmn:userTask id="accept" name="受理"/>
<bpmn:parallelGateway id="split"/>
<bpmn:userTask id="review_market" name="市场监管审查"/>
<bpmn:userTask id="review_tax" name="税务审查"/>
<bpmn:parallelGateway id="join"/>
<bpmn:userTask id="decide" name="决定"/>
<bpmn:exclusiveGateway id="approved_gateway" default="f_refused"/>
<bpmn:userTask id="deliver" name="送达"/>
<bpmn:endEvent id="end_delivered"/>
<bpmn:endEvent id="end_refused"/>
"""
    + "\n".join(
        [
            flow("f1", "start", "accept"),
            flow("f2", "accept", "split"),
            flow("f3", "split", "review_market"),
            flow("f4", "split", "review_tax"),
            flow("f5", "review_market", "join"),
            flow("f6", "review_tax", "join"),
            flow("f7", "join", "decide"),
            flow("f8", "decide", "approved_gateway"),
            flow("f_approved", "approved_gateway", "deliver", "approved == True and fee &lt;= 100"),
            flow("f_refused", "approved_gateway", "end_refused"),
            flow("f9", "deliver", "end_delivered"),
        ]
    )
)


def steps(window: TaskTarget, market: TaskTarget, leader: TaskTarget) -> list[DefaultStep]:
    return [
        DefaultStep("accept", "受理", "accept", "窗口", window, 1),
        DefaultStep("review_1", "初审", "review", "业务科室", market, 5),
        DefaultStep("decide", "决定", "decide", "分管领导", leader, 3),
        DefaultStep("deliver", "送达", "deliver", "窗口", window, 2),
    ]
