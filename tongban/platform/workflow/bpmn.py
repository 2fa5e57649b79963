"""Reading uploaded BPMN 2.0 files: parse safely, pick the process, refuse what cannot run.

``bpmn_inspect(xml)`` is the one gate every definition passes (upload, the generated
default, and again when a stored definition is compiled). It never lets an exception other
than ``BpmnRefused`` escape, whatever the bytes.

What runs (see docs/decisions/0011-workflow-engine.md):

- ``startEvent`` (none; exactly one per process or sub-process), ``endEvent`` (none or
  terminate), ``intermediateThrowEvent`` (none: a milestone);
- ``userTask``, ``manualTask`` and plain ``task`` — all three become work for people;
- ``exclusiveGateway``, ``inclusiveGateway`` (conditions from the sandbox in
  ``conditions.py``), ``parallelGateway``;
- ``subProcess`` (embedded), ``callActivity`` calling another process of the same file;
- ``sequenceFlow`` (conditions only out of exclusive/inclusive gateways), lanes.

Drawn but not executed (kept in the stored XML for the diagram, stripped from the copy the
engine parses): data objects/stores and their associations, ``ioSpecification``, resource
roles, text annotations, associations, groups, vendor ``extensionElements`` and elements of
other namespaces.

Everything else inside the process is refused with a ``BpmnRefused`` naming the element's
tag and id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree

from tongban.platform.workflow.conditions import condition_problem

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DC_NS = "http://www.omg.org/spec/DD/20100524/DC"
DI_NS = "http://www.omg.org/spec/DD/20100524/DI"

MAX_XML_BYTES = 5 * 1024 * 1024
MAX_FLOW_NODES = 300  # SpiffWorkflow's parser recurses along the flows
MAX_ID_LENGTH = 100
ID_PATTERN = re.compile(r"^[^\W\d][\w.\-]*$")

USER_TASK_TAGS = frozenset({"userTask", "manualTask", "task"})
CONDITIONAL_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway"})
GATEWAY_TAGS = CONDITIONAL_GATEWAYS | {"parallelGateway"}
ACTIVITY_CONTAINERS = frozenset({"subProcess", "callActivity"})
FLOW_NODE_TAGS = (
    USER_TASK_TAGS
    | GATEWAY_TAGS
    | ACTIVITY_CONTAINERS
    | {"startEvent", "endEvent", "intermediateThrowEvent"}
)
# drawn, not executed: removed (with their subtree) from the copy given to the engine
IGNORED_TAGS = frozenset(
    {
        "extensionElements",
        "ioSpecification",
        "dataInputAssociation",
        "dataOutputAssociation",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "property",
        "textAnnotation",
        "association",
        "group",
        "potentialOwner",
        "performer",
        "humanPerformer",
        "resourceRole",
        "auditing",
        "monitoring",
        "categoryValueRef",
    }
)
# allowed inside any flow node
NODE_CHILD_TAGS = frozenset({"incoming", "outgoing", "documentation"})


class BpmnRefused(ValidationError):
    """An uploaded BPMN file the platform will not run.

    ``element`` is the local tag of the refused element (``scriptTask``) and ``element_id``
    the id to look for in the modeller (empty when the file has no such element, e.g. for
    malformed XML).
    """

    def __init__(self, message: str, *, element: str = "", element_id: str = "") -> None:
        super().__init__(message, code="bpmn_refused")
        self.element = element
        self.element_id = element_id


@dataclass(frozen=True)
class LaneSpec:
    lane_id: str
    name: str


@dataclass(frozen=True)
class UserTaskSpec:
    """A task people do, as found in the file."""

    spec_id: str
    name: str
    tag: str  # userTask / manualTask / task
    lane_id: str = ""
    lane: str = ""  # the lane's name (its id when it has none)


@dataclass(frozen=True)
class BpmnSummary:
    process_id: str
    process_name: str
    user_tasks: tuple[UserTaskSpec, ...]
    lanes: tuple[LaneSpec, ...]
    executable_xml: bytes  # the cleaned copy the engine parses
    stored_xml: str  # the whole file as text (UTF-8, no declaration) for storage and display


def local_name(element: Any) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _is_bpmn(element: Any) -> bool:
    return isinstance(element.tag, str) and element.tag.startswith("{" + BPMN_NS + "}")


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _nearest_id(element: Any) -> str:
    node = element
    while node is not None:
        identifier = node.get("id") if isinstance(node.tag, str) else None
        if identifier:
            return str(identifier)
        node = node.getparent()
    return ""


def _unsupported(element: Any) -> BpmnRefused:
    tag = local_name(element)
    element_id = _nearest_id(element)
    return BpmnRefused(
        _("不支持的 BPMN 元素：%(element)s（id=%(id)s）") % {"element": tag, "id": element_id},
        element=tag,
        element_id=element_id,
    )


def _refused(element: Any, message: str) -> BpmnRefused:
    return BpmnRefused(message, element=local_name(element), element_id=_nearest_id(element))


def _bpmn_children(element: Any) -> Iterator[Any]:
    for child in element:
        if _is_bpmn(child):
            yield child


def _label(element: Any) -> str:
    name = " ".join(str(element.get("name") or "").split())
    return name or str(element.get("id") or "")


# --- parsing ---------------------------------------------------------------------------


def _parse_document(xml: bytes) -> Any:
    if not isinstance(xml, bytes | bytearray):
        raise BpmnRefused(_("流程定义应为 BPMN 文件内容"))
    if not xml.strip():
        raise BpmnRefused(_("文件为空"))
    if len(xml) > MAX_XML_BYTES:
        raise BpmnRefused(
            _("文件过大：不能超过 %(mb)d MB") % {"mb": MAX_XML_BYTES // (1024 * 1024)}
        )
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )
    try:
        tree = etree.fromstring(bytes(xml), parser=parser).getroottree()
    except etree.XMLSyntaxError as error:
        raise BpmnRefused(
            _("XML 格式错误（第 %(line)s 行）：%(error)s")
            % {"line": error.lineno or "?", "error": error.msg}
        ) from None
    except (ValueError, etree.LxmlError):
        raise BpmnRefused(_("XML 格式错误")) from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise BpmnRefused(_("文件包含 DTD 声明，出于安全原因不予接受"))
    return tree


def _check_root(root: Any) -> None:
    if local_name(root) != "definitions" or not _is_bpmn(root):
        raise BpmnRefused(
            _("不是 BPMN 2.0 文件：根元素应为 definitions，实为 %(tag)s")
            % {"tag": local_name(root)},
            element=local_name(root),
            element_id=str(root.get("id") or ""),
        )


def _semantic_elements(element: Any) -> Iterator[Any]:
    """BPMN-namespace elements, not descending into vendor ``extensionElements``."""
    for child in element:
        if not _is_bpmn(child) or local_name(child) == "extensionElements":
            continue
        yield child
        yield from _semantic_elements(child)


def _check_ids(root: Any) -> None:
    """Ids of BPMN elements are unique (vendor extensions may repeat them: not our concern)."""
    seen: set[str] = set()
    for element in _semantic_elements(root):
        identifier = element.get("id")
        if identifier is None:
            continue
        if identifier in seen:
            raise BpmnRefused(
                _("id 重复：%(id)s（元素 %(element)s）")
                % {"id": identifier, "element": local_name(element)},
                element=local_name(element),
                element_id=identifier,
            )
        seen.add(identifier)


def _require_id(element: Any) -> str:
    identifier = str(element.get("id") or "")
    tag = local_name(element)
    if not identifier:
        parent_id = _nearest_id(element)
        raise BpmnRefused(
            _("元素 %(element)s 缺少 id（位于 %(parent)s 内）")
            % {"element": tag, "parent": parent_id or "definitions"},
            element=tag,
            element_id="",
        )
    if len(identifier) > MAX_ID_LENGTH or not ID_PATTERN.match(identifier):
        raise BpmnRefused(
            _("元素 %(element)s 的 id 不合法（应以字母开头、不超过 %(n)d 个字符）：%(id)s")
            % {"element": tag, "n": MAX_ID_LENGTH, "id": identifier[:120]},
            element=tag,
            element_id=identifier,
        )
    return identifier


# --- choosing the process -------------------------------------------------------------


def _processes(root: Any) -> dict[str, Any]:
    processes: dict[str, Any] = {}
    for process in root.findall(_q("process")):
        processes[_require_id(process)] = process
    return processes


def _choose_process(root: Any, processes: dict[str, Any]) -> Any:
    """The one process to run.

    A collaboration often has several pools; the platform runs one: the process that has a
    start event and is not called by another process; when several remain, the one marked
    ``isExecutable="true"`` if it is the only one so marked. Otherwise the file is refused.
    """
    if not processes:
        raise BpmnRefused(
            _("文件中没有流程（process）"),
            element=local_name(root),
            element_id=str(root.get("id") or ""),
        )
    called = {
        str(call.get("calledElement") or "")
        for process in processes.values()
        for call in process.iter(_q("callActivity"))
    }
    candidates = [
        process
        for identifier, process in processes.items()
        if identifier not in called and process.find(_q("startEvent")) is not None
    ]
    if len(candidates) > 1:
        executable = [p for p in candidates if p.get("isExecutable") == "true"]
        if len(executable) == 1:
            candidates = executable
    if not candidates:
        first = next(iter(processes.values()))
        raise _refused(
            first,
            _("文件中没有可以启动的流程：流程 %(id)s 需要一个开始事件") % {"id": first.get("id")},
        )
    if len(candidates) > 1:
        names = "、".join(f"{_label(p)}（id={p.get('id')}）" for p in candidates)
        raise _refused(
            candidates[1],
            _(
                "文件包含多个可以启动的流程（%(names)s），平台每个流程定义只运行一个流程："
                "请只把要运行的流程标记为可执行（isExecutable），或拆分为多个文件"
            )
            % {"names": names},
        )
    return candidates[0]


# --- checking a process ---------------------------------------------------------------


@dataclass
class _Context:
    processes: dict[str, Any]
    flow_node_count: int = 0
    visited_processes: tuple[str, ...] = ()


def _check_lane_set(lane_set: Any) -> None:
    if lane_set.get("id") is not None:
        _require_id(lane_set)
    for child in lane_set:
        if not _is_bpmn(child):
            continue
        tag = local_name(child)
        if tag == "lane":
            _require_id(child)
            for part in child:
                if not _is_bpmn(part):
                    continue
                part_tag = local_name(part)
                if part_tag == "childLaneSet":
                    _check_lane_set(part)
                elif part_tag not in ("flowNodeRef", "documentation", "partitionElement") and (
                    part_tag not in IGNORED_TAGS
                ):
                    raise _unsupported(part)
        elif tag not in ("documentation",) and tag not in IGNORED_TAGS:
            raise _unsupported(child)


def _check_flow_node(node: Any, context: _Context) -> None:
    tag = local_name(node)
    _require_id(node)
    context.flow_node_count += 1
    if context.flow_node_count > MAX_FLOW_NODES:
        raise _refused(
            node,
            _("流程元素过多（最多 %(n)d 个，超出于 %(id)s）")
            % {"n": MAX_FLOW_NODES, "id": node.get("id")},
        )
    if node.get("isForCompensation") == "true":
        raise _refused(
            node,
            _("不支持补偿活动：%(element)s（id=%(id)s）") % {"element": tag, "id": node.get("id")},
        )
    if tag == "subProcess" and node.get("triggeredByEvent") == "true":
        raise _refused(
            node, _("不支持事件子流程：subProcess（id=%(id)s）") % {"id": node.get("id")}
        )
    for child in _bpmn_children(node):
        child_tag = local_name(child)
        if child_tag in NODE_CHILD_TAGS or child_tag in IGNORED_TAGS:
            continue
        if tag == "endEvent" and child_tag == "terminateEventDefinition":
            continue
        if tag == "subProcess" and (
            child_tag in FLOW_NODE_TAGS or child_tag in ("sequenceFlow", "laneSet")
        ):
            continue  # the sub-process's own content, checked as a scope
        if child_tag.endswith("EventDefinition") or child_tag == "eventDefinitionRef":
            event_id = str(node.get("id"))
            raise BpmnRefused(
                _("不支持的 BPMN 元素：%(element)s（id=%(id)s）：平台只运行无触发条件的事件")
                % {"element": child_tag, "id": event_id},
                element=child_tag,
                element_id=str(child.get("id") or event_id),
            )
        raise _unsupported(child)
    if tag == "subProcess":
        _check_scope(node, context)
    elif tag == "callActivity":
        called = str(node.get("calledElement") or "")
        if not called or called not in context.processes:
            raise _refused(
                node,
                _("调用活动 %(id)s 引用的流程“%(called)s”不在本文件中")
                % {"id": node.get("id"), "called": called},
            )
        if called in context.visited_processes:
            raise _refused(node, _("调用活动 %(id)s 形成了递归调用") % {"id": node.get("id")})
        inner = _Context(
            processes=context.processes,
            flow_node_count=context.flow_node_count,
            visited_processes=(*context.visited_processes, called),
        )
        _check_scope(context.processes[called], inner)
        context.flow_node_count = inner.flow_node_count


def _contains_user_task(scope: Any, processes: dict[str, Any], seen: frozenset[str]) -> bool:
    for element in scope.iter():
        tag = local_name(element) if _is_bpmn(element) else ""
        if tag in USER_TASK_TAGS:
            return True
        if tag == "callActivity":
            called = str(element.get("calledElement") or "")
            if (
                called in processes
                and called not in seen
                and _contains_user_task(processes[called], processes, seen | {called})
            ):
                return True
    return False


def _check_loops(nodes: dict[str, Any], edges: dict[str, list[str]], context: _Context) -> None:
    """Refuse a cycle that no person has to act in: the engine would spin forever."""
    waits = {
        identifier
        for identifier, node in nodes.items()
        if local_name(node) in USER_TASK_TAGS
        or (
            local_name(node) in ACTIVITY_CONTAINERS
            and _contains_user_task(node, context.processes, frozenset())
        )
    }
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for start in nodes:
        if start in waits or state.get(start):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(edges.get(start, [])))]
        state[start] = 1
        while stack:
            current, successors = stack[-1]
            advanced = False
            for successor in successors:
                if successor in waits or successor not in nodes:
                    continue
                if state.get(successor) == 1:
                    raise _refused(
                        nodes[successor],
                        _("流程中存在不经过人工任务的循环（经过 %(id)s），引擎会无限运行")
                        % {"id": successor},
                    )
                if not state.get(successor):
                    state[successor] = 1
                    stack.append((successor, iter(edges.get(successor, []))))
                    advanced = True
                    break
            if not advanced:
                state[current] = 2
                stack.pop()


def _check_scope(scope: Any, context: _Context) -> None:
    """Check a process or an embedded sub-process: its nodes, flows and structure."""
    nodes: dict[str, Any] = {}
    flows: list[Any] = []
    for child in _bpmn_children(scope):
        tag = local_name(child)
        if tag in FLOW_NODE_TAGS:
            nodes[_require_id(child)] = child
        elif tag == "sequenceFlow":
            _require_id(child)
            flows.append(child)
        elif tag == "laneSet":
            _check_lane_set(child)
        elif tag in IGNORED_TAGS or tag in NODE_CHILD_TAGS:
            continue
        else:
            raise _unsupported(child)
    for node in nodes.values():
        _check_flow_node(node, context)

    starts = [node for node in nodes.values() if local_name(node) == "startEvent"]
    if not starts:
        raise _refused(
            scope,
            _("%(element)s %(id)s 没有开始事件")
            % {"element": local_name(scope), "id": scope.get("id")},
        )
    if len(starts) > 1:
        raise _refused(
            starts[1],
            _("%(element)s %(id)s 有多个开始事件，平台只允许一个")
            % {"element": local_name(scope), "id": scope.get("id")},
        )

    outgoing: dict[str, list[Any]] = {}
    edges: dict[str, list[str]] = {}
    for flow in flows:
        source, target = str(flow.get("sourceRef") or ""), str(flow.get("targetRef") or "")
        if source not in nodes or target not in nodes:
            raise _refused(
                flow,
                _("顺序流 %(id)s 的起点或终点不是本流程中的可执行元素") % {"id": flow.get("id")},
            )
        for child in _bpmn_children(flow):
            child_tag = local_name(child)
            if child_tag not in ("conditionExpression", "documentation") and (
                child_tag not in IGNORED_TAGS
            ):
                raise _unsupported(child)
        outgoing.setdefault(source, []).append(flow)
        edges.setdefault(source, []).append(target)
        condition = flow.find(_q("conditionExpression"))
        text = (condition.text or "").strip() if condition is not None else ""
        if text:
            source_tag = local_name(nodes[source])
            if source_tag not in CONDITIONAL_GATEWAYS:
                raise _refused(
                    flow,
                    _("顺序流 %(id)s 带有条件，但条件只能用于排他网关或包容网关的出口")
                    % {"id": flow.get("id")},
                )
            problem = condition_problem(text)
            if problem is not None:
                raise _refused(
                    flow,
                    _("顺序流 %(id)s 的条件不安全或无法识别：%(problem)s")
                    % {"id": flow.get("id"), "problem": problem},
                )

    for identifier, node in nodes.items():
        tag = local_name(node)
        leaving = outgoing.get(identifier, [])
        if tag == "endEvent" and leaving:
            raise _refused(node, _("结束事件 %(id)s 不能有出口顺序流") % {"id": identifier})
        if tag not in GATEWAY_TAGS and len(leaving) > 1:
            raise _refused(
                node,
                _("%(element)s %(id)s 有多条出口顺序流：请用并行网关或排他网关分支")
                % {"element": tag, "id": identifier},
            )
        if tag in CONDITIONAL_GATEWAYS and len(leaving) > 1:
            default = node.get("default")
            for flow in leaving:
                condition = flow.find(_q("conditionExpression"))
                has_condition = condition is not None and (condition.text or "").strip()
                if flow.get("id") != default and not has_condition:
                    raise _refused(
                        flow,
                        _("%(gateway)s %(gid)s 的出口顺序流 %(id)s 既没有条件也不是默认流")
                        % {"gateway": tag, "gid": identifier, "id": flow.get("id")},
                    )
    _check_loops(nodes, edges, context)


# --- lanes and user tasks ---------------------------------------------------------------


def _lanes_of(process: Any) -> tuple[list[LaneSpec], dict[str, LaneSpec]]:
    lanes: list[LaneSpec] = []
    by_node: dict[str, LaneSpec] = {}
    for lane in process.iter(_q("lane")):
        spec = LaneSpec(lane_id=str(lane.get("id")), name=_label(lane))
        lanes.append(spec)
        for reference in lane.findall(_q("flowNodeRef")):
            node_id = (reference.text or "").strip()
            if node_id:
                by_node[node_id] = spec  # child lanes come later and win
    return lanes, by_node


def _user_tasks(
    scope: Any,
    processes: dict[str, Any],
    context_lane: LaneSpec | None,
    by_node: dict[str, LaneSpec],
    seen: tuple[str, ...],
) -> list[UserTaskSpec]:
    found: list[UserTaskSpec] = []
    for child in _bpmn_children(scope):
        tag = local_name(child)
        identifier = str(child.get("id") or "")
        lane = by_node.get(identifier, context_lane)
        if tag in USER_TASK_TAGS:
            found.append(
                UserTaskSpec(
                    spec_id=identifier,
                    name=_label(child),
                    tag=tag,
                    lane_id=lane.lane_id if lane else "",
                    lane=lane.name if lane else "",
                )
            )
        elif tag == "subProcess":
            found.extend(_user_tasks(child, processes, lane, by_node, seen))
        elif tag == "callActivity":
            called = str(child.get("calledElement") or "")
            if called in processes and called not in seen:
                _lanes, inner_by_node = _lanes_of(processes[called])
                found.extend(
                    _user_tasks(processes[called], processes, lane, inner_by_node, (*seen, called))
                )
    return found


# --- the cleaned copy for the engine --------------------------------------------------


def _strip(element: Any) -> None:
    for child in list(element):
        if (
            not isinstance(child.tag, str)
            or not _is_bpmn(child)
            or local_name(child) in IGNORED_TAGS
        ):
            element.remove(child)
        else:
            _strip(child)


def _executable_copy(root: Any, process: Any, processes: dict[str, Any]) -> bytes:
    definitions = etree.Element(_q("definitions"), nsmap={"bpmn": BPMN_NS})
    definitions.set("id", str(root.get("id") or "definitions"))
    definitions.set("targetNamespace", str(root.get("targetNamespace") or "urn:tongban"))
    wanted = [str(process.get("id"))]
    index = 0
    while index < len(wanted):
        source = processes[wanted[index]]
        for call in source.iter(_q("callActivity")):
            called = str(call.get("calledElement") or "")
            if called in processes and called not in wanted:
                wanted.append(called)
        index += 1
    for identifier in wanted:
        copy = etree.fromstring(etree.tostring(processes[identifier]))
        _strip(copy)
        copy.set("isExecutable", "true")
        definitions.append(copy)
    return bytes(etree.tostring(definitions, encoding="UTF-8", xml_declaration=True))


def _engine_parse(executable_xml: bytes, process_id: str) -> tuple[Any, dict[str, Any]]:
    """SpiffWorkflow's own parse, its complaints turned into ``BpmnRefused``."""
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    try:
        parser = BpmnParser()
        parser.add_bpmn_xml(etree.fromstring(executable_xml))
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as error:
        tag = str(getattr(error, "tag", "") or "").removeprefix("bpmn:") or "process"
        element_id = str(getattr(error, "id", "") or "") or process_id
        raise BpmnRefused(
            _("流程引擎无法运行元素 %(element)s（id=%(id)s）：%(detail)s")
            % {"element": tag, "id": element_id, "detail": str(error)[:300]},
            element=tag,
            element_id=element_id,
        ) from None
    except RecursionError:
        raise BpmnRefused(
            _("流程过长或嵌套过深，引擎无法解析"), element="process", element_id=process_id
        ) from None
    except Exception as error:  # noqa: BLE001  (the engine's parser may raise anything)
        raise BpmnRefused(
            _("流程引擎无法解析该流程：%(detail)s") % {"detail": str(error)[:300]},
            element="process",
            element_id=process_id,
        ) from None
    return spec, subprocess_specs


def bpmn_inspect(xml: bytes) -> BpmnSummary:
    """Parse, choose the process, check every element; the summary or ``BpmnRefused``."""
    try:
        return _inspect(xml)
    except BpmnRefused:
        raise
    except RecursionError:
        raise BpmnRefused(_("文件嵌套过深")) from None
    except Exception as error:  # noqa: BLE001  (never an uncaught exception on any input)
        raise BpmnRefused(
            _("无法读取该 BPMN 文件：%(detail)s") % {"detail": type(error).__name__}
        ) from None


def _inspect(xml: bytes) -> BpmnSummary:
    tree = _parse_document(xml)
    root = tree.getroot()
    _check_root(root)
    _check_ids(root)
    processes = _processes(root)
    process = _choose_process(root, processes)
    process_id = str(process.get("id"))
    context = _Context(processes=processes, visited_processes=(process_id,))
    _check_scope(process, context)
    lanes, by_node = _lanes_of(process)
    user_tasks = _user_tasks(process, processes, None, by_node, (process_id,))
    if not user_tasks:
        raise _refused(process, _("流程 %(id)s 中没有需要人办理的任务") % {"id": process_id})
    unique: dict[str, UserTaskSpec] = {}
    for task in user_tasks:
        unique.setdefault(task.spec_id, task)
    executable_xml = _executable_copy(root, process, processes)
    _engine_parse(executable_xml, process_id)
    return BpmnSummary(
        process_id=process_id,
        process_name=_label(process),
        user_tasks=tuple(unique.values()),
        lanes=tuple(lanes),
        executable_xml=executable_xml,
        stored_xml=etree.tostring(tree, encoding="unicode"),
    )


def engine_specs(summary: BpmnSummary) -> tuple[Any, dict[str, Any]]:
    """The SpiffWorkflow process spec and sub-process specs of a checked definition."""
    return _engine_parse(summary.executable_xml, summary.process_id)
