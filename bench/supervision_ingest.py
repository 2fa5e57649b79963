"""Supervision intake: millions of events through ``events_ingest`` into PostgreSQL.

The stream is what a city's systems send: cases open in waves of ``WAVE`` cases, and each
case goes through eight events (opened, accepted, two steps started and finished,
decided, closed) spread over working days, so every batch of 10,000 events carries one
event of each of 10,000 different cases at different points of their lives — the worst case
for the projection (no two events of a batch share a case). About 6% of the cases are
decided late (yellow cards, some legal breaches), 3% overrun a step, a few are refused
without reasons, so the rules really fire.

The intake runs in ``TONGBAN_BENCH_WORKERS`` processes at once (default 2, this machine's
cores), each taking its share of the cases, as stateless app servers would.

Figures:
- ``events_per_s``: events ingested per second over the whole run (validation, the log,
  the projection upsert, the rules, alerts with their correction items and notifications),
  all workers together: the events over the slowest worker's time inside the service.
- ``event_cost_1m_us`` / ``event_cost_10m_us``: the cost of one new event when 1M (and
  10M) events are already stored: the best of 7 small batches of 100 events (opened and
  accepted for 50 new cases), in microseconds per event, fixed costs of a batch included.
  Constant cost means equal.
- ``evaluation_s``: a quarterly evaluation of every department over everything ingested.
- ``http_events_per_s``: a few batches posted over HTTP to the intake API (Django's test
  client: JSON parsing and the key check on top of the service).
Baseline, same run: ``bulk_insert_rows_per_s``, a plain multi-row INSERT of the same
number of event rows into the event log table with no projection and no rules (the floor
of any intake that stores what it receives).

Environment: ``TONGBAN_BENCH_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/tongban_bench_supervision``, created when missing and
emptied), ``TONGBAN_BENCH_EVENTS`` (default 10,000,000; the 1M figure is taken on the way),
``TONGBAN_BENCH_DEPARTMENTS`` (default 40), ``TONGBAN_BENCH_WORKERS`` (default 2),
``TONGBAN_BENCH_CHECKPOINT`` (where the first cost figure is taken, default 1,000,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import setup_django, write_result

BATCH = 10_000
WAVE = 1_250  # cases opened per wave; 8 events per case → one batch per wave
EVENTS_PER_CASE = 8
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/tongban_bench_supervision"


def _ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    name = url.rsplit("/", 1)[-1]
    server = url.rsplit("/", 1)[0] + "/postgres"
    exists = subprocess.run(  # noqa: S603
        ["psql", server, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["psql", server, "-c", f'CREATE DATABASE "{name}"'], check=True)  # noqa: S603,S607


def _city(departments: int) -> list[str]:
    from tongban.platform.orgs.models import Department, Division

    division = Division.objects.create(
        code="990100000000", name="示范市", level=2, path="/990100000000/"
    )
    codes = []
    for number in range(departments):
        code = f"D{number:03d}"
        Department.objects.create(
            division=division,
            code=code,
            uscc=f"11990100{number:09d}X"[:18],
            name=f"示范市第{number + 1}局",
            path=f"/{code}/",
            division_path=division.path,
        )
        codes.append(code)
    return codes


class Stream:
    """The city's events in time order: ``WAVE`` cases open every day; each case's eight
    events are scheduled into the days they happen on, and the days are emitted in order
    and cut into batches of 10,000 (about one day of events each)."""

    def __init__(self, departments: list[str], *, start: dt.datetime, prefix: str = "C") -> None:
        self.prefix = prefix
        self.departments = departments
        self.start = start
        self.day = 0
        self.number = 0
        self.pending: dict[int, list[tuple[dt.datetime, dict[str, Any]]]] = {}
        self.buffer: list[dict[str, Any]] = []

    def _open_cases(self, day: int) -> None:
        opened_day = self.start + dt.timedelta(days=day)
        for index in range(WAVE):
            number = self.number
            self.number += 1
            key = f"{self.prefix}{number:09d}"
            opened = opened_day + dt.timedelta(seconds=index * 20)
            late = number % 17 == 0  # ~6% decided after the promise
            very_late = number % 97 == 0  # ~1% after the legal limit too
            slow_step = number % 33 == 0
            refused = number % 211 == 0
            decide_after = 25 if very_late else (13 if late else 4 + number % 6)
            # working days → calendar days, roughly
            decided = opened + dt.timedelta(days=decide_after * 7 / 5)
            first_step_end = opened + dt.timedelta(days=2 + (6 if slow_step else 1) * 7 / 5)
            second_start = first_step_end + dt.timedelta(hours=1)
            department = self.departments[number % len(self.departments)]
            handler = f"officer{number % 400:03d}"

            def add(step: int, when: dt.datetime, kind: str, key: str = key, **fields: Any) -> None:
                event = {
                    "id": f"{key}:{step}",
                    "kind": kind,
                    "case": key,
                    "occurred_at": when.isoformat(),
                    **fields,
                }
                offset = (when - self.start).days
                self.pending.setdefault(offset, []).append((when, event))

            add(
                0,
                opened,
                "opened",
                department=department,
                item_code=f"ITEM-{number % 500:03d}",
                item_name="某某许可",
                case_type="promised",
                legal_limit_days=20,
                promised_limit_days=10,
            )
            add(1, opened + dt.timedelta(minutes=30), "accepted", handler=handler)
            add(
                2,
                opened + dt.timedelta(days=1),
                "step_started",
                step_name="审查",
                step_limit_days=3,
                handler=handler,
            )
            add(3, first_step_end, "step_finished", step_name="审查")
            add(
                4,
                second_start,
                "step_started",
                step_name="决定",
                step_limit_days=2,
                handler=handler,
            )
            add(5, decided - dt.timedelta(hours=2), "step_finished", step_name="决定")
            add(
                6,
                decided,
                "decided",
                outcome="refused" if refused else "approved",
                handler=handler,
                **({} if refused else {"reasons": "符合条件"}),
            )
            add(7, decided + dt.timedelta(hours=3), "closed")

    def batches(self, count: int) -> Iterator[list[dict[str, Any]]]:
        produced = 0
        while produced < count:
            while len(self.buffer) < BATCH:
                self._open_cases(self.day)
                today = sorted(self.pending.pop(self.day, []), key=lambda pair: pair[0])
                self.buffer.extend(event for _, event in today)
                self.day += 1
            batch, self.buffer = self.buffer[:BATCH], self.buffer[BATCH:]
            produced += 1
            yield batch


def _small_batch_cost(source: Any, departments: list[str], tag: str) -> float:
    """µs per event for batches of 100 events (opened + accepted of 50 new cases, with a
    fresh ``now``), best of 7: the cost of one new event at the current history size."""
    from tongban.apps.supervision.services import events_ingest

    best = float("inf")
    now = dt.datetime.now(dt.UTC)
    for attempt in range(7):
        events = []
        for index in range(50):
            key = f"P-{tag}-{attempt}-{index}"
            when = now - dt.timedelta(minutes=5)
            events.append(
                {
                    "id": f"{key}:0",
                    "kind": "opened",
                    "case": key,
                    "occurred_at": when.isoformat(),
                    "department": departments[index % len(departments)],
                    "promised_limit_days": 10,
                    "legal_limit_days": 20,
                }
            )
            events.append(
                {"id": f"{key}:1", "kind": "accepted", "case": key, "occurred_at": when.isoformat()}
            )
        started = time.perf_counter()
        events_ingest(source=source, raw_events=events, now=now)
        best = min(best, (time.perf_counter() - started) / len(events))
    return best * 1e6


def _baseline(source: Any, rows: int) -> float:
    from django.db import connection, transaction

    from tongban.apps.supervision.models import ReceivedEvent

    now = dt.datetime.now(dt.UTC)
    objects = [
        ReceivedEvent(
            source=source,
            source_event_id=f"baseline:{n}",
            kind="opened",
            case_key=f"B{n:09d}",
            occurred_at=now,
            received_at=now,
            payload={"id": f"baseline:{n}", "kind": "opened", "department": "D000"},
        )
        for n in range(rows)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        ReceivedEvent.objects.bulk_create(objects, batch_size=2_000)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM supervision_receivedevent WHERE source_event_id LIKE 'baseline:%%'"
        )
    return rows / elapsed


def _http_rate(source_key: str, stream: Stream, batches: int) -> float:
    from django.test import Client

    client = Client()
    total, elapsed = 0, 0.0
    for events in stream.batches(batches):
        body = json.dumps({"events": events})
        started = time.perf_counter()
        response = client.post(
            "/api/supervision/intake",
            data=body,
            content_type="application/json",
            HTTP_X_SOURCE_KEY=source_key,
        )
        elapsed += time.perf_counter() - started
        assert response.status_code == 200, response.content[:300]
        assert not response.json()["rejected"], response.json()["rejected"][:3]
        total += len(events)
    return total / elapsed


def _evaluation_seconds(period: str) -> tuple[float, int]:
    from tongban.apps.supervision import evaluation

    started = time.perf_counter()
    result = evaluation.bench_entry(period)
    return time.perf_counter() - started, result


def _worker(pipe: Any, index: int, workers: int, departments: list[str], start: Any) -> None:
    """One intake process: ingests its share of the stream (cases with number % workers ==
    index) in batches of 10,000 whenever the parent asks for N more events; answers with the
    events ingested and the seconds spent inside ``events_ingest``."""
    from django.db import connection

    from tongban.apps.supervision.models import Source
    from tongban.apps.supervision.services import events_ingest

    connection.close()  # never share the parent's connection
    source = Source.objects.get(code="bench")
    stream = Stream(departments, start=start)

    def own() -> Iterator[dict[str, Any]]:
        while True:
            for batch in stream.batches(1):
                for event in batch:
                    if int(event["case"][1:]) % workers == index:
                        yield event

    events_iter = own()
    while True:
        wanted = pipe.recv()
        if wanted is None:
            pipe.close()
            return
        done, seconds, alerts = 0, 0.0, 0
        while done < wanted:
            events = [next(events_iter) for _ in range(min(BATCH, wanted - done))]
            # the stream is replayed history: "now" is the newest moment in the batch
            now = dt.datetime.fromisoformat(max(event["occurred_at"] for event in events))
            started = time.perf_counter()
            result = events_ingest(source=source, raw_events=events, now=now)
            seconds += time.perf_counter() - started
            if result.rejected:
                raise AssertionError(result.rejected[:3])
            done += result.accepted
            alerts += result.alerts
        pipe.send((done, seconds, alerts))


def run() -> dict[str, Any]:
    import multiprocessing

    url = os.environ.setdefault("TONGBAN_BENCH_DATABASE_URL", DEFAULT_URL)
    _ensure_database(url)
    setup_django("supervision_ingest")
    from django.conf import settings
    from django.db import connection

    from tongban.apps.supervision import sources
    from tongban.apps.supervision.models import Alert, ReceivedEvent, Source, SupervisedCase

    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.dummy.DummyBackend",
            "QUEUES": ["default", "events", "notify"],
        }
    }
    # the stream is history replayed as if live: notify as a live system would (the
    # correction services stay silent about actions older than a week)
    from tongban.apps.supervision import corrections

    corrections.NOTIFY_WITHIN = dt.timedelta(days=100_000)
    total_events = int(os.environ.get("TONGBAN_BENCH_EVENTS", "10000000"))
    checkpoint_events = min(
        int(os.environ.get("TONGBAN_BENCH_CHECKPOINT", "1000000")), total_events
    )
    workers = int(os.environ.get("TONGBAN_BENCH_WORKERS", "2"))
    departments = _city(int(os.environ.get("TONGBAN_BENCH_DEPARTMENTS", "40")))
    key, digest = sources._new_key("bench")
    source = Source.objects.create(code="bench", name="压测来源", key_hash=digest)
    # 1,250 cases a day: 10M events are about 1,000 days, ending before today
    start = dt.datetime(2024, 1, 2, 1, 0, tzinfo=dt.UTC)

    baseline_rate = _baseline(source, 100_000)
    print(f"baseline bulk insert: {baseline_rate:,.0f} rows/s", flush=True)

    connection.close()
    context = multiprocessing.get_context("fork")
    pipes, processes = [], []
    for index in range(workers):
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker, args=(child, index, workers, departments, start), daemon=True
        )
        process.start()
        pipes.append(parent)
        processes.append(process)

    ingested, wall_seconds, alerts = 0, 0.0, 0

    def phase(events: int) -> None:
        nonlocal ingested, wall_seconds, alerts
        step = 500_000
        while events > 0:
            share = min(step, events) // workers
            for pipe in pipes:
                pipe.send(share)
            answers = [pipe.recv() for pipe in pipes]
            ingested += sum(answer[0] for answer in answers)
            alerts += sum(answer[2] for answer in answers)
            # the workers run at the same time: the slowest one's time is the wall time
            wall_seconds += max(answer[1] for answer in answers)
            events -= share * workers
            print(
                f"{ingested:,} events, {ingested / wall_seconds:,.0f}/s, {alerts:,} alerts",
                flush=True,
            )

    phase(checkpoint_events)
    cost_1m = _small_batch_cost(source, departments, "1m")
    print(f"at {ingested:,} events: {cost_1m:.0f} µs/event", flush=True)
    phase(total_events - ingested)
    for pipe in pipes:
        pipe.send(None)
    for process in processes:
        process.join()
    cost_10m = _small_batch_cost(source, departments, "end")
    print(f"at {ingested:,} events: {cost_10m:.0f} µs/event", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    evaluation_s, departments_scored = _evaluation_seconds("2025-Q2")
    http_rate = _http_rate(
        key, Stream(departments, start=dt.datetime(2026, 10, 1, tzinfo=dt.UTC)), 2
    )

    figures = {
        "events_per_s": ingested / wall_seconds,
        "evaluation_s": evaluation_s,
        "event_cost_1m_us": cost_1m,
        "event_cost_10m_us": cost_10m,
        "http_events_per_s": http_rate,
    }
    result = write_result(
        "supervision_ingest",
        figures,
        baseline={"bulk_insert_rows_per_s": baseline_rate},
        targets={"events_per_s": 20_000},
        ceilings={"evaluation_s": 5.0},
    )
    result["details"] = {
        "events": ingested,
        "workers": workers,
        "cases": SupervisedCase.objects.count(),
        "stored_events": ReceivedEvent.objects.count(),
        "alerts": Alert.objects.count(),
        "departments_scored": departments_scored,
        "batch": BATCH,
    }
    path = Path(__file__).resolve().parent / "results" / "supervision_ingest.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result["details"], ensure_ascii=False))
    return result
