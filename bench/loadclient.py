"""HTTP load helpers for benchmarks: a production server (gunicorn) on a free local port,
a keep-alive JSON client over ``http.client``, latency recording and percentiles, and a
sampler of what PostgreSQL backends are waiting for. Traffic goes to 127.0.0.1 only."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
VENV_BIN = Path(__file__).resolve().parent.parent / ".venv" / "bin"


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the benchmark process dies, so a
    killed benchmark never leaves its server running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 when empty)."""
    if not ordered:
        return 0.0
    rank = max(1, int(-(-fraction * len(ordered) // 1)))  # ceil
    return ordered[min(rank, len(ordered)) - 1]


# ----------------------------------------------------------------------------- the server


@dataclass
class ServerConfig:
    """``worker_class`` ``sync`` (one request per process, no keep-alive) or ``gthread``,
    and the number of concurrent clients to load it with."""

    worker_class: str
    workers: int
    threads: int = 1
    clients: int = 8

    @property
    def label(self) -> str:
        if self.worker_class == "gthread":
            server = f"gthread -w {self.workers} --threads {self.threads}"
        else:
            server = f"{self.worker_class} -w {self.workers}"
        return f"{server}, {self.clients} clients"

    @classmethod
    def parse(cls, text: str, clients: int = 8) -> ServerConfig:
        """``sync:4`` or ``gthread:4x4`` (workers x threads), optionally ``@6`` clients."""
        spec, _, given = text.strip().partition("@")
        kind, _, size = spec.partition(":")
        workers, _, threads = size.partition("x")
        return cls(kind, int(workers or 4), int(threads or 1), int(given or clients))


class Server:
    """gunicorn serving the WSGI app with ``env``; always stop it (``with Server(...)``)."""

    def __init__(self, config: ServerConfig, env: dict[str, str], log_path: Path) -> None:
        self.config = config
        self.env = env
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        command = [
            str(VENV_BIN / "gunicorn"),
            "tongban.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.config.workers),
            "--worker-class",
            self.config.worker_class,
            "--threads",
            str(self.config.threads),
            "--keep-alive",
            "75",
            "--timeout",
            "120",
            "--backlog",
            "512",
            "--log-level",
            "warning",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own venv's gunicorn
            command,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=str(VENV_BIN.parent.parent),
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads run at this point
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited ({self.process.returncode}): {self.log_tail()}"
                )
            try:
                connection = http.client.HTTPConnection(HOST, self.port, timeout=5)
                connection.request("GET", "/healthz", headers={"X-Forwarded-Proto": "https"})
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout:.0f} s: {self.log_tail()}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # graceful: the arbiter stops its workers
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # our own session only
            process.wait(timeout=10)

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return ""


# ----------------------------------------------------------------------------- the client


class RequestFailed(Exception):
    def __init__(self, kind: str, status: int, body: bytes) -> None:
        super().__init__(f"{kind}: HTTP {status} {body[:300].decode('utf-8', 'replace')}")
        self.kind = kind
        self.status = status


@dataclass
class Recorder:
    """Latencies (ms) per request kind, from many threads."""

    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, milliseconds: float, status: int) -> None:
        with self.lock:
            self.samples[kind].append(milliseconds)
            self.statuses[status] += 1

    def all(self) -> list[float]:
        return sorted(value for values in self.samples.values() for value in values)

    def summary(self) -> dict[str, dict[str, float]]:
        table = {}
        for kind, values in self.samples.items():
            ordered = sorted(values)
            table[kind] = {
                "count": len(ordered),
                "p50_ms": round(percentile(ordered, 0.50), 1),
                "p95_ms": round(percentile(ordered, 0.95), 1),
                "p99_ms": round(percentile(ordered, 0.99), 1),
                "mean_ms": round(sum(ordered) / len(ordered), 1),
            }
        return table


class ApiClient:
    """One keep-alive connection with one bearer token. ``http.client`` reopens the
    connection by itself when the server closed it (sync workers close after each
    response)."""

    def __init__(self, port: int, token: str, recorder: Recorder) -> None:
        self.port = port
        self.recorder = recorder
        # Work-around: tongban/api.py lists the session auth before the token auth, and
        # Ninja's session auth checks CSRF on every unsafe request before looking for a
        # session, so a bearer-token POST without a CSRF pair is refused (403 "CSRF check
        # Failed"). A valid pair (cookie = header, same-origin Origin) gets it through to
        # the token auth; harmless once the token auth comes first.
        csrf = secrets.token_hex(16)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-Forwarded-Proto": "https",  # TLS ends at the reverse proxy in production
            "Cookie": f"csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Origin": f"https://{HOST}:{port}",
        }
        self.connection = http.client.HTTPConnection(HOST, port, timeout=120)

    def close(self) -> None:
        self.connection.close()

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
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        sent = {**self.headers, **(headers or {})}
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # a keep-alive connection the server had just closed: nothing was processed
            self.connection.close()
            started = time.perf_counter()
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        self.recorder.add(kind, elapsed, response.status)
        if response.will_close:
            self.connection.close()
        if response.status != expect:
            raise RequestFailed(kind, response.status, data)
        return json.loads(data) if data else None


# ----------------------------------------------------------------------------- CPU


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu() -> dict[int, tuple[str, int, float]]:
    """pid -> (command name, parent pid, CPU seconds) of every process we can read."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found[int(entry.name)] = (name, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return found


def _cpu_seconds(pid: int) -> float | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot, all cores."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


class CpuMeter:
    """CPU seconds spent by the server (gunicorn and its workers), this client process and
    the whole machine between ``start`` and ``stop`` (Linux /proc); the database's
    backends come from a ``WaitSampler`` (shared PostgreSQL processes such as the WAL
    writer count as other)."""

    def __init__(self, server_pid: int, sampler: WaitSampler) -> None:
        self.server_pid = server_pid
        self.sampler = sampler

    def _snapshot(self) -> dict[str, float]:
        processes = _process_cpu()
        server = sum(
            cpu
            for pid, (_name, parent, cpu) in processes.items()
            if pid == self.server_pid or parent == self.server_pid
        )
        postgres = self.sampler.cpu_seconds
        times = os.times()
        busy, total = _machine_busy()
        return {
            "server": server,
            "postgres": postgres,
            "client": times.user + times.system,
            "machine_busy": busy,
            "machine_total": total,
        }

    def start(self) -> None:
        self.before = self._snapshot()

    def stop(self) -> dict[str, float]:
        after = self._snapshot()
        spent = {key: after[key] - self.before[key] for key in after}
        total = spent.pop("machine_total")
        spent["machine_busy_share"] = spent["machine_busy"] / total if total else 0.0
        spent["other"] = max(
            0.0, spent["machine_busy"] - spent["server"] - spent["postgres"] - spent["client"]
        )
        return spent


# ----------------------------------------------------------------------------- PostgreSQL


WAIT_TABLE = re.compile(r'(?:FROM|UPDATE|INTO)\s+"?(\w+)"?', re.IGNORECASE)


class WaitSampler(threading.Thread):
    """Every ``interval`` seconds, counts the database's active backends and, of those
    waiting on a lock, the table their statement names (the row lock they queue for); and
    follows the CPU time of every backend of the database (they come and go: the server
    reconnects after ``CONN_MAX_AGE``), so ``cpu_seconds`` is theirs only."""

    def __init__(self, conninfo: str, database: str, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.conninfo = conninfo
        self.database = database
        self.interval = interval
        self.stopped = threading.Event()
        self.samples = 0
        self.active = 0
        self.waiting: Counter[str] = Counter()
        self.cpu_first: dict[int, float] = {}
        self.cpu_last: dict[int, float] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.conninfo, autocommit=True) as connection:
            while not self.stopped.is_set():
                rows = connection.execute(
                    "SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchall()
                first = not self.ready.is_set()
                for pid, state, wait_type, query in rows:
                    cpu = _cpu_seconds(pid)
                    if cpu is not None:
                        self.cpu_first.setdefault(pid, cpu if first else 0.0)
                        self.cpu_last[pid] = cpu
                    if state != "active":
                        continue
                    self.active += 1
                    if wait_type == "Lock":
                        found = WAIT_TABLE.search(query or "")
                        self.waiting[found.group(1) if found else "?"] += 1
                self.samples += 1
                self.ready.set()
                self.stopped.wait(self.interval)

    def start(self) -> None:
        super().start()
        self.ready.wait(timeout=10)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu_last[pid] - self.cpu_first[pid] for pid in self.cpu_last)

    def stop(self) -> dict[str, Any]:
        self.stopped.set()
        self.join(timeout=5)
        samples = max(self.samples, 1)
        return {
            "samples": self.samples,
            "mean_active_backends": round(self.active / samples, 2),
            "mean_lock_waiting_backends": round(sum(self.waiting.values()) / samples, 2),
            "lock_waits_by_table": {
                table: round(count / samples, 2) for table, count in self.waiting.most_common(8)
            },
        }
