"""SpiffWorkflow glue: compiled specs cached per definition, a sandboxed script engine, and
instance state serialised without the spec.

- A definition is an immutable version, so its parsed spec is compiled once per process
  and kept in a small LRU (keyed by definition id and content hash).
- ``SAFE_SCRIPT_ENGINE`` replaces SpiffWorkflow's ``eval``/``exec`` environment: conditions
  go through ``conditions.condition_evaluate`` and any script raises.
- The serialiser's workflow converter leaves out ``spec`` and ``subprocess_specs`` (they
  come from the cache on load), so an instance stores only its task tree and data.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from tongban.platform.workflow.bpmn import BpmnSummary, bpmn_inspect, engine_specs
from tongban.platform.workflow.conditions import ConditionError, condition_evaluate

SPEC_CACHE_SIZE = 256
MAX_ENGINE_STEPS = 10_000
STATE_VERSION_KEY = "serializer_version"

# SpiffWorkflow logs every task state change at INFO: far too chatty (and slow) for a server
for _name in ("spiff", "spiff.task", "spiff.workflow"):
    if logging.getLogger(_name).level == logging.NOTSET:
        logging.getLogger(_name).setLevel(logging.WARNING)


class EngineError(Exception):
    """The engine could not make the transition (a condition failed, a runaway loop ...)."""


class _SandboxEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Conditions through the sandbox; scripts and services are never run."""

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        names: dict[str, Any] = dict(external_context or {})
        names.update(context)
        return condition_evaluate(expression, names)

    def execute(
        self,
        script: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raise ConditionError("scripts are not run by this platform")

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise ConditionError("service calls are not run by this platform")


class _SandboxScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """Evaluates through the sandbox; its errors are not wrapped, so the reason survives."""

    def evaluate(
        self, task: Task, expression: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        return self.environment.evaluate(expression, task.data, external_context)

    def execute(
        self, task: Task, script: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        raise ConditionError("scripts are not run by this platform")

    def call_service(self, task: Task, **kwargs: Any) -> Any:
        raise ConditionError("service calls are not run by this platform")


SAFE_SCRIPT_ENGINE = _SandboxScriptEngine(environment=_SandboxEnvironment())


@dataclass(frozen=True)
class CompiledDefinition:
    summary: BpmnSummary
    spec: Any
    subprocess_specs: dict[str, Any]
    bpmn_ids: dict[str, str]  # engine task-spec name -> BPMN element id, every process


_cache: OrderedDict[tuple[int, str], CompiledDefinition] = OrderedDict()
_cache_lock = threading.Lock()


def _bpmn_ids(spec: Any, subprocess_specs: Mapping[str, Any]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for process_spec in (spec, *subprocess_specs.values()):
        if process_spec is None:
            continue
        for name, task_spec in process_spec.task_specs.items():
            bpmn_id = getattr(task_spec, "bpmn_id", None)
            if bpmn_id:
                ids[name] = str(bpmn_id)
    return ids


def compile_definition(*, definition_id: int, sha: str, xml: str) -> CompiledDefinition:
    """The engine spec of a stored definition, from the cache when it was compiled before.

    The stored XML is checked again on the way in, so a row changed behind the platform's
    back cannot smuggle in what an upload would have refused.
    """
    key = (definition_id, sha)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    summary = bpmn_inspect(xml.encode("utf-8"))
    spec, subprocess_specs = engine_specs(summary)
    compiled = CompiledDefinition(
        summary=summary,
        spec=spec,
        subprocess_specs=subprocess_specs,
        bpmn_ids=_bpmn_ids(spec, subprocess_specs),
    )
    with _cache_lock:
        _cache[key] = compiled
        while len(_cache) > SPEC_CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Serialises a workflow without its specs; they are supplied again on restore."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(workflow)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        return dct

    def from_dict(self, dct: dict[str, Any], *, compiled: CompiledDefinition) -> BpmnWorkflow:
        workflow = self.target_class(
            compiled.spec,
            compiled.subprocess_specs,
            script_engine=SAFE_SCRIPT_ENGINE,
            deserializing=True,
        )
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow  # type: ignore[no-any-return]


def _serializer() -> BpmnWorkflowSerializer:
    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = _SpeclessWorkflowConverter
    return BpmnWorkflowSerializer(registry=BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _serializer()


def workflow_new(compiled: CompiledDefinition, data: Mapping[str, Any]) -> BpmnWorkflow:
    workflow = BpmnWorkflow(
        compiled.spec, compiled.subprocess_specs, script_engine=SAFE_SCRIPT_ENGINE
    )
    start = workflow.get_next_task(state=TaskState.READY)
    if start is not None:
        start.data.update(dict(data))
    return workflow


def workflow_dump(workflow: BpmnWorkflow) -> dict[str, Any]:
    dct: dict[str, Any] = _SERIALIZER.to_dict(workflow)
    dct[STATE_VERSION_KEY] = VERSION
    return dct


def _parent_first(tasks: Mapping[str, Any], root: str) -> dict[str, Any]:
    """The serialised tasks in tree order.

    SpiffWorkflow stores a task's data as a delta against its parent, so a parent must be
    restored before its children; PostgreSQL's jsonb does not keep the key order the
    serialiser wrote, so the order is rebuilt from the tree itself.
    """
    ordered: dict[str, Any] = {}
    queue = deque([root])
    while queue:
        task_id = queue.popleft()
        if task_id in ordered or task_id not in tasks:
            continue
        ordered[task_id] = tasks[task_id]
        queue.extend(tasks[task_id].get("children", []))
    for task_id, task in tasks.items():  # unreachable leftovers, if any, last
        ordered.setdefault(task_id, task)
    return ordered


def _ordered_state(state: Mapping[str, Any]) -> dict[str, Any]:
    dct = dict(state)
    dct["tasks"] = _parent_first(dct.get("tasks", {}), str(dct.get("root")))
    dct["subprocesses"] = {
        key: {**sub, "tasks": _parent_first(sub.get("tasks", {}), str(sub.get("root")))}
        for key, sub in dict(dct.get("subprocesses", {})).items()
    }
    return dct


def workflow_load(compiled: CompiledDefinition, state: Mapping[str, Any]) -> BpmnWorkflow:
    dct = _ordered_state(state)
    version = dct.pop(STATE_VERSION_KEY, VERSION)
    if version != VERSION:
        raise EngineError(f"instance state was written by serializer {version}, not {VERSION}")
    workflow: BpmnWorkflow = _SERIALIZER.from_dict(dct, compiled=compiled)
    workflow.script_engine = SAFE_SCRIPT_ENGINE  # never the default eval() engine
    return workflow


def _condition_error(error: BaseException) -> ConditionError | None:
    """The sandbox's own complaint somewhere in the chain SpiffWorkflow wrapped it in."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ConditionError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def guarded(action: Callable[[], Any]) -> Any:
    """Run an engine action; whatever it raises becomes ``EngineError`` with a reason."""
    try:
        return action()
    except EngineError:
        raise
    except Exception as error:  # noqa: BLE001  (SpiffWorkflow raises many kinds)
        condition = _condition_error(error)
        reason = str(condition) if condition is not None else str(error) or type(error).__name__
        raise EngineError(reason) from error


def run_engine(workflow: BpmnWorkflow) -> None:
    """Run gateways and events until only people's tasks wait, with a runaway guard."""
    steps = 0

    def count(_task: Task) -> None:
        nonlocal steps
        steps += 1
        if steps > MAX_ENGINE_STEPS:
            raise EngineError("too many engine steps without a person's task")

    guarded(lambda: workflow.do_engine_steps(will_complete_task=count))


def ready_user_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """The READY tasks that wait for a person, in tree order (sub-processes included)."""
    return list(workflow.get_tasks(state=TaskState.READY, manual=True))


def completed_user_tasks(workflow: BpmnWorkflow, spec_id: str) -> list[Task]:
    return [
        task
        for task in workflow.get_tasks(state=TaskState.COMPLETED)
        if task.task_spec.name == spec_id and task.task_spec.manual
    ]


def _lineage(task: Task) -> list[Task]:
    """The task, then the sub-process tasks that contain it, innermost first."""
    chain = [task]
    current = task
    while (parent_id := getattr(current.workflow, "parent_task_id", None)) is not None:
        current = current.workflow.top_workflow.get_task_from_id(parent_id)
        chain.append(current)
    return chain


def is_after(task: Task, earlier: Task) -> bool:
    """True when ``task`` lies on a path that went through ``earlier`` (across
    sub-process boundaries)."""
    for later in _lineage(task):
        for before in _lineage(earlier):
            if (
                later.workflow is before.workflow
                and later is not before
                and later.is_descendant_of(before)
            ):
                return True
    return False


def state_position(
    compiled: CompiledDefinition, state: Mapping[str, Any]
) -> tuple[list[str], list[str]]:
    """Active and completed BPMN element ids, read from the stored state without a restore."""
    active: list[str] = []
    completed: list[str] = []
    ordered = _ordered_state(state)
    trees: list[Mapping[str, Any]] = [ordered["tasks"]]
    trees.extend(sub["tasks"] for sub in ordered["subprocesses"].values())
    active_mask = TaskState.READY | TaskState.WAITING | TaskState.STARTED
    for tasks in trees:
        for task in tasks.values():
            element = compiled.bpmn_ids.get(str(task.get("task_spec")))
            if element is None:
                continue
            task_state = int(task.get("state", 0))
            if task_state & active_mask and element not in active:
                active.append(element)
            elif task_state == TaskState.COMPLETED and element not in completed:
                completed.append(element)
    return active, [element for element in completed if element not in active]
