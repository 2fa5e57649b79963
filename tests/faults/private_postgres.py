"""A PostgreSQL server of the test's own, so that it can be restarted under load.

The suite's PostgreSQL is shared (the rest of the suite, other projects' services on the
machine): it may not be restarted. ``PrivatePostgres`` makes a cluster with the machine's
own PostgreSQL binaries (``initdb`` into a temporary directory, trust authentication, its
own port on 127.0.0.1, its socket in the data directory), starts it, restarts it and
removes it. Run as root, every server command runs as the ``postgres`` system user
(``initdb`` refuses root).

``restart()`` is ``pg_ctl restart -m immediate``: every server process is killed without a
checkpoint and the next start recovers from the WAL, as after a crash of the database
server. ``fsync`` is off: the machine does not crash, only the server processes do, and
what they wrote is in the kernel's page cache.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run(  # noqa: S603
            [found, "--bindir"], capture_output=True, text=True, check=False
        )
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


def unavailable_reason() -> str:
    """Why a private server cannot be made here ('' when it can)."""
    if _bindir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres system user"
        if shutil.which("runuser") is None:
            return "running as root and there is no runuser"
    return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivatePostgres:
    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError(unavailable_reason())
        self.bindir = bindir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tongban-private-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)

    def _run(self, *args: str, timeout: float = 120) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(  # noqa: S603
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(args)} failed ({result.returncode}): "
                f"{result.stdout[-1000:]}{result.stderr[-1000:]}\n{log}"
            )

    def _options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.data} -c fsync=off -c max_connections=60"
        )

    def start(self) -> PrivatePostgres:
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self._options(),
                  "-w", "start")  # fmt: skip
        return self

    @classmethod
    def attach(cls, data: Path) -> PrivatePostgres:
        """The running server of ``data`` (made by another process), to restart it."""
        server = cls.__new__(cls)
        bindir = _bindir()
        assert bindir is not None
        server.bindir = bindir
        server.port = 0  # in postmaster.opts, which a restart reuses
        server.root = data.parent
        server.data = data
        server.log = server.root / "server.log"
        server._as_postgres = os.geteuid() == 0
        return server

    def restart(self) -> None:
        """Kill every server process (no checkpoint) and start again: crash recovery.
        The options of the first start are in ``postmaster.opts``."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "immediate",
                  "-w", "restart")  # fmt: skip

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def __enter__(self) -> PrivatePostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
