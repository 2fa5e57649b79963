"""The drafting process (拟稿 → 核稿 → 会签 → 签发 → 编号 → 用印 → 分发) on the platform's
BPMN engine.

One process definition per document kind (key ``documents.<kind>``); a version is made for
each issuer and set of countersigning departments, because every user task carries the
department whose people do it: the issuer's for every step but 会签, which has one parallel
task per countersigning department between a parallel split and join. 纪要 has no 用印
task. Identical layouts reuse the same version (matched by the file's SM3 and the targets).

The ``WorkTask`` rows the engine makes are what the workbench and the 待我处理 tab show;
``Document.state`` mirrors the open task (``state_for``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from tongban.apps.documents import permissions as p
from tongban.apps.documents.models import Document, DocumentState, Kind
from tongban.platform.crypto.sm import sm3_hex
from tongban.platform.orgs.models import Department
from tongban.platform.workflow.bpmn import BPMN_NS, bpmn_inspect
from tongban.platform.workflow.models import (
    OPEN_TASK_STATES,
    ProcessDefinition,
    ProcessInstance,
    WorkTask,
)
from tongban.platform.workflow.services import TaskMapping, TaskTarget, definition_upload

SUBJECT_PREFIX = "documents.document:"
DRAFT, CHECK, SIGN, NUMBER, SEAL, DISTRIBUTE = (
    "draft",
    "check",
    "sign",
    "number",
    "seal",
    "distribute",
)
COUNTERSIGN_PREFIX = "countersign_"
KIND_KEYS = {
    Kind.FILE: "file",
    Kind.LETTER: "letter",
    Kind.ORDER: "order",
    Kind.MINUTES: "minutes",
}
# names written into the BPMN file are data (fixed words, so the same layout hashes alike)
STEP_NAMES = {
    DRAFT: "拟稿",
    CHECK: "核稿",
    SIGN: "签发",
    NUMBER: "编号",
    SEAL: "用印",
    DISTRIBUTE: "分发",
}
STEP_STATES = {
    DRAFT: DocumentState.DRAFTING,
    CHECK: DocumentState.CHECKING,
    SIGN: DocumentState.SIGNING,
    NUMBER: DocumentState.NUMBERING,
    SEAL: DocumentState.SEALING,
    DISTRIBUTE: DocumentState.DISTRIBUTING,
}
STEP_PERMISSIONS = {
    DRAFT: p.DRAFT,
    CHECK: p.CHECK,
    SIGN: p.SIGN_OFF,
    NUMBER: p.NUMBER_SEAL,
    SEAL: p.NUMBER_SEAL,
    DISTRIBUTE: p.NUMBER_SEAL,
}


def subject_of(document: Document) -> str:
    return f"{SUBJECT_PREFIX}{document.pk}"


def document_id_of(subject: str) -> int | None:
    if not subject.startswith(SUBJECT_PREFIX):
        return None
    rest = subject[len(SUBJECT_PREFIX) :]
    return int(rest) if rest.isdigit() else None


def is_countersign(spec_id: str) -> bool:
    return spec_id.startswith(COUNTERSIGN_PREFIX)


def countersign_spec(department: Department) -> str:
    return f"{COUNTERSIGN_PREFIX}{department.pk}"


def countersign_department_id(spec_id: str) -> int | None:
    rest = spec_id[len(COUNTERSIGN_PREFIX) :]
    return int(rest) if is_countersign(spec_id) and rest.isdigit() else None


def step_state(spec_id: str) -> str:
    if is_countersign(spec_id):
        return DocumentState.COUNTERSIGNING
    return STEP_STATES.get(spec_id, DocumentState.DRAFTING)


def step_permission(spec_id: str) -> str:
    return p.COUNTERSIGN if is_countersign(spec_id) else STEP_PERMISSIONS[spec_id]


@dataclass(frozen=True)
class Layout:
    kind: str
    issuer: Department
    countersigners: tuple[Department, ...]

    @property
    def steps(self) -> list[str]:
        after = [SIGN, NUMBER] + ([] if self.kind == Kind.MINUTES else [SEAL]) + [DISTRIBUTE]
        return [DRAFT, CHECK, *after]

    def targets(self) -> dict[str, str]:
        """spec id → the department code whose people do the task."""
        codes = dict.fromkeys(self.steps, self.issuer.code)
        for department in self.countersigners:
            codes[countersign_spec(department)] = department.code
        return codes


def process_xml(layout: Layout) -> bytes:
    """start → 拟稿 → 核稿 → [split → 会签 × n → join] → 签发 → 编号 → (用印) → 分发 → end."""
    key = KIND_KEYS[Kind(layout.kind)]
    root = etree.Element(
        f"{{{BPMN_NS}}}definitions",
        nsmap={"bpmn": BPMN_NS},
        attrib={"id": "documents_definitions", "targetNamespace": f"urn:tongban:documents:{key}"},
    )
    process = etree.SubElement(
        root,
        f"{{{BPMN_NS}}}process",
        attrib={"id": f"documents_{key}", "name": "发文", "isExecutable": "true"},
    )
    flows: list[tuple[str, str]] = []

    def node(tag: str, element_id: str, name: str = "") -> str:
        attributes = {"id": element_id}
        if name:
            attributes["name"] = name
        etree.SubElement(process, f"{{{BPMN_NS}}}{tag}", attrib=attributes)
        return element_id

    previous = node("startEvent", "start", "开始")
    for step in (DRAFT, CHECK):
        flows.append((previous, node("userTask", step, STEP_NAMES[step])))
        previous = step
    if layout.countersigners:
        split = node("parallelGateway", "countersign_split")
        join = node("parallelGateway", "countersign_join")
        flows.append((previous, split))
        for department in layout.countersigners:
            spec = node("userTask", countersign_spec(department), f"会签：{department.name}"[:200])
            flows.extend([(split, spec), (spec, join)])
        previous = join
    for step in layout.steps[2:]:
        flows.append((previous, node("userTask", step, STEP_NAMES[step])))
        previous = step
    flows.append((previous, node("endEvent", "end", "结束")))
    for number, (source, target) in enumerate(flows, 1):
        etree.SubElement(
            process,
            f"{{{BPMN_NS}}}sequenceFlow",
            attrib={"id": f"flow_{number}", "sourceRef": source, "targetRef": target},
        )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _matches(definition: ProcessDefinition, targets: dict[str, str]) -> bool:
    stored = definition.task_map or {}
    if set(stored) != set(targets):
        return False
    return all(
        (stored[spec] or {}).get("department_code") == code for spec, code in targets.items()
    )


def definition_for(
    *, kind: str, issuer: Department, countersigners: Sequence[Department]
) -> ProcessDefinition:
    """The definition version for this layout: an existing identical one, or a new one."""
    layout = Layout(
        kind=kind,
        issuer=issuer,
        countersigners=tuple(sorted(countersigners, key=lambda d: (d.code, d.pk))),
    )
    xml = process_xml(layout)
    key = f"documents.{KIND_KEYS[Kind(kind)]}"
    targets = layout.targets()
    sha = sm3_hex(bpmn_inspect(xml).stored_xml.encode("utf-8"))
    for candidate in ProcessDefinition.objects.filter(key=key, sha=sha).order_by("-version"):
        if _matches(candidate, targets):
            return candidate
    roles = {spec: STEP_NAMES.get(spec, "会签") for spec in targets}
    return definition_upload(
        actor=None,  # the system: derived from the document, not an administrator's upload
        key=key,
        name=f"发文流程（{Kind(kind).label}）",
        xml=xml,
        task_map={
            spec: TaskMapping(role=roles[spec], target=TaskTarget(department_code=code))
            for spec, code in targets.items()
        },
    )


def open_tasks(document: Document) -> list[WorkTask]:
    """The document's open work items (several while countersigning), oldest first."""
    if document.process_id is None:
        return []
    return list(
        WorkTask.objects.filter(
            instance_id=document.process_id, state__in=OPEN_TASK_STATES
        ).order_by("created_at", "pk")
    )


def state_for(instance: ProcessInstance, tasks: Sequence[WorkTask]) -> str:
    """The document state the open tasks stand for (finished: 已分发)."""
    if tasks:
        return step_state(tasks[0].spec_id)
    if instance.is_finished and not instance.is_cancelled:
        return DocumentState.DISTRIBUTED
    return DocumentState.DRAFTING


def instance_countersigners(instance: ProcessInstance) -> set[int]:
    """The department ids an instance was started with for 会签."""
    return {
        department_id
        for spec in (instance.definition.task_map or {})
        if (department_id := countersign_department_id(spec)) is not None
    }
