"""Every write of the workflow module: definitions, instances and their tasks.

Each transition locks the instance row (``select_for_update``), re-reads the task inside
the transaction, restores the engine from ``ProcessInstance.state``, advances it, writes the
new state and the ``WorkTask`` rows and an audit entry — all in one transaction, so a crash
leaves the previous state and two concurrent completions cannot both succeed.

``actor=None`` is the system (demo loader, automatic transitions); it may act on any task
but cannot claim one. Starting and cancelling instances is authorised by the calling
application (it owns the subject, e.g. a case); acting on a task requires that the task's
target matches one of the actor's postings (see ``selectors.task_is_for``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from tongban.platform.access.services import require
from tongban.platform.audit.models import Outcome
from tongban.platform.audit.services import audit_record
from tongban.platform.crypto.sm import sm3_hex
from tongban.platform.orgs.models import Department, Unit
from tongban.platform.orgs.models import Position as OrgPosition
from tongban.platform.workflow import engine
from tongban.platform.workflow.bpmn import (
    ID_PATTERN,
    MAX_ID_LENGTH,
    BpmnRefused,
    BpmnSummary,
    LaneSpec,
    UserTaskSpec,
    bpmn_inspect,
)
from tongban.platform.workflow.layout import RESERVED_PREFIX, LayoutStep, default_process_xml
from tongban.platform.workflow.models import (
    OPEN_TASK_STATES,
    ProcessDefinition,
    ProcessInstance,
    TaskOutcome,
    WorkTask,
    WorkTaskState,
)
from tongban.platform.workflow.permissions import DEFINITION_MANAGE
from tongban.platform.workflow.selectors import task_is_for

if TYPE_CHECKING:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.task import Task

    from tongban.platform.accounts.models import User

__all__ = [
    "BpmnRefused",
    "DefaultStep",
    "LaneSpec",
    "Position",
    "TaskMapping",
    "TaskTarget",
    "UserTaskSpec",
    "definition_check",
    "definition_default",
    "definition_default_xml",
    "definition_inspect",
    "definition_upload",
    "instance_cancel",
    "instance_position",
    "instance_start",
    "task_claim",
    "task_complete",
    "task_return",
]

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$")
MAX_STEPS = 50
MAX_DAYS = 365
MAX_DATA_BYTES = 64 * 1024
MAX_REASON = 2000


@dataclass(frozen=True)
class TaskTarget:
    """Where a user task's work goes (org codes; all optional, empty means "any")."""

    department_code: str = ""  # orgs.Department.code
    unit_code: str = ""  # orgs.Unit.code (the unit and the units below it)
    position_code: str = ""  # orgs.Position.code

    def is_empty(self) -> bool:
        return not (self.department_code or self.unit_code or self.position_code)


@dataclass(frozen=True)
class TaskMapping:
    """What the platform needs to know about one user task of an uploaded definition."""

    role: str = ""
    target: TaskTarget = field(default_factory=TaskTarget)
    days: int = 0


@dataclass(frozen=True)
class DefaultStep:
    """One user task of a generated linear process."""

    spec_id: str
    name: str
    role: str
    lane: str
    target: TaskTarget
    days: int = 0


@dataclass(frozen=True)
class Position:
    """Where an instance stands: BPMN element ids, for the diagram."""

    active: list[str]
    completed: list[str]


# --- checks -----------------------------------------------------------------------------


def _actor_user(actor: User | None) -> User | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _check_key_and_name(key: str, name: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    key = (key or "").strip()
    name = " ".join((name or "").split())
    if not KEY_PATTERN.match(key):
        errors["key"] = [_("流程标识应为1至100个字母、数字或 _ . : -，以字母或数字开头")]
    if not name:
        errors["name"] = [_("请填写流程名称")]
    elif len(name) > 200:
        errors["name"] = [_("流程名称不能超过200个字符")]
    if errors:
        raise ValidationError(errors)
    return key, name


def _check_target(target: TaskTarget, where: str) -> dict[str, str]:
    problems: list[str] = []
    department = None
    if target.department_code:
        department = Department.objects.filter(code=target.department_code).first()
        if department is None:
            problems.append(_("部门编码不存在：%(code)s") % {"code": target.department_code})
    if target.unit_code:
        unit = Unit.objects.filter(code=target.unit_code).select_related("department").first()
        if unit is None:
            problems.append(_("科室编码不存在：%(code)s") % {"code": target.unit_code})
        elif department is not None and unit.department_id != department.pk:
            problems.append(
                _("科室 %(unit)s 不属于部门 %(department)s")
                % {"unit": target.unit_code, "department": target.department_code}
            )
    if target.position_code and not OrgPosition.objects.filter(code=target.position_code).exists():
        problems.append(_("岗位编码不存在：%(code)s") % {"code": target.position_code})
    if problems:
        raise ValidationError({where: problems})
    return {
        "department_code": target.department_code,
        "unit_code": target.unit_code,
        "position_code": target.position_code,
    }


def _check_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValidationError(_("流程数据应为键值对"))
    for name in data:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise ValidationError(
                _("流程数据的名称应为字母或汉字开头的标识符：%(name)s") % {"name": str(name)[:60]}
            )
    try:
        encoded = json.dumps(dict(data), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise ValidationError(_("流程数据只能包含文字、数字、布尔值、列表和对象")) from None
    if len(encoded.encode("utf-8")) > MAX_DATA_BYTES:
        raise ValidationError(_("流程数据过大（最多 64 KB）"))
    result: dict[str, Any] = json.loads(encoded)
    return result


def _check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("请填写原因")]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [_("原因不能超过2000个字符")]})
    return reason


# --- definitions --------------------------------------------------------------------------


def definition_inspect(*, xml: bytes) -> BpmnSummary:
    """The process chosen from the file, its user tasks and lanes; or ``BpmnRefused``."""
    return bpmn_inspect(xml)


def definition_check(*, xml: bytes) -> list[UserTaskSpec]:
    """The user tasks of a runnable BPMN file; ``BpmnRefused`` for anything else."""
    return list(bpmn_inspect(xml).user_tasks)


def _resolve_map(
    summary: BpmnSummary,
    task_map: Mapping[str, TaskMapping],
    lane_map: Mapping[str, TaskTarget],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored per-task mapping: role, target and days for every user task."""
    tasks = {task.spec_id: task for task in summary.user_tasks}
    lanes_by_key: dict[str, LaneSpec] = {}
    for lane in summary.lanes:
        lanes_by_key.setdefault(lane.lane_id, lane)
        lanes_by_key.setdefault(lane.name, lane)
    unknown_tasks = sorted(set(task_map) - set(tasks))
    if unknown_tasks:
        raise ValidationError(
            {"task_map": [_("不是流程中的人工任务：%(ids)s") % {"ids": "、".join(unknown_tasks)}]}
        )
    unknown_lanes = sorted(set(lane_map) - set(lanes_by_key))
    if unknown_lanes:
        raise ValidationError(
            {"lane_map": [_("不是流程中的泳道：%(ids)s") % {"ids": "、".join(unknown_lanes)}]}
        )
    lane_targets: dict[str, dict[str, str]] = {}
    stored_lanes: dict[str, Any] = {}
    for lane_key, target in lane_map.items():
        checked = _check_target(target, "lane_map")
        lane_targets[lanes_by_key[lane_key].lane_id] = checked
        stored_lanes[lanes_by_key[lane_key].lane_id] = checked
    resolved: dict[str, Any] = {}
    for spec_id, task in tasks.items():
        mapping = task_map.get(spec_id, TaskMapping())
        if not 0 <= mapping.days <= MAX_DAYS:
            raise ValidationError({"task_map": [_("时限应在0至365个工作日之间")]})
        if len(mapping.role) > 60:
            raise ValidationError({"task_map": [_("角色标签不能超过60个字符")]})
        if not mapping.target.is_empty():
            codes = _check_target(mapping.target, "task_map")
        else:
            codes = lane_targets.get(task.lane_id) or _check_target(TaskTarget(), "task_map")
        resolved[spec_id] = {
            "name": task.name[:200],
            "lane": task.lane[:200],
            "role": mapping.role,
            "days": mapping.days,
            **codes,
        }
    return resolved, stored_lanes


def _create_version(
    *,
    actor: User | None,
    key: str,
    name: str,
    summary: BpmnSummary,
    sha: str,
    task_map: dict[str, Any],
    lane_map: dict[str, Any],
    is_generated: bool,
    existing: Callable[[], ProcessDefinition | None] = lambda: None,
) -> tuple[ProcessDefinition, bool]:
    """A new version of ``key`` (numbered under a unique constraint; retried on a race)."""
    for _attempt in range(5):
        found = existing()
        if found is not None:
            return found, False
        try:
            with transaction.atomic():
                last = ProcessDefinition.objects.filter(key=key).aggregate(last=Max("version"))
                definition = ProcessDefinition.objects.create(
                    key=key,
                    version=(last["last"] or 0) + 1,
                    name=name,
                    xml=summary.stored_xml,
                    sha=sha,
                    process_id=summary.process_id,
                    task_map=task_map,
                    lane_map=lane_map,
                    is_generated=is_generated,
                    created_by=_actor_user(actor),
                )
            return definition, True
        except IntegrityError:
            continue
    raise ValidationError(_("流程定义正在被同时保存，请重试"))


def definition_upload(
    *,
    actor: User | None,
    key: str,
    name: str,
    xml: bytes,
    task_map: Mapping[str, TaskMapping] | None = None,
    lane_map: Mapping[str, TaskTarget] | None = None,
) -> ProcessDefinition:
    """A new immutable version of ``key`` from an uploaded BPMN file.

    ``task_map`` maps a user task id to its role, target and time limit; ``lane_map`` maps
    a lane (id or name) to a target for every task in that lane that ``task_map`` does not
    target itself. Nothing is written when the file is refused.
    """
    if actor is not None:
        require(actor, DEFINITION_MANAGE)
    key, name = _check_key_and_name(key, name)
    summary = bpmn_inspect(xml)
    resolved, stored_lanes = _resolve_map(summary, task_map or {}, lane_map or {})
    sha = sm3_hex(summary.stored_xml.encode("utf-8"))
    with transaction.atomic():
        definition, _created = _create_version(
            actor=actor,
            key=key,
            name=name,
            summary=summary,
            sha=sha,
            task_map=resolved,
            lane_map=stored_lanes,
            is_generated=False,
        )
        audit_record(
            action="workflow.definition.upload",
            actor=actor,
            target=definition,
            detail={
                "key": key,
                "version": definition.version,
                "sha": sha,
                "process": summary.process_id,
                "user_tasks": sorted(resolved),
            },
        )
    return definition


def _check_steps(steps: Sequence[DefaultStep]) -> list[LayoutStep]:
    if not steps:
        raise ValidationError({"steps": [_("默认流程至少需要一个环节")]})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"steps": [_("默认流程最多 %(n)d 个环节") % {"n": MAX_STEPS}]})
    seen: set[str] = set()
    layout: list[LayoutStep] = []
    for step in steps:
        spec_id = step.spec_id
        if (
            not ID_PATTERN.match(spec_id)
            or len(spec_id) > MAX_ID_LENGTH
            or spec_id.startswith(RESERVED_PREFIX)
        ):
            raise ValidationError(
                {
                    "steps": [
                        _("环节 id 不合法（字母开头，不以 tb_ 开头）：%(id)s") % {"id": spec_id}
                    ]
                }
            )
        if spec_id in seen:
            raise ValidationError({"steps": [_("环节 id 重复：%(id)s") % {"id": spec_id}]})
        seen.add(spec_id)
        name = " ".join(step.name.split())
        lane = " ".join(step.lane.split())
        if not name or len(name) > 200 or len(lane) > 200:
            raise ValidationError(
                {"steps": [_("环节名称应为1至200个字符：%(id)s") % {"id": spec_id}]}
            )
        if not 0 <= step.days <= MAX_DAYS or len(step.role) > 60:
            raise ValidationError(
                {"steps": [_("环节的时限或角色不合法：%(id)s") % {"id": spec_id}]}
            )
        layout.append(LayoutStep(spec_id=spec_id, name=name, lane=lane))
    return layout


def definition_default_xml(*, key: str, name: str, steps: Sequence[DefaultStep]) -> bytes:
    """A linear process start → one user task per step (in its lane) → end, with DI."""
    key, name = _check_key_and_name(key, name)
    return default_process_xml(key=key, name=name, steps=_check_steps(steps))


def definition_default(
    *, actor: User | None, key: str, name: str, steps: Sequence[DefaultStep]
) -> ProcessDefinition:
    """The generated default process of ``key``; the same steps give the same definition.

    No permission is needed: the default process is derived from published content (a
    service item's steps) by the application that calls this.
    """
    xml = definition_default_xml(key=key, name=name, steps=steps)
    key, name = _check_key_and_name(key, name)
    summary = bpmn_inspect(xml)
    task_map = {
        step.spec_id: TaskMapping(role=step.role, target=step.target, days=step.days)
        for step in steps
    }
    resolved, _lanes = _resolve_map(summary, task_map, {})
    sha = sm3_hex(summary.stored_xml.encode("utf-8"))

    def existing() -> ProcessDefinition | None:
        for candidate in ProcessDefinition.objects.filter(key=key, sha=sha).order_by("-version"):
            if candidate.task_map == resolved:
                return candidate
        return None

    with transaction.atomic():
        definition, created = _create_version(
            actor=actor,
            key=key,
            name=name,
            summary=summary,
            sha=sha,
            task_map=resolved,
            lane_map={},
            is_generated=True,
            existing=existing,
        )
        if created:
            audit_record(
                action="workflow.definition.default",
                actor=actor,
                target=definition,
                detail={"key": key, "version": definition.version, "sha": sha},
            )
    return definition


# --- instances and tasks -----------------------------------------------------------------


def _compiled(definition: ProcessDefinition) -> engine.CompiledDefinition:
    return engine.compile_definition(
        definition_id=definition.pk, sha=definition.sha, xml=definition.xml
    )


def _engine_refusal(error: engine.EngineError) -> ValidationError:
    return ValidationError(_("流程无法继续：%(reason)s") % {"reason": str(error)[:300]})


def _sync_tasks(
    *,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    definition: ProcessDefinition,
    note: str = "",
) -> list[WorkTask]:
    """Make the open ``WorkTask`` rows match the engine's ready user tasks."""
    ready = engine.ready_user_tasks(workflow)
    ready_ids = {task.id for task in ready}
    now = timezone.now()
    kept: set[Any] = set()
    for row in WorkTask.objects.filter(instance=instance, state__in=OPEN_TASK_STATES):
        if row.engine_task_id in ready_ids:
            kept.add(row.engine_task_id)
            continue
        row.state = WorkTaskState.CANCELLED
        row.outcome = TaskOutcome.WITHDRAWN
        row.completed_at = now
        row.note = note
        row.save(update_fields=["state", "outcome", "completed_at", "note"])
    created = [_work_task(instance, definition, task) for task in ready if task.id not in kept]
    if created:
        WorkTask.objects.bulk_create(created)
    return created


def _work_task(instance: ProcessInstance, definition: ProcessDefinition, task: Task) -> WorkTask:
    spec_id = str(task.task_spec.name)
    mapping: Mapping[str, Any] = definition.task_map.get(spec_id, {})
    name = mapping.get("name") or task.task_spec.bpmn_name or spec_id
    return WorkTask(
        instance=instance,
        engine_task_id=task.id,
        spec_id=spec_id,
        name=str(name)[:200],
        role=str(mapping.get("role", "")),
        lane=str(mapping.get("lane") or task.task_spec.lane or "")[:200],
        department_code=str(mapping.get("department_code", "")),
        unit_code=str(mapping.get("unit_code", "")),
        position_code=str(mapping.get("position_code", "")),
        due_days=int(mapping.get("days", 0)),
        state=WorkTaskState.READY,
    )


def _save_instance(instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    instance.state = engine.workflow_dump(workflow)
    instance.revision += 1
    fields = ["state", "revision", "updated_at"]
    if workflow.is_completed() and not instance.is_finished:
        instance.is_finished = True
        instance.finished_at = timezone.now()
        fields += ["is_finished", "finished_at"]
    instance.save(update_fields=fields)


def instance_start(
    *,
    actor: User | None,
    definition: ProcessDefinition,
    subject: str,
    data: Mapping[str, Any] | None = None,
) -> ProcessInstance:
    """Start ``definition`` for ``subject`` (an opaque caller reference such as
    ``approvals.case:123``); the first ready user tasks become ``WorkTask`` rows."""
    subject = (subject or "").strip()
    if not subject or len(subject) > 200:
        raise ValidationError({"subject": [_("业务对象标识应为1至200个字符")]})
    values = _check_data(data)
    compiled = _compiled(definition)
    workflow = engine.workflow_new(compiled, values)
    try:
        engine.run_engine(workflow)
    except engine.EngineError as error:
        raise _engine_refusal(error) from None
    with transaction.atomic():
        instance = ProcessInstance(
            definition=definition, subject=subject, started_by=_actor_user(actor)
        )
        instance.state = engine.workflow_dump(workflow)
        if workflow.is_completed():
            instance.is_finished = True
            instance.finished_at = timezone.now()
        instance.save()
        created = _sync_tasks(instance=instance, workflow=workflow, definition=definition)
        audit_record(
            action="workflow.instance.start",
            actor=actor,
            target=instance,
            detail={
                "definition": f"{definition.key} v{definition.version}",
                "subject": subject,
                "tasks": [task.spec_id for task in created],
            },
        )
    return instance


def _require_for(actor: User | None, task: WorkTask, action: str) -> None:
    """The actor may act on the task (its target matches a posting), or it is refused."""
    if task_is_for(actor, task):
        return
    with transaction.atomic():
        audit_record(
            action=action,
            actor=actor,
            target=task,
            outcome=Outcome.DENIED,
            detail={"reason": "not_target", "spec_id": task.spec_id},
        )
    raise PermissionDenied(_("该任务不在您的办理范围内"))


def _state_problem(row: WorkTask, actor: User | None) -> str | None:
    if row.state == WorkTaskState.READY:
        return None
    if row.state == WorkTaskState.CLAIMED:
        if actor is None or row.claimed_by_id == actor.pk:
            return None
        claimer = row.claimed_by
        label = getattr(claimer, "display_name", "") or str(claimer)
        return _("该任务已由 %(name)s 签收") % {"name": label}
    if row.state == WorkTaskState.COMPLETED:
        return _("该任务已办结")
    return _("该任务已取消")


def _lock(task: WorkTask) -> tuple[ProcessInstance, WorkTask]:
    """Lock the instance (always first, so two transitions queue) and re-read the task."""
    instance = (
        ProcessInstance.objects.select_for_update(of=("self",))  # not the definition row
        .select_related("definition")
        .get(pk=task.instance_id)
    )
    row = (
        WorkTask.objects.select_for_update(of=("self",))
        .select_related("claimed_by")
        .get(pk=task.pk)
    )
    return instance, row


def _engine_task(workflow: BpmnWorkflow, row: WorkTask) -> Task:
    from SpiffWorkflow.util.task import TaskState as EngineTaskState

    try:
        task = workflow.get_task_from_id(row.engine_task_id)
    except Exception:  # noqa: BLE001  (TaskNotFoundException and friends)
        task = None
    if task is None or task.state != EngineTaskState.READY:
        raise ValidationError(_("流程状态已变化，请刷新后重试"))
    return task


def task_claim(*, actor: User, task: WorkTask) -> WorkTask:
    """ready → claimed by ``actor``; whoever comes second gets a ``ValidationError``."""
    if _actor_user(actor) is None:
        raise ValidationError(_("签收任务需要具体的办理人"))
    _require_for(actor, task, "workflow.task.claim")
    with transaction.atomic():
        instance, row = _lock(task)
        if row.state == WorkTaskState.CLAIMED and row.claimed_by_id == actor.pk:
            return row
        if row.state != WorkTaskState.READY:
            raise ValidationError(_state_problem(row, actor) or _("该任务已被他人签收"))
        row.state = WorkTaskState.CLAIMED
        row.claimed_by = actor
        row.claimed_at = timezone.now()
        row.save(update_fields=["state", "claimed_by", "claimed_at"])
        audit_record(
            action="workflow.task.claim",
            actor=actor,
            target=row,
            detail={"instance": instance.pk, "subject": instance.subject, "spec_id": row.spec_id},
        )
    return row


def task_complete(
    *, actor: User | None, task: WorkTask, data: Mapping[str, Any] | None = None
) -> list[WorkTask]:
    """Complete a ready task (or one the actor claimed), advance the engine and return the
    tasks that became ready. Of two concurrent completions exactly one succeeds."""
    _require_for(actor, task, "workflow.task.complete")
    values = _check_data(data)
    with transaction.atomic():
        instance, row = _lock(task)
        problem = _state_problem(row, actor)
        if problem is not None:
            raise ValidationError(problem)
        definition = instance.definition
        workflow = engine.workflow_load(_compiled(definition), instance.state)
        engine_task = _engine_task(workflow, row)

        def advance() -> None:
            engine_task.data.update(values)
            engine_task.run()

        try:
            engine.guarded(advance)
            engine.run_engine(workflow)
        except engine.EngineError as error:
            raise _engine_refusal(error) from None
        row.state = WorkTaskState.COMPLETED
        row.outcome = TaskOutcome.DONE
        row.completed_by = _actor_user(actor)
        row.completed_at = timezone.now()
        row.data = values
        row.save(update_fields=["state", "outcome", "completed_by", "completed_at", "data"])
        created = _sync_tasks(instance=instance, workflow=workflow, definition=definition)
        _save_instance(instance, workflow)
        audit_record(
            action="workflow.task.complete",
            actor=actor,
            target=row,
            detail={
                "instance": instance.pk,
                "subject": instance.subject,
                "spec_id": row.spec_id,
                "next": [new.spec_id for new in created],
                "finished": instance.is_finished,
            },
        )
    return created


def task_return(
    *, actor: User | None, task: WorkTask, to_spec_id: str, reason: str
) -> list[WorkTask]:
    """Send the work back to an earlier completed user task on the path to this one.

    Every open task after that point (parallel branches included) is withdrawn; the earlier
    task becomes ready again with the data it had before it was done.
    """
    reason = _check_reason(reason)
    _require_for(actor, task, "workflow.task.return")
    with transaction.atomic():
        instance, row = _lock(task)
        problem = _state_problem(row, actor)
        if problem is not None:
            raise ValidationError(problem)
        definition = instance.definition
        workflow = engine.workflow_load(_compiled(definition), instance.state)
        engine_task = _engine_task(workflow, row)
        earlier = [
            candidate
            for candidate in engine.completed_user_tasks(workflow, to_spec_id)
            if engine.is_after(engine_task, candidate)
        ]
        if not earlier:
            raise ValidationError(
                {"to_spec_id": [_("只能退回到本任务之前已办结的环节：%(id)s") % {"id": to_spec_id}]}
            )
        target = max(earlier, key=lambda candidate: candidate.last_state_change)
        try:
            engine.guarded(lambda: workflow.reset_from_task_id(target.id))
            engine.run_engine(workflow)
        except engine.EngineError as error:
            raise _engine_refusal(error) from None
        row.state = WorkTaskState.COMPLETED
        row.outcome = TaskOutcome.RETURNED
        row.completed_by = _actor_user(actor)
        row.completed_at = timezone.now()
        row.note = reason
        row.data = {"returned_to": to_spec_id}
        row.save(update_fields=["state", "outcome", "completed_by", "completed_at", "note", "data"])
        created = _sync_tasks(
            instance=instance,
            workflow=workflow,
            definition=definition,
            note=_("退回至 %(id)s：%(reason)s") % {"id": to_spec_id, "reason": reason},
        )
        _save_instance(instance, workflow)
        audit_record(
            action="workflow.task.return",
            actor=actor,
            target=row,
            detail={
                "instance": instance.pk,
                "subject": instance.subject,
                "spec_id": row.spec_id,
                "to": to_spec_id,
                "reason": reason,
            },
        )
    return created


def instance_cancel(*, actor: User | None, instance: ProcessInstance, reason: str) -> None:
    """Stop a running instance: the engine is cancelled and every open task withdrawn."""
    reason = _check_reason(reason)
    with transaction.atomic():
        locked = (
            ProcessInstance.objects.select_for_update(of=("self",))
            .select_related("definition")
            .get(pk=instance.pk)
        )
        if locked.is_finished:
            raise ValidationError(_("流程已结束，不能撤销"))
        workflow = engine.workflow_load(_compiled(locked.definition), locked.state)
        try:
            engine.guarded(workflow.cancel)
        except engine.EngineError as error:
            raise _engine_refusal(error) from None
        now = timezone.now()
        withdrawn = WorkTask.objects.filter(instance=locked, state__in=OPEN_TASK_STATES).update(
            state=WorkTaskState.CANCELLED,
            outcome=TaskOutcome.WITHDRAWN,
            completed_at=now,
            note=reason,
        )
        locked.state = engine.workflow_dump(workflow)
        locked.revision += 1
        locked.is_finished = True
        locked.is_cancelled = True
        locked.cancel_reason = reason
        locked.finished_at = now
        locked.save()
        audit_record(
            action="workflow.instance.cancel",
            actor=actor,
            target=locked,
            detail={"subject": locked.subject, "reason": reason, "withdrawn": withdrawn},
        )
    instance.refresh_from_db()


def instance_position(instance: ProcessInstance) -> Position:
    """Active and completed BPMN element ids of an instance (for the diagram)."""
    compiled = _compiled(instance.definition)
    active, completed = engine.state_position(compiled, instance.state)
    if instance.is_cancelled:
        active = []
    return Position(active=active, completed=completed)
