"""``tongban serve``: the development server on 127.0.0.1:8000 plus a background worker.

For production use gunicorn (or granian) and ``tongban worker`` under a process manager;
see docs/DEPLOY.md.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the platform for development or a demo (runserver + worker)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start a background worker"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        worker: subprocess.Popen[bytes] | None = None
        if not options["no_worker"] and "worker" in get_commands():
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "tongban.cli", "worker"]
            )
            self.stdout.write(f"worker started (pid {worker.pid})")
        try:
            call_command("runserver", options["addrport"], use_reloader=False, use_threading=True)
        finally:
            if worker is not None and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
