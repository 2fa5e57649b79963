"""Shared-data gateway calls over HTTP against PostgreSQL, the app under gunicorn in production.

A consumer system (婚姻登记系统 of 示范市民政局) holds a grant on the population resource
(人口基础信息, provider ``basedata.person`` — the real base database, seeded with
``TONGBAN_BENCH_PEOPLE`` people) with five of its seven items, two of them masked. Each
client thread keeps one keep-alive connection and calls
``GET /gateway/v1/resources/1010010001?id_number=…`` with a bearer token from
``POST /gateway/oauth/token`` and an ``X-Purpose`` header, cycling through the people.
Every call is checked against the live grant (never cached), rate-limited in Redis,
served by the provider, filtered and masked, and logged (one ``GatewayCall`` row and its
subject row): the benchmark checks that the log holds exactly one row per call.

Figures: ``calls_per_s`` (authorised calls answered 200 per second) and ``p50_ms``/
``p95_ms``/``p99_ms``, of the best server setting tried; ``overhead_ratio`` =
``bare_calls_per_s`` / ``calls_per_s``. Baseline ``bare_calls_per_s``: ``GET
/gateway/v1/ping`` on the same server with the same clients and token, in the same run —
the same middleware, Ninja dispatch and bearer-token authentication (its lookup is
remembered two seconds in each worker, as for real calls), but no grant, provider or log.
Details: sealing and verifying the calls just logged (``seal_calls_per_s``,
``verify_calls_per_s``), the CPU spent per call by server, PostgreSQL, client.

Environment: ``TONGBAN_BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/tongban_bench_gateway``, created when missing and
emptied), ``TONGBAN_BENCH_CACHE_URL`` (default ``redis://127.0.0.1:6379/9``),
``TONGBAN_BENCH_SECONDS`` (per measured run, default 15), ``TONGBAN_BENCH_SERVERS``
(``<worker class>:<workers>[x<threads>]@<clients>``, default ``sync:4@8,gthread:4x2@8``;
the best is reported), ``TONGBAN_BENCH_PEOPLE`` (default 20000).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bench.approvals_lifecycle import ensure_database, server_env
from bench.common import setup_django, write_result
from bench.loadclient import (
    HOST,
    ApiClient,
    CpuMeter,
    Recorder,
    RequestFailed,
    Server,
    ServerConfig,
    WaitSampler,
    percentile,
)

NAME = "sharing_gateway"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tongban_bench_gateway"
DEFAULT_CACHE = "redis://127.0.0.1:6379/9"
SECONDS = float(os.environ.get("TONGBAN_BENCH_SECONDS", "15"))
WARMUP_SECONDS = 3.0
START_TIMEOUT = 300.0
PEOPLE = int(os.environ.get("TONGBAN_BENCH_PEOPLE", "20000"))
SERVERS = [
    ServerConfig.parse(text, 8)
    for text in os.environ.get("TONGBAN_BENCH_SERVERS", "sync:4@8,gthread:4x2@8").split(",")
    if text.strip()
]
RESOURCE_CODE = "1010010001"
PATH = f"/gateway/v1/resources/{RESOURCE_CODE}"
SECRET = secrets.token_urlsafe(24)
PURPOSE = quote("办理结婚登记")
ITEMS = [
    ("id_number", "公民身份号码", "personal"),
    ("name", "姓名", "personal"),
    ("gender", "性别", "internal"),
    ("birth_date", "出生日期", "internal"),
    ("marital_status", "婚姻状况", "sensitive"),
    ("phone", "联系电话", "personal"),
    ("household_address", "户籍地址", "sensitive"),
]
GRANTED = ["id_number", "name", "gender", "birth_date", "marital_status"]
MASKED = ["id_number", "name"]


def build_city() -> tuple[list[str], str]:
    """Departments, the resource, the consumer system and its grant, the people. Returns
    the people's identity numbers and the system's client id."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from tests import factories
    from tongban.apps.basedata.models import ID_PURPOSE, NaturalPerson
    from tongban.apps.sharing.models import (
        ConsumerSystem,
        Grant,
        InfoItem,
        Resource,
        ResourceVersion,
    )
    from tongban.apps.sharing.providers import provider_get
    from tongban.platform.accounts.idnumbers import make_resident_id
    from tongban.platform.crypto.masking import mask_id_number, mask_name
    from tongban.platform.crypto.sm import lookup_hmac

    if provider_get("basedata.person") is None:
        raise SystemExit("sharing_gateway needs the provider basedata.person (providers_builtin)")
    division = factories.division()
    police = factories.department(division, "GAJ", "示范市公安局")
    civil = factories.department(division, "MZJ", "示范市民政局")
    author = factories.staff("bench_author", factories.unit(police, "GAJ-RK", "人口管理科"))
    resource = Resource.objects.create(
        code=RESOURCE_CODE, resource_class="base", provider=police, service_code="basedata.person"
    )
    version = ResourceVersion.objects.create(
        resource=resource,
        number=1,
        status="published",
        classification="1-01-001",
        name="人口基础信息",
        summary="自然人基础信息",
        format="database",
        share_type="conditional",
        share_conditions="依法履职需要",
        update_cycle="realtime",
        created_by=author,
    )
    InfoItem.objects.bulk_create(
        InfoItem(
            version=version, order=order, code=code, name=name, data_type="string", sensitivity=s
        )
        for order, (code, name, s) in enumerate(ITEMS)
    )
    resource.current = version
    resource.save(update_fields=["current"])
    system = ConsumerSystem.objects.create(
        code="mzj-marriage",
        name="婚姻登记系统",
        department=civil,
        client_id="client-mzj-marriage",
        secret_hash=make_password(SECRET),
        secret_prefix=SECRET[:8],
        secret_set_at=timezone.now(),
    )
    now = timezone.now()
    Grant.objects.create(
        resource=resource,
        consumer_system=system,
        consumer_department=civil,
        items=GRANTED,
        masked_items=MASKED,
        rate_limit_per_minute=10_000_000,
        valid_from=now - dt.timedelta(days=1),
        expires_at=now + dt.timedelta(days=365),
        created_by=author,
    )
    numbers, people = [], []
    surnames = "王李张刘陈杨黄赵吴周"
    for index in range(PEOPLE):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=index // 500)
        number = make_resident_id("990102", birth, index % 500)
        name = surnames[index % 10] + "小" + "明红刚丽"[index % 4]
        numbers.append(number)
        people.append(
            NaturalPerson(
                id_number=number,
                id_number_hmac=lookup_hmac(number, purpose=ID_PURPOSE),
                id_prefix_hmac=lookup_hmac(number[:17], purpose="basedata.id_prefix"),
                id_number_masked=mask_id_number(number),
                name=name,
                name_masked=mask_name(name),
                gender="男" if index % 2 else "女",
                birth_date=birth,
                household_number=f"H{index // 3:08d}",
                household_address="示范市示范区幸福路1号",
                marital_status="未婚",
                phone=f"139{index:08d}",
            )
        )
    NaturalPerson.objects.bulk_create(people, batch_size=2000)
    return numbers, system.client_id


def fetch_token(port: int, client_id: str) -> str:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    credentials = base64.b64encode(f"{client_id}:{SECRET}".encode()).decode()
    connection.request(
        "POST",
        "/gateway/oauth/token",
        body="grant_type=client_credentials",
        headers={
            "Authorization": f"Basic {credentials}",
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-Proto": "https",
        },
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"token: HTTP {response.status} {body[:300]!r}")
    return str(json.loads(body)["access_token"])


def drive(
    port: int,
    token: str,
    numbers: list[str],
    *,
    clients: int,
    seconds: float,
    bare: bool,
    recorder: Recorder,
) -> tuple[int, float, list[str]]:
    """Calls (or pings) for ``seconds`` from ``clients`` threads; returns the calls
    answered 200, the elapsed seconds and the first errors."""
    deadline = time.monotonic() + seconds
    errors: list[str] = []
    done = [0] * clients
    headers = {"X-Purpose": PURPOSE, "X-Case-Number": "MZ2026000001"}

    def work(index: int) -> None:
        client = ApiClient(port, token, recorder)
        position = index * 997
        try:
            while time.monotonic() < deadline:
                try:
                    if bare:
                        client.call("ping", "GET", "/gateway/v1/ping")
                    else:
                        number = numbers[position % len(numbers)]
                        position += 1
                        answer = client.call(
                            "call", "GET", f"{PATH}?id_number={number}", headers=headers
                        )
                        if len(answer["records"]) != 1 or "phone" in answer["records"][0]:
                            raise RequestFailed("call", 200, json.dumps(answer).encode())
                    done[index] += 1
                except (RequestFailed, OSError) as error:
                    if len(errors) < 10:
                        errors.append(str(error)[:300])
                    if len(errors) >= 10:
                        return
        finally:
            client.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), time.perf_counter() - started, errors


def load(
    url: str, config: ServerConfig, var_dir: str, numbers: list[str], client_id: str
) -> dict[str, Any]:
    env = server_env(url, var_dir)
    env["TONGBAN_CACHE_URL"] = os.environ.get("TONGBAN_BENCH_CACHE_URL", DEFAULT_CACHE)
    log = Path(var_dir) / f"gunicorn-{config.worker_class}-{config.workers}.log"
    server = Server(config, env, log)
    server.start(timeout=START_TIMEOUT)  # a busy machine takes a while to import Django
    try:
        token = fetch_token(server.port, client_id)
        warm = Recorder()
        drive(server.port, token, numbers, clients=config.clients, seconds=WARMUP_SECONDS,
              bare=False, recorder=warm)  # fmt: skip
        drive(server.port, token, numbers, clients=config.clients, seconds=1.0, bare=True,
              recorder=warm)  # fmt: skip
        recorder = Recorder()
        sampler = WaitSampler(url, urlsplit(url).path.lstrip("/"))
        assert server.process is not None
        meter = CpuMeter(server.process.pid, sampler)
        sampler.start()
        meter.start()
        try:
            calls, elapsed, errors = drive(
                server.port, token, numbers, clients=config.clients, seconds=SECONDS,
                bare=False, recorder=recorder,
            )  # fmt: skip
        finally:
            cpu = meter.stop()
            waits = sampler.stop()
        bare_recorder = Recorder()
        pings, bare_elapsed, bare_errors = drive(
            server.port, token, numbers, clients=config.clients, seconds=SECONDS, bare=True,
            recorder=bare_recorder,
        )  # fmt: skip
        if errors or bare_errors:
            errors.append("server log: " + server.log_tail(1500))
    finally:
        server.stop()
    ordered = sorted(recorder.samples.get("call", []))
    bare_ordered = sorted(bare_recorder.samples.get("ping", []))
    per_call = max(calls, 1)
    return {
        "server": config.label,
        "calls": calls,
        "calls_per_s": calls / elapsed,
        "p50_ms": percentile(ordered, 0.50),
        "p95_ms": percentile(ordered, 0.95),
        "p99_ms": percentile(ordered, 0.99),
        "bare_calls_per_s": pings / bare_elapsed,
        "bare_p99_ms": percentile(bare_ordered, 0.99),
        "statuses": dict(recorder.statuses),
        "data_calls_sent": len(warm.samples.get("call", [])) + len(ordered),
        "errors": errors + bare_errors,
        "cpu_ms_per_call": {
            key: round(cpu[key] * 1000 / per_call, 3)
            for key in ("server", "postgres", "client", "other")
        },
        "machine_busy_share": round(cpu["machine_busy_share"], 2),
        "waits": waits,
    }


def seal_and_verify() -> dict[str, float]:
    from django.db import connection

    from tongban.apps.sharing import gateway_log
    from tongban.apps.sharing.models import GatewayCall

    GatewayCall.objects.update(at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))  # settled
    # ``at`` is part of each digest: rewrite them as the log would have (bench only)
    with connection.cursor():
        for call in GatewayCall.objects.all().iterator(chunk_size=2000):
            GatewayCall.objects.filter(pk=call.pk).update(digest=gateway_log.call_digest(call))
    total = GatewayCall.objects.count()
    started = time.perf_counter()
    sealed = gateway_log.seal(max_batches=10_000)
    seal_s = time.perf_counter() - started
    started = time.perf_counter()
    report = gateway_log.log_verify()
    verify_s = time.perf_counter() - started
    if not report.ok or sealed != total:
        raise RuntimeError(f"log verify: {report.problem} (sealed {sealed} of {total})")
    return {
        "sealed_calls": float(sealed),
        "seal_calls_per_s": sealed / seal_s if seal_s else 0.0,
        "verify_calls_per_s": report.calls / verify_s if verify_s else 0.0,
    }


def run() -> dict[str, Any]:
    os.environ.setdefault("TONGBAN_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("TONGBAN_PII_KEY", secrets.token_hex(16))
    os.environ.setdefault("TONGBAN_PII_HMAC_KEY", secrets.token_urlsafe(32))
    url = os.environ.setdefault("TONGBAN_BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_database(url)
    setup_django(NAME)
    from django.db import connection

    from tongban.apps.sharing.models import GatewayCall, GatewayCallSubject

    started = time.perf_counter()
    numbers, client_id = build_city()
    setup_s = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    print(f"city ready: {len(numbers):,} people, {setup_s:.1f}s", flush=True)

    var_dir = tempfile.mkdtemp(prefix="tongban-bench-gateway-")
    runs = []
    try:
        for config in SERVERS:
            before = GatewayCall.objects.count()
            result = load(url, config, var_dir, numbers, client_id)
            logged = GatewayCall.objects.count() - before
            result["logged"] = logged
            if logged != result["data_calls_sent"]:
                raise RuntimeError(
                    f"{result['data_calls_sent']} calls answered but {logged} logged"
                )
            runs.append(result)
            print(
                f"{config.label}: {result['calls_per_s']:,.0f} calls/s, "
                f"p99 {result['p99_ms']:.1f} ms; bare {result['bare_calls_per_s']:,.0f}/s; "
                f"logged {logged:,}",
                flush=True,
            )
            if result["errors"]:
                print("errors: " + " | ".join(result["errors"][:3]), flush=True)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    best = max(runs, key=lambda run: run["calls_per_s"])
    total_calls = sum(sum(run["statuses"].values()) for run in runs)
    logged_total = GatewayCall.objects.count()
    log_figures = seal_and_verify()
    figures = {
        "calls_per_s": round(best["calls_per_s"], 1),
        "p50_ms": round(best["p50_ms"], 1),
        "p95_ms": round(best["p95_ms"], 1),
        "p99_ms": round(best["p99_ms"], 1),
        "overhead_ratio": round(best["bare_calls_per_s"] / best["calls_per_s"], 2)
        if best["calls_per_s"]
        else 0.0,
    }
    result = write_result(
        NAME,
        figures,
        baseline={
            "bare_calls_per_s": round(best["bare_calls_per_s"], 1),
            "bare_p99_ms": round(best["bare_p99_ms"], 1),
            "setup_s": round(setup_s, 1),
        },
        targets={"calls_per_s": 1000},
        ceilings={"p99_ms": 50},
    )
    result["details"] = {
        "server": best["server"],
        "runs": runs,
        "people": len(numbers),
        "http_calls_measured_and_warmup": total_calls,
        "log_rows": logged_total,
        "subject_rows": GatewayCallSubject.objects.count(),
        **log_figures,
    }
    path = Path(__file__).resolve().parent / "results" / f"{NAME}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in result["details"].items() if k != "runs"}))
    return result
