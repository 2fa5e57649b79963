"""``tongban worker``: runs queued tasks (django-tasks-db), the outbox sweeper and the
periodic jobs other apps register with ``events.registry.schedule_every``.

Several workers may run at once: tasks are claimed under a row lock, deliveries are
locked while they run. A worker killed with SIGKILL loses nothing: its delivery stays
pending and the next sweep (of any worker) re-enqueues it once its lease has expired.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils.module_loading import import_string
from django_tasks_db.management.commands.db_worker import Worker

from tongban.platform.events.registry import periodic_jobs
from tongban.platform.events.services import deliveries_sweep

logger = logging.getLogger("tongban.worker")


def maintenance_once(last_run: dict[str, float]) -> None:
    """One round of upkeep: sweep stale deliveries, run periodic jobs that are due."""
    close_old_connections()
    try:
        swept = deliveries_sweep()
        if swept:
            logger.info("re-enqueued %s stale deliveries", swept)
    except Exception:  # noqa: BLE001 - keep the worker alive; the next round retries
        logger.exception("delivery sweep failed")
    now = time.monotonic()
    for job in periodic_jobs():
        if now - last_run.get(job.path, 0.0) >= job.every_seconds:
            last_run[job.path] = now
            try:
                import_string(job.path)()
            except Exception:  # noqa: BLE001
                logger.exception("periodic job %s failed", job.path)
    close_old_connections()


class Command(BaseCommand):
    help = "Run the background worker (events, notifications, periodic jobs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queue",
            action="append",
            dest="queues",
            help="queue to serve (repeatable; default: all)",
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds to wait when idle (default 1)"
        )
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=15.0,
            help="seconds between outbox sweeps and periodic jobs",
        )
        parser.add_argument(
            "--batch", action="store_true", help="sweep once, run until no task is left, then exit"
        )
        parser.add_argument(
            "--max-tasks", type=int, default=None, help="exit after running this many tasks"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 0 or options["sweep_interval"] <= 0:
            raise CommandError("intervals must be positive")
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        last_run: dict[str, float] = {}
        maintenance_once(last_run)
        stop = threading.Event()
        if not options["batch"]:

            def loop() -> None:
                while not stop.wait(options["sweep_interval"]):
                    maintenance_once(last_run)

            threading.Thread(target=loop, name="tongban-maintenance", daemon=True).start()
        worker = Worker(
            queue_names=options["queues"] or ["*"],
            interval=options["interval"],
            batch=options["batch"],
            backend_name="default",
            startup_delay=not options["batch"],
            max_tasks=options["max_tasks"],
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        self.stdout.write(f"worker {worker_id} started")
        try:
            worker.run()
        finally:
            stop.set()
