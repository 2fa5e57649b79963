"""A server process SIGKILLed in the middle of a transition leaves the case in its
previous state (nothing half-written: no state, timeline, notice, process, event or audit
entry), and the transition then succeeds as if nothing had happened."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.subprocesses import database_url
from tongban.apps.approvals.models import Case, CaseEvent, CaseState, Notice
from tongban.apps.approvals.tests.conftest import make_city
from tongban.apps.approvals.tests.test_cases import accept, submit
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import verify_chain
from tongban.platform.events.models import Event
from tongban.platform.workflow.models import ProcessInstance

ROOT = Path(__file__).resolve().parents[4]


@pytest.mark.django_db(transaction=True)
def test_killed_mid_transition_leaves_the_previous_state(tmp_path):
    city = make_city(for_legal_persons=True)
    case = submit(city)
    before = {
        "timeline": CaseEvent.objects.filter(case=case).count(),
        "audit": AuditEntry.objects.count(),
        "events": Event.objects.count(),
    }
    marker = tmp_path / "inside"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "tongban.settings",
        "TONGBAN_LOG_LEVEL": "WARNING",
    }
    child = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "tongban.apps.approvals.tests.killed_accept",
            str(case.pk),
            str(city.clerk.pk),
            str(marker),
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    errors = (
        "" if marker.exists() else (child.stderr.read().decode()[-2000:] if child.stderr else "")
    )
    assert marker.exists(), errors
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    case.refresh_from_db()
    assert case.state == CaseState.SUBMITTED
    assert case.accepted_at is None
    assert case.process_instance_id is None
    assert not Notice.objects.filter(case=case).exists()
    assert not ProcessInstance.objects.filter(subject=f"approvals.case:{case.pk}").exists()
    assert CaseEvent.objects.filter(case=case).count() == before["timeline"]
    assert AuditEntry.objects.count() == before["audit"]
    assert Event.objects.count() == before["events"]
    assert verify_chain().ok

    accepted = accept(city, Case.objects.get(pk=case.pk))  # the next state, cleanly
    assert accepted.state in (CaseState.ACCEPTED, CaseState.IN_REVIEW)
    assert Notice.objects.filter(case=case, kind="acceptance").count() == 1
