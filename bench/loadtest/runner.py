"""``make loadtest``: a city's busiest hour against the production server on PostgreSQL.

Steps: install Locust when missing (``pip install -e '.[load]'``); create (or empty) the
PostgreSQL database, migrate, load the demo city 示范市 (its catalogue is what citizens
search) and the load-test desks (a window clerk, three departments each with an officer
and a leader, a published item each, the 一件事 bundle of the three, citizens with
uploaded files, personal access tokens; see ``bench.approvals_lifecycle.build_city``) and
an intake source of supervision; start gunicorn (production settings) and the background
worker (``tongban worker``); run ``locustfile.py`` headless for ``LOADTEST_MINUTES``
(default 10); sample the memory (RSS) of every process meanwhile; print throughput,
p50/p95/p99 per request kind, errors and memory; write ``bench/results/loadtest.json``.

Environment: ``LOADTEST_MINUTES`` (default 10), ``LOADTEST_SCALE`` (multiplies every
user's rate, default 1), ``LOADTEST_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/tongban_loadtest``), ``LOADTEST_SERVER`` (gunicorn
setting, ``<worker class>:<workers>[x<threads>]``, default ``gthread:2x4``),
``LOADTEST_NO_DEMO`` (skip the demo city: faster setup, a tiny catalogue),
``LOADTEST_RESULTS`` (write the result elsewhere, e.g. for a trial run).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS = Path(
    os.environ.get("LOADTEST_RESULTS") or ROOT / "bench" / "results" / "loadtest.json"
).resolve()
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tongban_loadtest"
PREFIX = "LT"  # the load-test desks' department codes, apart from the demo city's

USERS = {
    "applicant": 20,
    "clerk": 2,
    "officer": 3,  # one per department
    "leader": 3,
    "intake": 2,
    "searcher": 10,
    "verifier": 4,
    "gateway": 4,
    "document_sender": 1,  # the general office's 文书
    "document_receiver": 4,  # receiving units' 文书
}
QUERIES = [
    "开饭店",
    "营业执照",
    "食品经营许可",
    "卫生许可",
    "消防安全检查",
    "户口迁移",
    "社保卡",
    "公积金提取",
    "出生登记",
    "kfd",
    "yingyezhizhao",
    "建设工程",
    "药品",
    "退休",
    "残疾人证",
]


def ensure_locust() -> None:
    if importlib.util.find_spec("locust") is None:
        print("locust is missing: pip install -e '.[load]'", flush=True)
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "pip", "install", "-q", "-e", ".[load]"],
            cwd=ROOT,
            check=True,
        )


# ----------------------------------------------------------------------------- the city


def build(url: str, host: str) -> dict[str, Any]:
    """Migrate, load the demo city and the load-test desks; the locustfile's config."""
    os.environ["TONGBAN_BENCH_SERVERS"] = f"sync:1@{USERS['applicant']}"  # applicants made
    os.environ["TONGBAN_BENCH_DATABASE_URL"] = url
    from bench import approvals_lifecycle as lifecycle
    from bench.common import setup_django

    lifecycle.ensure_database(url)
    setup_django("loadtest")
    if not os.environ.get("LOADTEST_NO_DEMO"):
        from tongban.demo.loader import load_demo_city

        started = time.perf_counter()
        load_demo_city()
        print(f"demo city loaded in {time.perf_counter() - started:.0f} s", flush=True)
    lifecycle.DEPARTMENTS = [
        (f"{PREFIX}{code}", f"压测{name}", f"{PREFIX}{unit}", "9" + basic[1:], item, mat, lic)
        for code, name, unit, basic, item, mat, lic in lifecycle.DEPARTMENTS
    ]
    lifecycle.BUNDLE = "loadtest"
    city = lifecycle.build_city()

    from tongban.apps.supervision import sources
    from tongban.apps.supervision.models import Source
    from tongban.platform.orgs.models import Department

    key, digest = sources._new_key("loadtest")
    Source.objects.create(code="loadtest", name="压测来源", key_hash=digest)
    departments = list(Department.objects.values_list("code", flat=True)[:40])
    gateway = _gateway_consumer()
    documents = _documents()
    return {
        "host": host,
        "bundle": lifecycle.BUNDLE,
        "clerk_token": city.clerk_token,
        "applicants": [
            {"token": token, "files": {str(item): file for item, file in files.items()}}
            for token, files in zip(city.applicant_tokens, city.files, strict=True)
        ],
        "desks": [
            {
                "code": desk.code,
                "item_id": desk.item_id,
                "material": desk.material,
                "officer_token": desk.officer_token,
                "leader_token": desk.leader_token,
            }
            for desk in city.desks
        ],
        "source_key": key,
        "gateway": gateway,
        "documents": documents,
        "departments": departments,
        "queries": QUERIES,
        "users": USERS,
    }


def _documents(copies: int = 60) -> dict[str, Any]:
    """The demo's sealed notice copied ``copies`` times as documents waiting for 分发 (the
    sealing itself is not part of the hour), the general office's 文书 and the receiving
    units' 文书 with tokens, and the two city-wide groups (about 45 units a send)."""
    from tongban.apps.documents.models import Document, DocumentState, RecipientGroup
    from tongban.platform.accounts.models import User
    from tongban.platform.accounts.services import token_create

    sealed = Document.objects.filter(issuer__code="SZFB", sealed_pdf__isnull=False).first()
    sender = User.objects.filter(username="szfb_u01c").first()
    if sealed is None or sender is None:
        return {}
    ids = []
    for _ in range(copies):
        copy = Document.objects.get(pk=sealed.pk)
        copy.pk = None
        copy.public_id = uuid.uuid4()
        copy.serial = None
        copy.year = None
        copy.number = ""
        copy.process = None
        copy.state = DocumentState.DISTRIBUTING
        copy.save()
        ids.append(copy.pk)
    receivers = [
        User.objects.get(username=name)
        for name in ("scjg_u01c", "zsj_u01c", "rsj_u01c", "mzj_u01c", "scj_u01c")
        if User.objects.filter(username=name).exists()
    ]

    def token(user: Any) -> str:
        return token_create(actor=user, user=user, name="loadtest")[1]

    return {
        "sender_token": token(sender),
        "documents": ids,
        "groups": list(
            RecipientGroup.objects.filter(owner__isnull=True).values_list("pk", flat=True)
        ),
        "receiver_tokens": [token(user) for user in receivers],
    }


def _gateway_consumer() -> dict[str, Any]:
    """A department system (示范市民政局's 婚姻登记系统) with a client secret and a grant on
    the demo's population resource, and identity numbers of the demo's base database."""
    import datetime as dt
    import secrets

    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from tongban.apps.basedata.models import NaturalPerson
    from tongban.apps.sharing.models import ConsumerSystem, Grant, Resource
    from tongban.platform.accounts.models import User
    from tongban.platform.orgs.models import Department

    resource = Resource.objects.filter(service_code="basedata.person", current__isnull=False)
    resource = resource.order_by("code").first()
    if resource is None or resource.current is None:
        return {}
    department = Department.objects.exclude(pk=resource.provider_id).order_by("pk").first()
    secret = secrets.token_urlsafe(32)
    system, _ = ConsumerSystem.objects.update_or_create(
        code="loadtest-consumer",
        defaults={
            "name": "压测业务系统",
            "department": department,
            "client_id": "loadtest-consumer",
            "secret_hash": make_password(secret),
            "secret_prefix": secret[:8],
            "is_active": True,
        },
    )
    items = list(resource.current.items.values_list("code", flat=True))
    now = timezone.now()
    Grant.objects.create(
        resource=resource,
        consumer_system=system,
        consumer_department=department,
        items=items,
        masked_items=[code for code in items if code in ("phone", "residence_address")],
        purpose="压测",
        rate_limit_per_minute=100_000,
        valid_from=now - dt.timedelta(minutes=5),
        expires_at=now + dt.timedelta(days=1),
        created_by=User.objects.filter(kind="staff").order_by("pk").first(),
    )
    people = [
        person.id_number for person in NaturalPerson.objects.order_by("pk")[:500].only("id_number")
    ]
    return {
        "client_id": system.client_id,
        "secret": secret,
        "resource": resource.code,
        "people": [str(number) for number in people],
    }


# ----------------------------------------------------------------------------- memory


def _status(pid: int) -> dict[str, int]:
    """VmRSS and RssAnon of a process in KiB (empty when it is gone)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon"):
                values[key] = int(rest.split()[0])
    except OSError:
        return {}
    return values


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        if int(raw[raw.rindex(")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class MemorySampler(threading.Thread):
    """Every few seconds: RSS of gunicorn's arbiter and workers, the worker process,
    Locust, and every PostgreSQL backend of the database; keeps the peak per process role
    and the total."""

    def __init__(self, url: str, groups: dict[str, int], interval: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.groups = groups  # role -> pid (children counted as "<role> child")
        self.interval = interval
        self.stopped = threading.Event()
        self.peak: dict[str, dict[str, int]] = defaultdict(dict)
        self.last: dict[str, dict[str, int]] = {}
        self.peak_total = {"VmRSS": 0, "RssAnon": 0}

    def _backends(self, connection: Any) -> list[int]:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (urlsplit(self.url).path.lstrip("/"),),
        ).fetchall()
        return [row[0] for row in rows]

    def sample(self, connection: Any) -> None:
        seen: dict[str, dict[str, int]] = {}
        for role, pid in self.groups.items():
            seen[role] = _status(pid)
            for number, child in enumerate(sorted(_children(pid))):
                seen[f"{role} child {number + 1}"] = _status(child)
        for number, pid in enumerate(sorted(self._backends(connection))):
            seen[f"postgres backend {number + 1}"] = _status(pid)
        seen = {role: values for role, values in seen.items() if values}
        self.last = seen
        for role, values in seen.items():
            for key, value in values.items():
                self.peak[role][key] = max(self.peak[role].get(key, 0), value)
        for key in self.peak_total:
            total = sum(values.get(key, 0) for values in seen.values())
            self.peak_total[key] = max(self.peak_total[key], total)

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stopped.is_set():
                self.sample(connection)
                self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=15)


# ----------------------------------------------------------------------------- the run


def _locust_stats(prefix: Path) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    kinds: dict[str, dict[str, Any]] = {}
    total: dict[str, Any] = {}
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            entry = {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": round(float(row["Requests/s"]), 2),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "p99_ms": float(row["99%"] or 0),
                "max_ms": round(float(row["Max Response Time"] or 0), 1),
            }
            if row["Name"] == "Aggregated":
                total = entry
            else:
                kinds[row["Name"]] = entry
    return kinds, total


def _failures(prefix: Path) -> list[dict[str, str]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [
            {"kind": row["Name"], "error": row["Error"][:300], "count": row["Occurrences"]}
            for row in csv.DictReader(handle)
        ][:20]


def _outcomes() -> dict[str, int]:
    from django.db.models import Count

    from tongban.apps.approvals.models import Case
    from tongban.apps.licences.models import Licence
    from tongban.apps.supervision.models import ReceivedEvent

    states = dict(
        Case.objects.filter(parent__isnull=True)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return {
        "applications_by_state": states,  # type: ignore[dict-item]
        "licences_issued": Licence.objects.count(),
        "supervision_events_stored": ReceivedEvent.objects.count(),
    }


def _during(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the run added: applications per state now (of those submitted during the
    run), licences issued, supervision events stored (the intake batches and, through
    the worker, the platform's own cases)."""
    states_before = before["applications_by_state"]
    return {
        "applications_by_state_change": {
            state: count - states_before.get(state, 0)
            for state, count in after["applications_by_state"].items()
            if count != states_before.get(state, 0)
        },
        "licences_issued": after["licences_issued"] - before["licences_issued"],
        "supervision_events_stored": after["supervision_events_stored"]
        - before["supervision_events_stored"],
    }


def _mb(kib: int) -> float:
    return round(kib / 1024, 1)


def main() -> int:
    ensure_locust()
    from bench.approvals_lifecycle import server_env
    from bench.common import machine
    from bench.loadclient import Server, ServerConfig

    minutes = float(os.environ.get("LOADTEST_MINUTES", "10"))
    url = os.environ.get("LOADTEST_DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit("the load test runs on PostgreSQL (LOADTEST_DATABASE_URL)")
    config = ServerConfig.parse(os.environ.get("LOADTEST_SERVER", "gthread:2x4"))
    # the builder and the production server must share the personal-data keys
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("TONGBAN_PII_KEY", secrets.token_hex(16))
    os.environ.setdefault("TONGBAN_PII_HMAC_KEY", secrets.token_urlsafe(32))
    var_dir = tempfile.mkdtemp(prefix="tongban-loadtest-")
    Path(var_dir, "static").mkdir()
    os.environ["TONGBAN_VAR_DIR"] = var_dir
    worker: subprocess.Popen[bytes] | None = None
    try:
        started = time.perf_counter()
        server = Server(config, {}, Path(var_dir) / "gunicorn.log")
        host = f"127.0.0.1:{server.port}"
        settings_for_locust = build(url, host)
        setup_s = time.perf_counter() - started
        config_path = Path(var_dir) / "locust-config.json"
        config_path.write_text(json.dumps(settings_for_locust), encoding="utf-8")
        from django.db import connections

        connections.close_all()

        env = server_env(url, var_dir)
        server.env = env
        server.start()
        worker = subprocess.Popen(  # noqa: S603
            [str(ROOT / ".venv" / "bin" / "tongban"), "worker"],
            env=env,
            stdout=(Path(var_dir) / "worker.log").open("ab"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        users = sum(USERS.values())
        prefix = Path(var_dir) / "locust"
        locust_cmd = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            "--headless",
            "--host",
            f"http://{host}",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{int(minutes * 60)}s",
            "--stop-timeout",
            "30",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ]
        print(
            f"setup {setup_s:.0f} s; gunicorn {config.label.split(',')[0]} on {host}; "
            f"{users} users for {minutes:g} min",
            flush=True,
        )
        before = _outcomes()
        connections.close_all()  # not counted among the server's backends
        locust = subprocess.Popen(  # noqa: S603
            locust_cmd,
            env={**os.environ, "LOADTEST_CONFIG": str(config_path)},
            cwd=ROOT,
            stdout=(Path(var_dir) / "locust.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        assert server.process is not None
        sampler = MemorySampler(
            url,
            {"gunicorn": server.process.pid, "worker": worker.pid, "locust": locust.pid},
        )
        load_before = os.getloadavg()
        sampler.start()
        run_started = time.perf_counter()
        code = locust.wait()
        elapsed = time.perf_counter() - run_started
        sampler.stop()
        load_after = os.getloadavg()
        if not Path(f"{prefix}_stats.csv").exists():
            print((Path(var_dir) / "locust.log").read_text(errors="replace")[-3000:])
            raise SystemExit(f"locust failed ({code})")
        kinds, total = _locust_stats(prefix)
        server.stop()
        result = report(
            minutes=minutes,
            elapsed=elapsed,
            config=config.label.split(",")[0],
            kinds=kinds,
            total=total,
            failures=_failures(prefix),
            sampler=sampler,
            outcomes=_during(before, _outcomes()),
            setup_s=setup_s,
            machine_facts={**machine(), "load_average": [load_before, load_after]},
            locust_exit=code,
        )
        RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print(f"written {RESULTS}")
        if result["errors"]:
            print((Path(var_dir) / "gunicorn.log").read_text(errors="replace")[-3000:])
        return 0 if result["errors"] == 0 else 1
    finally:
        if worker is not None and worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        shutil.rmtree(var_dir, ignore_errors=True)


def report(
    *,
    minutes: float,
    elapsed: float,
    config: str,
    kinds: dict[str, dict[str, Any]],
    total: dict[str, Any],
    failures: list[dict[str, str]],
    sampler: MemorySampler,
    outcomes: dict[str, Any],
    setup_s: float,
    machine_facts: dict[str, Any],
    locust_exit: int,
) -> dict[str, Any]:
    width = max(len(name) for name in kinds) + 2
    print(
        f"\n{'request kind':<{width}}{'count':>8}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
        f"{'max':>8}{'errors':>8}"
    )
    for name, row in sorted(kinds.items()):
        print(
            f"{name:<{width}}{row['count']:>8}{row['rps']:>8.2f}{row['p50_ms']:>7.0f}"
            f"{row['p95_ms']:>7.0f}{row['p99_ms']:>7.0f}{row['max_ms']:>8.0f}{row['failures']:>8}"
        )
    print(
        f"{'all':<{width}}{total['count']:>8}{total['rps']:>8.2f}{total['p50_ms']:>7.0f}"
        f"{total['p95_ms']:>7.0f}{total['p99_ms']:>7.0f}{total['max_ms']:>8.0f}"
        f"{total['failures']:>8}   (ms)"
    )
    for failure in failures:
        print(f"  error: {failure['kind']}: {failure['error']} x{failure['count']}")
    memory = {
        role: {
            "peak_rss_mb": _mb(values.get("VmRSS", 0)),
            "peak_anon_mb": _mb(values.get("RssAnon", 0)),
        }
        for role, values in sorted(sampler.peak.items())
    }
    print("\nmemory, peak per process (RSS / private anonymous, MiB):")
    for role, values in memory.items():
        print(f"  {role:<24}{values['peak_rss_mb']:>8.1f}{values['peak_anon_mb']:>8.1f}")
    print(
        f"  {'all together (peak)':<24}{_mb(sampler.peak_total['VmRSS']):>8.1f}"
        f"{_mb(sampler.peak_total['RssAnon']):>8.1f}"
    )
    print(f"\noutcomes: {json.dumps(outcomes, ensure_ascii=False)}")
    return {
        "benchmark": "loadtest",
        "figures": {
            "requests_per_s": total["rps"],
            "requests": total["count"],
            "errors": total["failures"],
            "p50_ms": total["p50_ms"],
            "p95_ms": total["p95_ms"],
            "p99_ms": total["p99_ms"],
            "minutes": minutes,
            "elapsed_s": round(elapsed, 1),
        },
        "errors": total["failures"],
        "per_kind": kinds,
        "failures": failures,
        "memory_mb": memory,
        "memory_total_peak_mb": {
            "rss": _mb(sampler.peak_total["VmRSS"]),
            "anon": _mb(sampler.peak_total["RssAnon"]),
        },
        "outcomes": outcomes,
        "model": {
            "users": USERS,
            "scale": float(os.environ.get("LOADTEST_SCALE", "1")),
            "to_come": ["official documents fanning out", "data-sharing gateway calls"],
        },
        "server": config,
        "setup_s": round(setup_s, 1),
        "locust_exit": locust_exit,
        "machine": machine_facts,
        "notes": (
            "Locust percentiles are rounded by Locust (2 significant digits above 100 ms). "
            "RSS counts shared pages in every process (PostgreSQL's shared buffers, "
            "gunicorn's copy-on-write pages): 'anon' is each process's private memory."
        ),
    }


if __name__ == "__main__":
    sys.exit(main())
