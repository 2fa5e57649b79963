"""Two officers act on the same task at the same moment, on two real connections.

PostgreSQL only: SQLite serialises writers on the whole file, so it cannot show row locks.
The first transaction is slowed down while it holds the instance lock, so the second one
really waits on ``select_for_update`` and then finds the task already done.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tongban.platform.audit.models import AuditEntry
from tongban.platform.workflow import services
from tongban.platform.workflow.models import ProcessInstance, WorkTask, WorkTaskState
from tongban.platform.workflow.services import (
    TaskMapping,
    definition_upload,
    instance_start,
    task_claim,
    task_complete,
)
from tongban.platform.workflow.tests import samples

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks need PostgreSQL (SQLite locks the whole file)",
    ),
]


def _race(action, actors):
    barrier = threading.Barrier(len(actors))
    results: list[tuple[str, str, object]] = []
    lock = threading.Lock()

    def run(actor):
        try:
            barrier.wait(timeout=10)
            outcome = ("ok", actor.username, action(actor))
        except ValidationError as error:
            outcome = ("refused", actor.username, error.messages)
        except Exception as error:  # noqa: BLE001  (reported, then asserted on)
            outcome = ("error", actor.username, repr(error))
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(actor,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


@pytest.fixture
def started(people, targets):
    definition = definition_upload(
        actor=None,
        key="race",
        name="并发",
        xml=samples.linear("accept", "review"),
        task_map={
            "accept": TaskMapping(target=targets["window"]),
            "review": TaskMapping(target=targets["market"]),
        },
    )
    instance = instance_start(actor=None, definition=definition, subject="race:1")
    task = WorkTask.objects.get(instance=instance, spec_id="accept")
    return instance, task


def test_two_concurrent_completions_exactly_one_succeeds(started, people, monkeypatch):
    instance, task = started
    original = services._save_instance

    def slow_save(locked_instance, workflow):
        time.sleep(0.3)  # still holding the row lock
        original(locked_instance, workflow)

    monkeypatch.setattr(services, "_save_instance", slow_save)

    def complete(actor):
        fresh = WorkTask.objects.get(pk=task.pk)  # both read it while it is ready
        created = task_complete(actor=actor, task=fresh, data={"by": actor.username})
        return [t.spec_id for t in created]

    results = _race(complete, [people["clerk"], people["clerk2"]])

    assert [outcome for outcome, _name, _detail in results] == ["ok", "refused"], results
    assert results[0][2] == ["review"]
    assert results[1][2] == ["该任务已办结"]
    done = WorkTask.objects.get(pk=task.pk)
    assert done.state == WorkTaskState.COMPLETED
    assert done.completed_by.username == results[0][1]
    assert WorkTask.objects.filter(instance=instance, spec_id="review").count() == 1
    assert ProcessInstance.objects.get(pk=instance.pk).revision == 1
    assert AuditEntry.objects.filter(action="workflow.task.complete").count() == 1


def test_two_concurrent_claims_exactly_one_succeeds(started, people):
    _instance, task = started

    def claim(actor):
        fresh = WorkTask.objects.get(pk=task.pk)
        return task_claim(actor=actor, task=fresh).claimed_by.username

    results = _race(claim, [people["clerk"], people["clerk2"]])

    assert [outcome for outcome, _name, _detail in results] == ["ok", "refused"], results
    winner = results[0][1]
    assert results[0][2] == winner
    assert results[1][2] == [f"该任务已由 {winner} 签收"]
    assert WorkTask.objects.get(pk=task.pk).claimed_by.username == winner
