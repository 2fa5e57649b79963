"""The stored state stays small (no spec in it) and a completion stays fast."""

from __future__ import annotations

import json
import time

import pytest

from tongban.platform.workflow.models import ProcessInstance, WorkTask, WorkTaskState
from tongban.platform.workflow.services import definition_default, instance_start, task_complete
from tongban.platform.workflow.tests import samples

pytestmark = pytest.mark.django_db

INSTANCES = 10
BUDGET_MS = 60  # generous: the machine is shared; measured figures are in ADR 0011


def test_state_is_small_and_completions_are_fast(targets):
    definition = definition_default(
        actor=None,
        key="perf",
        name="性能",
        steps=samples.steps(targets["window"], targets["market"], targets["leader"]),
    )
    instance_start(actor=None, definition=definition, subject="warm-up")  # compiles the spec
    started = time.perf_counter()
    completions = 0
    for number in range(INSTANCES):
        instance = instance_start(actor=None, definition=definition, subject=f"perf:{number}")
        while task := WorkTask.objects.filter(instance=instance, state=WorkTaskState.READY).first():
            task_complete(actor=None, task=task, data={"step": task.spec_id})
            completions += 1
    elapsed_ms = (time.perf_counter() - started) * 1000
    finished = ProcessInstance.objects.get(subject="perf:0")
    size = len(json.dumps(finished.state))

    assert finished.is_finished
    assert completions == INSTANCES * 4
    assert "spec" not in finished.state
    assert size < 16_000
    assert elapsed_ms / (completions + INSTANCES) < BUDGET_MS
