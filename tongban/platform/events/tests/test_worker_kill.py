"""Killing the worker with SIGKILL in the middle of a batch loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.subprocesses import database_url
from tongban.platform.audit.models import AuditEntry
from tongban.platform.events import registry
from tongban.platform.events.models import Delivery, DeliveryStatus
from tongban.platform.events.services import WORKER_LOST, event_publish

HANDLER = "tongban.platform.events.tests.handlers.record_slowly"
EVENTS = 30
ROOT = Path(__file__).resolve().parents[4]


def _worker(*extra: str) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_EVENT_LEASE_SECONDS": "1",
        "TONGBAN_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tongban.cli", "worker", "--interval", "0.05", *extra],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _handled() -> int:
    return AuditEntry.objects.filter(action="test.event.handled").count()


@pytest.mark.django_db(transaction=True)
def test_sigkill_in_the_middle_of_a_batch_loses_nothing(settings):
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks_db.DatabaseBackend",
            "QUEUES": ["default", "events", "notify"],
        }
    }
    settings.TONGBAN_EVENT_LEASE_SECONDS = 1
    registry.subscribe("test.kill.*", HANDLER)
    try:
        for number in range(EVENTS):
            event_publish("test.kill.event", {"n": number})  # autocommit: enqueued at once
    finally:
        registry.unsubscribe("test.kill.*", HANDLER)
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == EVENTS

    first = _worker()
    deadline = time.monotonic() + 60
    while _handled() < 3 and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    done_before_restart = _handled()
    # the kill may land mid-handler (a RUNNING task whose delivery is still pending) or
    # between two tasks; either way nothing may be lost
    pending_tasks = [
        task_id
        for task_id in Delivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
            "task_id", flat=True
        )
        if task_id
    ]
    stranded = list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING, id__in=pending_tasks
        ).values_list("id", flat=True)
    )
    first_errors = first.stderr.read().decode()[-2000:] if first.stderr else ""
    assert 3 <= done_before_restart < EVENTS, first_errors

    time.sleep(1.2)  # the killed worker's lease expires
    second = _worker("--batch")
    _, errors = second.communicate(timeout=120)
    assert second.returncode == 0, errors.decode()[-2000:]

    assert Delivery.objects.filter(status=DeliveryStatus.DONE).count() == EVENTS
    handled_ids = list(
        AuditEntry.objects.filter(action="test.event.handled").values_list("object_id", flat=True)
    )
    assert len(handled_ids) == EVENTS  # every event handled exactly once in effect
    assert len(set(handled_ids)) == EVENTS
    # a task the killed worker held mid-handler was found stranded and written off
    for task_id in stranded:
        assert DBTaskResult.objects.get(id=task_id).exception_class_path == WORKER_LOST
