"""Faults under load against the production app server (gunicorn) on PostgreSQL.

Citizens submit applications over the API while a gunicorn worker is SIGKILLed
mid-request and then the database goes away under them, in two ways: every PostgreSQL
connection of the database is terminated (the shared server), or PostgreSQL itself is
restarted, killed without a checkpoint and recovering from its WAL (a private server made
for the test, ``private_postgres.py``: the shared one may not be restarted). Clients
behave like real ones: a request that fails (connection reset, 5xx) is retried with the
same ``Idempotency-Key``. Afterwards every application is there exactly once and whole
(timeline, audit entry, outbox event), nothing is half written, the audit chain verifies,
and delivering the outbox notifies the citizen once per application.

The restart runs this module's ``test_..._postgresql_restart`` in a child pytest against
the private server (``TONGBAN_FAULTS_PRIVATE_PG`` names its data directory): the child's
test database lives there, so the restart takes the child's own connection down too.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from bench.loadclient import HOST, Server, ServerConfig
from tests.faults.private_postgres import PrivatePostgres, unavailable_reason
from tests.subprocesses import database_url
from tongban.apps.approvals.models import Case, CaseEvent
from tongban.apps.approvals.tests.conftest import make_city
from tongban.platform.accounts.services import token_create
from tongban.platform.audit.models import AuditEntry
from tongban.platform.audit.verify import verify_chain
from tongban.platform.events.models import Delivery, DeliveryStatus, Event
from tongban.platform.files.models import StoredFile
from tongban.platform.notify.models import Message

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":", 1)[0] not in ("postgres", "postgresql"),
        reason="terminates PostgreSQL backends and needs concurrent writers",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
#: the data directory of the private server the restart test may restart
PRIVATE_PG = "TONGBAN_FAULTS_PRIVATE_PG"
APPLICATIONS = 48
CLIENTS = 4


def _server_env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "TONGBAN_DB_CONN_MAX_AGE": "60",  # persistent connections, as in production
        "TONGBAN_VAR_DIR": str(tmp_path),
        "TONGBAN_LOG_LEVEL": "ERROR",
    }


def _worker_pids(master: int) -> list[int]:
    out = subprocess.run(  # noqa: S603
        ["/usr/bin/pgrep", "-P", str(master)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in out.stdout.split()]


def _terminate_database_connections() -> int:
    """What a PostgreSQL restart does to every app server: their connections die."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


class Citizen:
    """A client that retries a failed submission with the same idempotency key."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Forwarded-Proto": "https",
        }
        self.failures: Counter[str] = Counter()

    def submit(self, item_id: int, file_id: str, key: str) -> dict[str, Any]:
        body = json.dumps(
            {
                "item_id": item_id,
                "applicant": {"contact_phone": "13812345678"},
                "materials": [{"name": "食品经营许可申请书", "file_id": file_id}],
            }
        ).encode()
        deadline = time.monotonic() + 180  # a restarting database is back within seconds
        pause = 0.1
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
            try:
                conn.request(
                    "POST",
                    "/api/approvals/cases",
                    body=body,
                    headers={**self.headers, "Idempotency-Key": key},
                )
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self.failures[type(error).__name__] += 1
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            finally:
                conn.close()
            if response.status >= 500:
                self.failures[f"http {response.status}"] += 1
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            assert response.status in (200, 201), data[:500]
            return dict(json.loads(data))
        raise AssertionError(f"{key} never went through: {self.failures}")


def _apply_through_faults(tmp_path: Path, database_fault: Callable[[], str]) -> None:
    """48 applications from 4 clients: after a quarter a gunicorn worker is SIGKILLed,
    after half ``database_fault`` takes the database away (it returns what it did, for the
    log); then everything is checked."""
    city = make_city(for_legal_persons=True)
    _token, secret = token_create(actor=city.citizen, user=city.citizen, name="faults")
    uploads = [city.materials()[0].file_id for _ in range(APPLICATIONS)]
    before = {
        "audit": AuditEntry.objects.count(),
        "message_ids": list(Message.objects.values_list("pk", flat=True)),
    }

    server = Server(ServerConfig("sync", workers=3), _server_env(tmp_path), tmp_path / "g.log")
    server.start(timeout=300)  # three workers importing Django on a busy CI machine
    try:
        assert server.process is not None
        citizen = Citizen(server.port, secret)
        keys = [f"faults-{index:03d}-{secrets.token_hex(4)}" for index in range(APPLICATIONS)]
        answers: dict[str, dict[str, Any]] = {}
        done = threading.Semaphore(0)
        lock = threading.Lock()

        def run(share: list[tuple[str, Any]]) -> None:
            for key, file_id in share:
                answer = citizen.submit(city.item_id, str(file_id), key)
                with lock:
                    answers[key] = answer
                done.release()

        work = list(zip(keys, uploads, strict=True))
        threads = [
            threading.Thread(target=run, args=(work[index::CLIENTS],)) for index in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for _ in range(APPLICATIONS // 4):
            assert done.acquire(timeout=120)
        killed = _worker_pids(server.process.pid)[0]
        os.kill(killed, 9)  # a worker dies mid-request; the arbiter starts another
        for _ in range(APPLICATIONS // 4):
            assert done.acquire(timeout=120)
        fault = database_fault()
        for thread in threads:
            thread.join(timeout=300)
        assert not any(thread.is_alive() for thread in threads)
        # the servers answer again at once, on fresh connections
        after = citizen.submit(city.item_id, str(city.materials()[0].file_id), "faults-after")
        assert after["number"]
    finally:
        server.stop()

    print(f"retried after faults: {dict(citizen.failures)}; database: {fault}")
    assert len(answers) == APPLICATIONS
    numbers = [answer["number"] for answer in answers.values()]
    assert len(set(numbers)) == APPLICATIONS  # one case per key, never two
    cases = Case.objects.filter(applicant=city.citizen)
    assert cases.count() == APPLICATIONS + 1
    assert sorted(cases.values_list("number", flat=True)) == sorted([*numbers, after["number"]])
    for case in cases:
        # whole: its submission is on the timeline, audited, and in the outbox
        assert CaseEvent.objects.filter(case=case).count() >= 1
    submitted = AuditEntry.objects.filter(action="approvals.case.submitted")
    assert submitted.count() == APPLICATIONS + 1
    assert Event.objects.filter(name="approvals.case.submitted").count() == APPLICATIONS + 1
    assert StoredFile.objects.filter(pk__in=uploads).count() == APPLICATIONS
    assert verify_chain().ok
    assert AuditEntry.objects.count() > before["audit"]
    # the citizen was told once per application, however often a client retried
    links = list(
        Message.objects.filter(recipient=city.citizen)
        .exclude(pk__in=before["message_ids"])
        .values_list("link", flat=True)
    )
    assert len(links) == APPLICATIONS + 1
    assert len(set(links)) == APPLICATIONS + 1

    # a worker then delivers every event the servers queued, each once
    worker = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "tongban.cli", "worker", "--batch"],
        cwd=ROOT,
        env=_server_env(tmp_path),
        capture_output=True,
        timeout=600,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    assert not Delivery.objects.exclude(status=DeliveryStatus.DONE).exists()
    pairs = list(Delivery.objects.values_list("event_id", "subscriber"))
    assert len(pairs) == len(set(pairs))


def test_a_killed_worker_and_cut_database_connections_lose_and_duplicate_nothing(tmp_path):
    def cut() -> str:
        terminated = _terminate_database_connections()
        assert terminated >= 1
        return f"{terminated} connections terminated"

    _apply_through_faults(tmp_path, cut)


@pytest.mark.skipif(
    not os.environ.get(PRIVATE_PG), reason=f"runs in a child pytest with {PRIVATE_PG} set"
)
def test_a_killed_worker_and_a_postgresql_restart_lose_and_duplicate_nothing(tmp_path):
    server = PrivatePostgres.attach(Path(os.environ[PRIVATE_PG]))

    def restart() -> str:
        started = time.monotonic()
        server.restart()
        # this process's own connection died with the server: Django opens a new one
        connection.close()
        return f"PostgreSQL restarted (immediate) in {time.monotonic() - started:.1f} s"

    _apply_through_faults(tmp_path, restart)


def test_postgresql_restarted_under_load_in_a_private_server(tmp_path):
    """The restart test above, in a child pytest whose database is a private PostgreSQL
    server made for it (the suite's server is shared and stays up)."""
    reason = unavailable_reason()
    if reason:
        if os.environ.get("TONGBAN_REQUIRE_POSTGRES"):
            pytest.fail(f"cannot make a private PostgreSQL server: {reason}")
        pytest.skip(reason)
    with PrivatePostgres() as server:
        child = subprocess.run(  # noqa: S603
            [
                sys.executable, "-m", "pytest", "-q", "-s",
                f"{Path(__file__).relative_to(ROOT)}::"
                "test_a_killed_worker_and_a_postgresql_restart_lose_and_duplicate_nothing",
            ],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": server.url("tongban"), PRIVATE_PG: str(server.data)},
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )  # fmt: skip
    output = child.stdout[-6000:] + child.stderr[-3000:]
    print(output)
    assert child.returncode == 0, output
    assert "1 passed" in child.stdout, output
    assert "PostgreSQL restarted (immediate)" in child.stdout, output
