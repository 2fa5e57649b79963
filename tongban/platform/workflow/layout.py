"""The generated default process: start → one user task per step → end, in lanes, with a
complete BPMN DI section (pool, lanes, shapes, edges with waypoints) so bpmn-js draws it.

Names written into the file are data, not interface text: they are fixed Chinese words
(not translated) so the same steps always give the same bytes and the same hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from tongban.platform.workflow.bpmn import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS

RESERVED_PREFIX = "tb_"
START_NAME = "开始"
END_NAME = "结束"
DEFAULT_LANE = "经办"

POOL_X = 160
POOL_Y = 80
POOL_LABEL = 30
LANE_HEIGHT = 140
COLUMN = 160
FIRST_COLUMN = 70  # from the lanes' left edge to the start event's centre
TASK_WIDTH = 100
TASK_HEIGHT = 80
EVENT_SIZE = 36


@dataclass(frozen=True)
class LayoutStep:
    spec_id: str
    name: str
    lane: str


@dataclass(frozen=True)
class _Box:
    element_id: str
    centre_x: int
    centre_y: int
    width: int
    height: int

    @property
    def left(self) -> int:
        return self.centre_x - self.width // 2

    @property
    def right(self) -> int:
        return self.centre_x + self.width // 2

    @property
    def top(self) -> int:
        return self.centre_y - self.height // 2


def _bpmn(parent: etree._Element, tag: str, **attributes: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{BPMN_NS}}}{tag}", attrib=attributes)


def _bounds(parent: etree._Element, x: int, y: int, width: int, height: int) -> None:
    etree.SubElement(
        parent,
        f"{{{DC_NS}}}Bounds",
        attrib={"x": str(x), "y": str(y), "width": str(width), "height": str(height)},
    )


def default_process_xml(*, key: str, name: str, steps: Sequence[LayoutStep]) -> bytes:
    """A linear process over ``steps`` (already validated by the caller)."""
    lanes: list[str] = []
    for step in steps:
        lane = step.lane or DEFAULT_LANE
        if lane not in lanes:
            lanes.append(lane)
    lane_ids = {lane: f"{RESERVED_PREFIX}lane_{number}" for number, lane in enumerate(lanes, 1)}
    process_id = f"{RESERVED_PREFIX}process"
    start_id, end_id = f"{RESERVED_PREFIX}start", f"{RESERVED_PREFIX}end"

    root = etree.Element(
        f"{{{BPMN_NS}}}definitions",
        nsmap={"bpmn": BPMN_NS, "bpmndi": BPMNDI_NS, "dc": DC_NS, "di": DI_NS},
        attrib={
            "id": f"{RESERVED_PREFIX}definitions",
            "targetNamespace": f"urn:tongban:workflow:{key}",
            "exporter": "Tongban",
            "exporterVersion": "1",
        },
    )
    collaboration = _bpmn(root, "collaboration", id=f"{RESERVED_PREFIX}collaboration")
    participant_id = f"{RESERVED_PREFIX}participant"
    _bpmn(collaboration, "participant", id=participant_id, name=name, processRef=process_id)
    process = _bpmn(root, "process", id=process_id, name=name, isExecutable="true")
    lane_set = _bpmn(process, "laneSet", id=f"{RESERVED_PREFIX}lanes")
    lane_elements = {lane: _bpmn(lane_set, "lane", id=lane_ids[lane], name=lane) for lane in lanes}

    # the chain of elements: (id, lane) in order
    first_lane = steps[0].lane or DEFAULT_LANE
    last_lane = steps[-1].lane or DEFAULT_LANE
    chain: list[tuple[str, str]] = [(start_id, first_lane)]
    chain.extend((step.spec_id, step.lane or DEFAULT_LANE) for step in steps)
    chain.append((end_id, last_lane))
    for element_id, lane in chain:
        etree.SubElement(lane_elements[lane], f"{{{BPMN_NS}}}flowNodeRef").text = element_id

    flow_ids = [f"{RESERVED_PREFIX}flow_{number}" for number in range(1, len(chain))]
    nodes: list[etree._Element] = [_bpmn(process, "startEvent", id=start_id, name=START_NAME)]
    nodes.extend(_bpmn(process, "userTask", id=step.spec_id, name=step.name) for step in steps)
    nodes.append(_bpmn(process, "endEvent", id=end_id, name=END_NAME))
    for index, node in enumerate(nodes):
        if index > 0:
            etree.SubElement(node, f"{{{BPMN_NS}}}incoming").text = flow_ids[index - 1]
        if index < len(flow_ids):
            etree.SubElement(node, f"{{{BPMN_NS}}}outgoing").text = flow_ids[index]
    for index, flow_id in enumerate(flow_ids):
        _bpmn(
            process,
            "sequenceFlow",
            id=flow_id,
            sourceRef=chain[index][0],
            targetRef=chain[index + 1][0],
        )

    # --- diagram interchange ---
    lanes_left = POOL_X + POOL_LABEL
    boxes: list[_Box] = []
    for column, (element_id, lane) in enumerate(chain):
        centre_x = lanes_left + FIRST_COLUMN + column * COLUMN
        centre_y = POOL_Y + lanes.index(lane) * LANE_HEIGHT + LANE_HEIGHT // 2
        is_event = column in (0, len(chain) - 1)
        size = (EVENT_SIZE, EVENT_SIZE) if is_event else (TASK_WIDTH, TASK_HEIGHT)
        boxes.append(_Box(element_id, centre_x, centre_y, *size))
    pool_width = boxes[-1].right + FIRST_COLUMN - POOL_X
    pool_height = LANE_HEIGHT * len(lanes)

    diagram = etree.SubElement(
        root, f"{{{BPMNDI_NS}}}BPMNDiagram", attrib={"id": f"{RESERVED_PREFIX}diagram"}
    )
    plane = etree.SubElement(
        diagram,
        f"{{{BPMNDI_NS}}}BPMNPlane",
        attrib={"id": f"{RESERVED_PREFIX}plane", "bpmnElement": f"{RESERVED_PREFIX}collaboration"},
    )

    def shape(element_id: str, **extra: str) -> etree._Element:
        return etree.SubElement(
            plane,
            f"{{{BPMNDI_NS}}}BPMNShape",
            attrib={"id": f"{element_id}_di", "bpmnElement": element_id, **extra},
        )

    _bounds(shape(participant_id, isHorizontal="true"), POOL_X, POOL_Y, pool_width, pool_height)
    for index, lane in enumerate(lanes):
        _bounds(
            shape(lane_ids[lane], isHorizontal="true"),
            lanes_left,
            POOL_Y + index * LANE_HEIGHT,
            pool_width - POOL_LABEL,
            LANE_HEIGHT,
        )
    for box in boxes:
        _bounds(shape(box.element_id), box.left, box.top, box.width, box.height)
    for index, flow_id in enumerate(flow_ids):
        source, target = boxes[index], boxes[index + 1]
        edge = etree.SubElement(
            plane,
            f"{{{BPMNDI_NS}}}BPMNEdge",
            attrib={"id": f"{flow_id}_di", "bpmnElement": flow_id},
        )
        points = [(source.right, source.centre_y)]
        if source.centre_y != target.centre_y:
            middle = (source.right + target.left) // 2
            points += [(middle, source.centre_y), (middle, target.centre_y)]
        points.append((target.left, target.centre_y))
        for x, y in points:
            etree.SubElement(edge, f"{{{DI_NS}}}waypoint", attrib={"x": str(x), "y": str(y)})
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))
