"""Joint-case lifecycles over HTTP against PostgreSQL, the app under gunicorn in production.

One lifecycle (一件事, three departments): the applicant submits the bundle (Idempotency-Key)
and opens the application to see its three children; the lead window accepts it once;
then, for each child at the same time (one thread per department): the department's
officer opens the child to find the review task, claims and completes it, and the
department's leader approves it (which issues an SM2-signed e-licence); finally the window
delivers the parent. 16 requests; a case counts only when every response had the expected
status and the parent ended ``delivered``.

Figures: ``cases_per_s``, ``p50_ms``/``p95_ms``/``p99_ms`` over every request, of the best
server setting tried, and per request kind (``details.per_kind``); baseline ``pgbench_tps``
(TPC-B-like, scale 10, on a scratch database, same run) and ``me_rps`` (the lightest
authenticated API request, ``GET /api/platform/me``, on the same server: the floor). Then
an in-process profile (Django test client, same PostgreSQL): per request kind the SQL
queries and the time rows stay locked until commit (the audit chain's head, the case-number
counter, the licence serial counter), the SQL statements by table, and cProfile's top
functions, written to ``bench/results/approvals_lifecycle_profile.txt``. The CPU spent per
case by the server, its PostgreSQL backends, this client and the rest of the machine is in
``details.cpu_ms_per_case``.

Bearer-token POSTs carry a CSRF cookie/header pair: see ``bench.loadclient.ApiClient``.

Environment: ``TONGBAN_BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/tongban_bench``, created when missing and emptied),
``TONGBAN_BENCH_CASES`` (per server setting, default 300), ``TONGBAN_BENCH_SECONDS``
(time limit per server setting, default 60), ``TONGBAN_BENCH_SERVERS`` (gunicorn settings
to try, ``<worker class>:<workers>[x<threads>]@<clients>``, default
``sync:2@4,sync:4@4,sync:4@8,gthread:2x4@4``; the best is reported), ``TONGBAN_BENCH_CLIENTS``
(concurrent applications when a setting names none, default 8),
``TONGBAN_BENCH_PROFILE_CASES`` (default 12).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.common import RESULTS_DIR, machine, setup_django, write_result
from bench.loadclient import (
    ApiClient,
    CpuMeter,
    Recorder,
    RequestFailed,
    Server,
    ServerConfig,
    WaitSampler,
    percentile,
)

NAME = "approvals_lifecycle"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tongban_bench"
CASES = int(os.environ.get("TONGBAN_BENCH_CASES", "300"))
SECONDS = float(os.environ.get("TONGBAN_BENCH_SECONDS", "60"))
CLIENTS = int(os.environ.get("TONGBAN_BENCH_CLIENTS", "8"))
SERVERS = [
    ServerConfig.parse(text, CLIENTS)
    for text in os.environ.get(
        "TONGBAN_BENCH_SERVERS", "sync:2@4,sync:4@4,sync:4@8,gthread:2x4@4"
    ).split(",")
    if text.strip()
]
WARMUP_CASES = 2  # per client, before each measured run
PROFILE_CASES = int(os.environ.get("TONGBAN_BENCH_PROFILE_CASES", "12"))
MAX_FAILURES = 25
BUNDLE = "kcg"
PGBENCH_SCALE = 10
PGBENCH_SECONDS = 20
FLOOR_SECONDS = 5
API = "/api/approvals"

# (department code, name, unit, item basic code, item name, material, licence)
DEPARTMENTS = [
    (
        "SCJG",
        "示范市市场监督管理局",
        "SCJG-XK",
        "000117001000",
        "食品经营许可证核发",
        "食品经营许可申请书",
        "食品经营许可证",
    ),
    (
        "WJW",
        "示范市卫生健康委员会",
        "WJW-JD",
        "000118002000",
        "公共场所卫生许可证核发",
        "公共场所卫生许可申请书",
        "公共场所卫生许可证",
    ),
    (
        "XFJ",
        "示范市消防救援支队",
        "XFJ-FH",
        "000119003000",
        "公众聚集场所投入使用、营业前消防安全检查",
        "消防安全检查申请表",
        "消防安全检查合格证",
    ),
]


# ----------------------------------------------------------------------------- the city


@dataclass
class Desk:
    """One department's people for the lifecycle."""

    code: str
    item_id: int
    material: str
    officer_token: str
    leader_token: str


@dataclass
class City:
    clerk_token: str
    applicant_tokens: list[str]
    files: list[dict[int, str]]  # per applicant: item id -> uploaded file id
    desks: list[Desk]


def ensure_database(url: str) -> None:
    """Create the database of ``url`` when it does not exist (via the ``postgres`` one)."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    try:
        connection = psycopg.connect(_other_database(url, "postgres"), autocommit=True)
    except psycopg.OperationalError as error:
        raise SystemExit(f"approvals_lifecycle needs PostgreSQL at {url}: {error}") from error
    with connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_other_database(url, "postgres"), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


def _other_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def build_city() -> City:
    """A lead department (政务服务管理局) with a window and its clerk, three departments each
    with a licensing unit, an officer and a leader, a published item per department and
    the 一件事 bundle of the three, applicants with their uploaded files, tokens."""
    from django.core.files.base import ContentFile

    from tests import factories
    from tongban.apps.approvals import permissions
    from tongban.apps.catalog import services as catalog
    from tongban.apps.catalog.models import ServiceItem
    from tongban.apps.catalog.tests import builders
    from tongban.platform.access.models import Scope
    from tongban.platform.accounts.services import token_create
    from tongban.platform.calendar import services as calendar
    from tongban.platform.files.services import file_store

    calendar.calendar_seed()
    lead = builders.department("ZWFW", "示范市政务服务管理局")
    window = factories.unit(lead, "ZWFW-CK", "综合受理窗口")
    clerk_role = factories.role(
        "bench_clerk",
        [permissions.CASE_RECEIVE, permissions.CASE_ACCEPT, permissions.CASE_DELIVER],
    )
    officer_role = factories.role("bench_officer", [permissions.CASE_REVIEW])
    leader_role = factories.role(
        "bench_leader",
        [permissions.CASE_REVIEW, permissions.CASE_DECIDE, permissions.CASE_EXTEND_APPROVE],
    )
    # a comprehensive window: its clerk's scope is the whole division (all four departments)
    clerk = factories.staff(
        "bench_clerk", window, role_obj=clerk_role, scope=Scope.DIVISION, name="王窗口"
    )

    def token(user: Any) -> str:
        return token_create(actor=user, user=user, name="bench")[1]

    desks, item_ids = [], []
    for code, name, unit_code, basic_code, item_name, material, licence in DEPARTMENTS:
        department = builders.department(code, name)
        version = builders.published_item(
            department,
            basic_code=basic_code,
            name=item_name,
            competent_department=name,
            result_name=licence,
            keywords="",
            materials=(catalog.MaterialInput(name=material),),
            steps=(
                catalog.StepInput(name="受理", days=1),
                catalog.StepInput(name="审查", days=5),
                catalog.StepInput(name="决定", days=2),
            ),
        )
        unit = factories.unit(department, unit_code, "行政许可科")
        office = factories.unit(department, f"{code}-LD", "局领导")
        officer = factories.staff(
            f"bench_officer_{code.lower()}",
            unit,
            role_obj=officer_role,
            scope=Scope.DEPARTMENT,
            name=f"{code}审查员",
        )
        leader = factories.staff(
            f"bench_leader_{code.lower()}",
            office,
            role_obj=leader_role,
            scope=Scope.DEPARTMENT,
            name=f"{code}分管领导",
            position="分管领导",
        )
        desks.append(Desk(code, version.item_id, material, token(officer), token(leader)))
        item_ids.append(version.item_id)
    catalog.bundle_save(
        actor=None,
        code=BUNDLE,
        name="我要开餐馆",
        audience="person",
        lead_department=lead,
        items=ServiceItem.objects.filter(pk__in=item_ids),
        joint_limit_days=20,
    )
    applicant_tokens, files = [], []
    for number in range(1, max(config.clients for config in SERVERS) + 1):
        applicant = factories.citizen(f"bench_applicant_{number:02d}", f"申请人{number:02d}")
        applicant_tokens.append(token(applicant))
        uploaded = {}
        for desk in desks:
            upload = ContentFile(b"%PDF-1.4\n% bench\n1 0 obj <<>> endobj\n%%EOF\n", "申请书.pdf")
            uploaded[desk.item_id] = str(file_store(actor=applicant, upload=upload).pk)
        files.append(uploaded)
    return City(token(clerk), applicant_tokens, files, desks)


# ----------------------------------------------------------------------------- a lifecycle


Call = Callable[..., Any]  # (kind, method, path, payload=None, *, expect=200, headers=None)


class Check(Exception):
    pass


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise Check(message)


def submit_payload(city: City, applicant: int) -> dict[str, Any]:
    return {
        "applicant": {"contact_phone": "13912345678"},
        "materials": [
            {
                "name": desk.material,
                "file_id": city.files[applicant][desk.item_id],
                "item_id": desk.item_id,
            }
            for desk in city.desks
        ],
    }


def child_work(desk: Desk, officer: Call, leader: Call, child_id: int) -> None:
    """One department: find the review task on the child, claim, complete, approve."""
    case = f"{API}/cases/{child_id}"
    detail = officer("officer_view", "GET", case)
    tasks = [task for task in detail["open_tasks"] if task["role"] == "review"]
    _expect(len(tasks) == 1, f"child {child_id}: open tasks {detail['open_tasks']}")
    task = f"{case}/tasks/{tasks[0]['id']}"
    claimed = officer("claim", "POST", f"{task}/claim", {})
    _expect(claimed["state"] == "claimed", f"claim: {claimed}")
    reviewed = officer("review", "POST", f"{task}/complete", {"opinion": "材料齐全，符合条件"})
    _expect(reviewed["state"] == "in_review", f"review: {reviewed['state']}")
    decided = leader("decide", "POST", f"{case}/decide", {"approve": True, "opinion": "同意"})
    _expect(decided["outcome"] == "approved", f"decide: {decided['outcome']}")
    _expect(len(decided["licence_identifiers"]) == 1, f"licences: {decided}")


def lifecycle(
    city: City,
    key: str,
    applicant_index: int,
    applicant: Call,
    clerk: Call,
    departments: Callable[[dict[str, int]], None],
) -> None:
    created = applicant(
        "submit",
        "POST",
        f"{API}/bundles/{BUNDLE}/cases",
        submit_payload(city, applicant_index),
        expect=201,
        headers={"Idempotency-Key": key},
    )
    _expect(created["state"] == "submitted" and created["is_joint"], f"submit: {created}")
    parent = f"{API}/cases/{created['id']}"
    detail = applicant("applicant_view", "GET", parent)
    children = {child["department_code"]: child["id"] for child in detail["children"]}
    _expect(sorted(children) == sorted(desk.code for desk in city.desks), f"children {children}")
    checks = {str(desk.item_id): [desk.material] for desk in city.desks}
    accepted = clerk("accept", "POST", f"{parent}/accept", {"item_checks": checks})
    _expect(accepted["state"] == "accepted", f"accept: {accepted['state']}")
    departments(children)
    delivered = clerk("deliver", "POST", f"{parent}/deliver", {"method": "online"})
    _expect(delivered["state"] == "delivered", f"deliver: {delivered['state']}")
    _expect(delivered["outcome"] == "approved", f"parent outcome: {delivered['outcome']}")


# ----------------------------------------------------------------------------- HTTP load


@dataclass
class LoadResult:
    config: ServerConfig
    completed: int
    failed: int
    elapsed_s: float
    recorder: Recorder
    waits: dict[str, Any]
    cpu: dict[str, float]
    errors: list[str] = field(default_factory=list)
    floor_rps: float = 0.0

    @property
    def cases_per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0


class Driver:
    """One applicant's stream of applications, with the clerk and the three departments
    (a thread each, their own keep-alive connections) working on them."""

    def __init__(self, city: City, index: int, port: int, recorder: Recorder) -> None:
        self.city = city
        self.index = index
        self.applicant = ApiClient(port, city.applicant_tokens[index], recorder)
        self.clerk = ApiClient(port, city.clerk_token, recorder)
        self.desks = [
            (
                desk,
                ApiClient(port, desk.officer_token, recorder),
                ApiClient(port, desk.leader_token, recorder),
            )
            for desk in city.desks
        ]
        self.pool = ThreadPoolExecutor(len(city.desks), thread_name_prefix=f"desk{index}")

    def departments(self, children: dict[str, int]) -> None:
        futures = [
            self.pool.submit(child_work, desk, officer.call, leader.call, children[desk.code])
            for desk, officer, leader in self.desks
        ]
        for future in futures:
            future.result()

    def one(self, key: str) -> None:
        lifecycle(
            self.city, key, self.index, self.applicant.call, self.clerk.call, self.departments
        )

    def close(self) -> None:
        self.pool.shutdown()
        for client in [self.applicant, self.clerk]:
            client.close()
        for _desk, officer, leader in self.desks:
            officer.close()
            leader.close()


def drive(
    city: City,
    port: int,
    run: str,
    *,
    clients: int,
    cases: int,
    seconds: float,
    recorder: Recorder,
) -> tuple[int, int, float, list[str]]:
    """Run up to ``cases`` lifecycles (or until ``seconds`` passed) with ``clients``
    drivers; returns completed, failed, elapsed seconds and the first errors."""
    counter = iter(range(cases))
    lock = threading.Lock()
    done = {"completed": 0, "failed": 0}
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def next_number() -> int | None:
        with lock:
            if time.monotonic() > deadline or done["failed"] >= MAX_FAILURES:
                return None
            return next(counter, None)

    def work(index: int) -> None:
        driver = Driver(city, index, port, recorder)
        try:
            while (number := next_number()) is not None:
                try:
                    driver.one(f"bench-{run}-{number:06d}")
                except (RequestFailed, Check, OSError, KeyError, ValueError) as error:
                    with lock:
                        done["failed"] += 1
                        if len(errors) < 10:
                            errors.append(f"{type(error).__name__}: {error}"[:400])
                else:
                    with lock:
                        done["completed"] += 1
        finally:
            driver.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done["completed"], done["failed"], time.perf_counter() - started, errors


def server_env(url: str, var_dir: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TONGBAN_", "DJANGO_", "DATABASE_URL"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tongban.settings",
            "TONGBAN_ENV": "production",
            "TONGBAN_DEBUG": "false",
            "TONGBAN_SECRET_KEY": os.environ["TONGBAN_SECRET_KEY"],
            "TONGBAN_PII_KEY": os.environ["TONGBAN_PII_KEY"],
            "TONGBAN_PII_HMAC_KEY": os.environ["TONGBAN_PII_HMAC_KEY"],
            "TONGBAN_ALLOWED_HOSTS": "127.0.0.1",
            "TONGBAN_LOG_LEVEL": "WARNING",
            "TONGBAN_VAR_DIR": var_dir,
            "DATABASE_URL": url,
        }
    )
    return env


def load(city: City, url: str, config: ServerConfig, var_dir: str, run: str) -> LoadResult:
    log = Path(var_dir) / f"gunicorn-{run}.log"
    with Server(config, server_env(url, var_dir), log) as server:
        warm = Recorder()
        completed, failed, _s, errors = drive(
            city,
            server.port,
            f"{run}w",
            clients=config.clients,
            cases=WARMUP_CASES * config.clients,
            seconds=60,
            recorder=warm,
        )
        if failed:
            raise RuntimeError(f"warm-up failed ({config.label}): {errors[:3]}")
        recorder = Recorder()
        sampler = WaitSampler(url, urlsplit(url).path.lstrip("/"))
        assert server.process is not None
        meter = CpuMeter(server.process.pid, sampler)
        sampler.start()
        meter.start()
        try:
            completed, failed, elapsed, errors = drive(
                city,
                server.port,
                run,
                clients=config.clients,
                cases=CASES,
                seconds=SECONDS,
                recorder=recorder,
            )
        finally:
            cpu = meter.stop()
            waits = sampler.stop()
        if failed:
            errors.append("server log: " + server.log_tail(1500))
        floor = floor_rate(city, server.port, config.clients)
    result = LoadResult(config, completed, failed, elapsed, recorder, waits, cpu, errors)
    result.floor_rps = floor
    return result


def floor_rate(city: City, port: int, clients: int, seconds: float = FLOOR_SECONDS) -> float:
    """Requests per second of the lightest authenticated API request (``GET
    /api/platform/me``: middleware, token auth, one small response) on the same server
    with the same clients: the floor under any request of the lifecycle."""
    recorder = Recorder()
    deadline = time.monotonic() + seconds

    def work(index: int) -> None:
        client = ApiClient(port, city.applicant_tokens[index], recorder)
        try:
            while time.monotonic() < deadline:
                client.call("me", "GET", "/api/platform/me")
        finally:
            client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(recorder.all()) / (time.perf_counter() - started)


def cpu_per_case(result: LoadResult) -> dict[str, float]:
    """CPU milliseconds per completed case by who spent them, and the machine's busy share
    (2 cores shared with other work: ``other`` is everything else on the machine)."""
    cases = max(result.completed, 1)
    table = {
        key: round(result.cpu[key] * 1000 / cases, 1)
        for key in ("server", "postgres", "client", "other")
    }
    table["machine_busy_share"] = round(result.cpu["machine_busy_share"], 2)
    return table


def delivered_count(prefix: str) -> int:
    from tongban.apps.approvals.models import Case

    return Case.objects.filter(
        is_joint=True, state="delivered", idempotency_key__startswith=prefix
    ).count()


# ----------------------------------------------------------------------------- pgbench


def pgbench_tps(url: str, clients: int) -> float:
    """TPC-B-like transactions per second on a scratch database (dropped afterwards)."""
    scratch = _other_database(url, urlsplit(url).path.lstrip("/") + "_pgbench")
    parts = urlsplit(scratch)
    ensure_database(scratch)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", parts.username]
    name = parts.path.lstrip("/")
    env = {**os.environ, **({"PGPASSWORD": parts.password} if parts.password else {})}
    try:
        subprocess.run(  # noqa: S603
            ["pgbench", *args, "-i", "-q", "-s", str(PGBENCH_SCALE), name],  # noqa: S607
            check=True,
            capture_output=True,
            env=env,
        )
        done = subprocess.run(  # noqa: S603
            # TPC-B-like (the default script), all clients over 2 threads
            ["pgbench", *args, "-c", str(clients), "-j", "2", "-T", str(PGBENCH_SECONDS), name],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    finally:
        drop_database(scratch)
    for line in done.stdout.splitlines():
        if line.startswith("tps ="):
            return float(line.split("=")[1].split()[0])
    raise RuntimeError(f"pgbench printed no tps: {done.stdout[-500:]}")


# ----------------------------------------------------------------------------- the profile


class InProcess:
    """``Call`` over Django's test client with a bearer token (same code path as HTTP)."""

    def __init__(self, token: str, hook: Callable[[str, float], None]) -> None:
        from django.test import Client

        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        self.hook = hook

    def call(
        self,
        kind: str,
        method: str,
        path: str,
        payload: Any = None,
        *,
        expect: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Any:
        started = time.perf_counter()
        if method == "GET":
            response = self.client.get(path, headers=headers)
        else:
            response = self.client.post(
                path, payload or {}, content_type="application/json", headers=headers
            )
        self.hook(kind, started)
        if response.status_code != expect:
            raise RequestFailed(kind, response.status_code, response.content)
        return response.json()


@dataclass
class KindStats:
    count: int = 0
    queries: int = 0
    ms: float = 0.0
    sql_ms: float = 0.0
    audit_lock_ms: float = 0.0
    audit_lock_sql_ms: float = 0.0
    counter_lock_ms: float = 0.0
    serial_lock_ms: float = 0.0


# rows every request of their kind queues on until the holder commits: the audit chain's
# head (all writes), the case-number counter (submissions of one area and day) and the
# licence serial counter (decisions of one licence type at one department)
HELD_LOCKS = {
    "audit_lock_ms": '"audit_audithead"',
    "counter_lock_ms": '"approvals_casecounter"',
    "serial_lock_ms": '"licences_serialcounter"',
}


def _locks_row(sql: str, table: str) -> bool:
    text = sql.lstrip().upper()
    return table in sql and (text.startswith("UPDATE") or text.rstrip().endswith("FOR UPDATE"))


@contextmanager
def query_clock() -> Iterator[list[tuple[float, str, float]]]:
    """(start time, SQL, seconds) of every query on the default connection."""
    from django.db import connection

    seen: list[tuple[float, str, float]] = []

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((started, sql, time.perf_counter() - started))

    with connection.execute_wrapper(wrapper):
        yield seen


SQL_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"(\w+)"', re.IGNORECASE)


def query_shape(sql: str) -> str:
    """``SELECT approvals_case`` (``... FOR UPDATE`` marked), ``SAVEPOINT`` ..."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    found = SQL_TABLE.search(sql)
    table = found.group(1) if found else ""
    lock = " FOR UPDATE" if sql.rstrip().upper().endswith("FOR UPDATE") else ""
    return f"{verb} {table}{lock}".strip()


def profile(city: City) -> tuple[str, dict[str, dict[str, float]]]:
    """Lifecycles in-process, one at a time: per request kind the SQL queries, the time
    and the time the audit chain's head row stays locked (first ``audit_audithead`` lock
    to the end of the request, i.e. the commit); then cProfile over more lifecycles."""
    stats: dict[str, KindStats] = defaultdict(KindStats)

    def run(count: int, run_name: str, hook: Callable[[str, float], None]) -> None:
        applicant = InProcess(city.applicant_tokens[0], hook)
        clerk = InProcess(city.clerk_token, hook)
        desks = [
            (desk, InProcess(desk.officer_token, hook), InProcess(desk.leader_token, hook))
            for desk in city.desks
        ]

        def departments(children: dict[str, int]) -> None:
            for desk, officer, leader in desks:
                child_work(desk, officer.call, leader.call, children[desk.code])

        for number in range(count):
            lifecycle(
                city,
                f"bench-{run_name}-{number:06d}",
                0,
                applicant.call,
                clerk.call,
                departments,
            )

    shapes: Counter[str] = Counter()
    with query_clock() as seen:
        mark = {"index": 0}

        def measure(kind: str, started: float) -> None:
            ended = time.perf_counter()
            queries = seen[mark["index"] :]
            mark["index"] = len(seen)
            entry = stats[kind]
            entry.count += 1
            entry.queries += len(queries)
            entry.sql_ms += sum(took for _moment, _sql, took in queries) * 1000
            shapes.update(query_shape(sql) for _moment, sql, _took in queries)
            entry.ms += (ended - started) * 1000
            for column, table in HELD_LOCKS.items():
                locked = [moment for moment, sql, _took in queries if _locks_row(sql, table)]
                if not locked:
                    continue
                setattr(entry, column, getattr(entry, column) + (ended - locked[0]) * 1000)
                if column == "audit_lock_ms":
                    entry.audit_lock_sql_ms += (
                        sum(took for moment, _sql, took in queries if moment >= locked[0]) * 1000
                    )

        run(2, "pw", lambda kind, started: None)  # warm caches
        mark["index"] = len(seen)
        run(PROFILE_CASES // 2, "pq", measure)
    profiler = cProfile.Profile()
    profiler.enable()
    started = time.perf_counter()
    run(PROFILE_CASES, "pp", lambda kind, began: None)
    profiled_s = time.perf_counter() - started
    profiler.disable()

    measured = PROFILE_CASES // 2
    columns = ["queries", "ms", "sql_ms", "audit_lock_ms", "audit_lock_sql_ms"]
    columns += ["counter_lock_ms", "serial_lock_ms"]
    table: dict[str, dict[str, float]] = {
        kind: {
            "count": entry.count,
            **{column: round(getattr(entry, column) / entry.count, 1) for column in columns},
        }
        for kind, entry in stats.items()
    }
    per_case = {
        column: sum(getattr(entry, column) for entry in stats.values()) / measured
        for column in columns
    }
    text = io.StringIO()
    text.write(f"In-process profile: {measured} lifecycles measured, one at a time\n")
    heads = [
        "n",
        "queries",
        "ms",
        "SQL ms",
        "audit lock",
        "of it SQL",
        "number lock",
        "serial lock",
    ]
    text.write(f"{'kind':<16}" + "".join(f"{head:>12}" for head in heads) + "\n")
    for kind, row in table.items():
        cells = [row["count"], *(row[column] for column in columns)]
        text.write(f"{kind:<16}" + "".join(f"{cell:>12}" for cell in cells) + "\n")
    text.write(
        f"{'per lifecycle':<28}" + "".join(f"{per_case[column]:>12.0f}" for column in columns)
    )
    text.write(
        "\n\nms: the request's wall time (no concurrency); SQL ms: time in the database"
        " driver;\naudit lock: ms from the first SELECT ... FOR UPDATE of audit_audithead to"
        " the end of the\nrequest (its commit): every write of the platform queues on that row"
        " meanwhile, so\n1000 / audit lock per lifecycle bounds completed cases per second"
        " whatever the number\nof cores; of it SQL: the part spent in SQL; number lock: the"
        " same for the case-number\ncounter row (approvals_casecounter, one per area and day:"
        " bounds submissions per\nsecond); serial lock: the licence serial counter (one per"
        " licence type and department:\nbounds decisions per second of one department).\n"
    )
    text.write("\nSQL statements per lifecycle by kind and table (top 25):\n")
    for shape, count in shapes.most_common(25):
        text.write(f"  {count / measured:>7.1f}  {shape}\n")
    loaded = pstats.Stats(profiler, stream=text)
    text.write(
        f"\ncProfile: {PROFILE_CASES} lifecycles in {profiled_s:.1f} s "
        f"({profiled_s / PROFILE_CASES * 1000:.0f} ms each under the profiler)\n"
    )
    text.write(hotspots(loaded, profiled_s))
    text.write("\nTop 25 by cumulative time:\n")
    loaded.sort_stats("cumulative").print_stats(25)
    text.write("\nTop 25 of the application's own code (tongban/) by cumulative time:\n")
    loaded.sort_stats("cumulative").print_stats(r"/tongban/", 25)
    text.write("\nTop 25 by own time:\n")
    loaded.sort_stats("tottime").print_stats(25)
    table["per_lifecycle"] = {key: round(value, 1) for key, value in per_case.items()}
    table["per_lifecycle"]["audit_lock_bound_cases_per_s"] = (
        round(1000 / per_case["audit_lock_ms"], 2) if per_case["audit_lock_ms"] else 0.0
    )
    return text.getvalue(), table


HOTSPOTS = [
    ("request handling (ninja view)", "ninja/operation.py", "run"),
    ("token auth (SM3 + last_used UPDATE)", "accounts/services.py", "token_authenticate"),
    ("access_case_by_id", "approvals/access.py", "access_case_by_id"),
    ("case_detail selector", "approvals/selectors.py", "case_detail"),
    ("case clock (case_clock)", "approvals/clock.py", "case_clock"),
    ("_record (timeline+audit+event+message)", "approvals/services.py", "_record"),
    ("audit_record", "audit/services.py", "audit_record"),
    ("event_publish", "events/services.py", "event_publish"),
    ("notify_send", "notify/services.py", "notify_send"),
    ("workflow instance_start", "workflow/services.py", "instance_start"),
    ("workflow task_complete", "workflow/services.py", "task_complete"),
    ("workflow task_claim", "workflow/services.py", "task_claim"),
    ("engine workflow_load (restore)", "workflow/engine.py", "workflow_load"),
    ("engine workflow_dump (serialize)", "workflow/engine.py", "workflow_dump"),
    ("engine run_engine", "workflow/engine.py", "run_engine"),
    ("definition_default", "workflow/services.py", "definition_default"),
    ("licence_issue", "licences/services.py", "licence_issue"),
    ("SM2 sign (signing.sign_with)", "licences/signing.py", "sign_with"),
    ("issuer_key_for", "licences/signing.py", "issuer_key_for"),
    ("PDF render_notice", "pdf/", "render_notice"),
    ("SQL execute (all)", "django/db/backends/utils.py", "_execute"),
    ("psycopg execute", "psycopg/cursor.py", "execute"),
    ("pydantic/ninja response validation", "ninja/operation.py", "_result_to_response"),
]


def hotspots(loaded: pstats.Stats, total_s: float) -> str:
    """Cumulative seconds of named functions (summed over matching entries)."""
    entries = loaded.stats  # type: ignore[attr-defined]
    lines = ["\nNamed hotspots (cumulative, share of the profiled time):\n"]
    for label, path_part, function in HOTSPOTS:
        cumulative, calls = 0.0, 0
        for (filename, _line, name), (_cc, ncalls, _tt, ct, _callers) in entries.items():
            if name == function and path_part in filename:
                cumulative += ct
                calls += ncalls
        if calls:
            share = cumulative / total_s * 100
            lines.append(f"  {label:<42}{cumulative:>8.2f} s {share:>5.1f}%  {calls:>6} calls\n")
        else:
            lines.append(f"  {label:<42}{'—':>8}\n")
    return "".join(lines)


# ----------------------------------------------------------------------------- run


def run() -> dict[str, Any]:
    url = os.environ.get("TONGBAN_BENCH_DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit("approvals_lifecycle needs PostgreSQL (TONGBAN_BENCH_DATABASE_URL)")
    os.environ["TONGBAN_BENCH_DATABASE_URL"] = url
    # the bench process and the production server must share the personal-data keys
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("TONGBAN_PII_KEY", secrets.token_hex(16))
    os.environ.setdefault("TONGBAN_PII_HMAC_KEY", secrets.token_urlsafe(32))
    var_dir = tempfile.mkdtemp(prefix="tongban-bench-lifecycle-")
    Path(var_dir, "static").mkdir()  # STATIC_ROOT: WhiteNoise warns when it is missing
    os.environ["TONGBAN_VAR_DIR"] = var_dir
    try:
        return _run(url, var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _run(url: str, var_dir: str) -> dict[str, Any]:
    started = time.perf_counter()
    ensure_database(url)
    setup_django(NAME)
    city = build_city()
    setup_s = time.perf_counter() - started
    load_at_start = machine()["load_average"]
    print(f"city ready in {setup_s:.1f} s; load average {load_at_start}", flush=True)

    results = []
    for number, config in enumerate(SERVERS):
        print(f"gunicorn {config.label} ...", flush=True)
        result = load(city, url, config, var_dir, f"s{number}")
        delivered = delivered_count(f"bench-s{number}-")
        assert delivered >= result.completed, (delivered, result.completed)
        results.append(result)
        ordered = result.recorder.all()
        print(
            f"  {result.completed} cases in {result.elapsed_s:.1f} s = "
            f"{result.cases_per_s:.2f}/s, p50 {percentile(ordered, 0.5):.0f} ms, "
            f"p99 {percentile(ordered, 0.99):.0f} ms, failed {result.failed}; "
            f"GET /api/platform/me {result.floor_rps:.0f}/s",
            flush=True,
        )
        print(f"  CPU ms per case: {cpu_per_case(result)}", flush=True)
        for error in result.errors[:3]:
            print(f"  ! {error}")
    best = max(results, key=lambda result: result.cases_per_s)
    ordered = best.recorder.all()

    print("pgbench ...", flush=True)
    tps = pgbench_tps(url, best.config.clients)
    print("profile ...", flush=True)
    try:
        report, kinds = profile(city)
    except Exception as error:  # noqa: BLE001 - keep the HTTP figures, fail afterwards
        profile_error: Exception | None = error
        report, kinds = f"In-process profile failed: {type(error).__name__}: {error}\n", {}
    else:
        profile_error = None

    per_kind = best.recorder.summary()
    figures = {
        "cases_per_s": round(best.cases_per_s, 2),
        "p50_ms": round(percentile(ordered, 0.50), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
        "p99_ms": round(percentile(ordered, 0.99), 1),
        "requests_per_s": round(len(ordered) / best.elapsed_s, 1),
        "cases": best.completed,
        "failed": best.failed,
        "clients": best.config.clients,
    }
    details: dict[str, Any] = {
        "load_average_at_start": load_at_start,
        "server": best.config.label,
        "per_kind": per_kind,
        "db_waits": best.waits,
        "cpu_ms_per_case": cpu_per_case(best),
        "servers_tried": {
            result.config.label: {
                "cases_per_s": round(result.cases_per_s, 2),
                "p50_ms": round(percentile(result.recorder.all(), 0.50), 1),
                "p95_ms": round(percentile(result.recorder.all(), 0.95), 1),
                "p99_ms": round(percentile(result.recorder.all(), 0.99), 1),
                "cases": result.completed,
                "failed": result.failed,
                "me_rps": round(result.floor_rps, 1),
                "cpu_ms_per_case": cpu_per_case(result),
                "db_waits": result.waits,
            }
            for result in results
        },
        "profile_per_kind": kinds,
    }
    text = [report, "\nHTTP per request kind (best setting, " + best.config.label + "):\n"]
    text.append(f"{'kind':<16}{'n':>6}{'p50':>8}{'p95':>8}{'p99':>8}{'mean':>8}\n")
    for kind, row in per_kind.items():
        text.append(
            f"{kind:<16}{row['count']:>6}{row['p50_ms']:>8}{row['p95_ms']:>8}"
            f"{row['p99_ms']:>8}{row['mean_ms']:>8}\n"
        )
    text.append(f"\nPostgreSQL backends during the load: {best.waits}\n")
    text.append(f"CPU ms per completed case: {cpu_per_case(best)}\n")
    text.append("\nAll settings tried:\n")
    for label, row in details["servers_tried"].items():
        text.append(f"  {label}: {row}\n")
    (RESULTS_DIR / f"{NAME}_profile.txt").write_text("".join(text), encoding="utf-8")
    print("".join(text[1:]))
    written = write_result(
        NAME,
        figures,
        {
            "pgbench_tps": round(tps, 1),
            "me_rps": round(best.floor_rps, 1),
            "setup_s": round(setup_s, 1),
        },
        {"cases_per_s": 100},
        ceilings={"p99_ms": 300},
    )
    # write_result prints numbers only: the tables go beside them in the same file
    written["details"] = details
    path = RESULTS_DIR / f"{NAME}.json"
    path.write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if profile_error is not None:
        raise RuntimeError("the in-process profile failed") from profile_error
    return written
