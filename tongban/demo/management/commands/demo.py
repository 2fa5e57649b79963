"""``tongban demo``: migrate, seed the calendar and templates, load 示范市, print logins."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.demo.loader import DEMO_PASSWORD, DEMO_TOTP_BASE32, DemoRefused, load_demo_city
from tongban.platform.calendar.services import calendar_seed
from tongban.platform.notify.services import notify_seed_templates


class Command(BaseCommand):
    help = "Load the demo city 示范市 (safe to run again) and print one login per role."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        if settings.PRODUCTION:  # before migrating anything
            raise CommandError(str(DemoRefused.production()))
        if not options["no_migrate"]:
            call_command("migrate", verbosity=0, interactive=False)
        calendar_seed()
        notify_seed_templates()
        summary = load_demo_city()
        elapsed = time.perf_counter() - started
        counts = summary.counts
        write = self.stdout.write
        write(
            self.style.SUCCESS(
                f"示范市 loaded in {elapsed:.1f}s: {counts['departments']} departments, "
                f"{counts['units']} units, {counts['staff']} staff, {counts['windows']} windows, "
                f"{counts['citizens']} citizens, {counts['enterprises']} enterprises"
            )
        )
        if counts.get("supervision_alerts"):
            write(
                f"电子监察 (supervision): {counts['supervision_alerts']} alerts, "
                f"{counts.get('supervision_alert_yellow_card', 0)} yellow and "
                f"{counts.get('supervision_alert_red_card', 0)} red cards "
                f"in {counts['supervision_ms'] / 1000:.1f}s"
            )
        write("")
        write(f"登录 (logins) — 密码 (password) for all: {DEMO_PASSWORD}")
        for login in summary.logins:
            write(f"  {login.username:<11} {login.role}  {login.note}")
        write("")
        write("管理员和电子监察员需双因素认证 (TOTP) — demo-only secret for supervisor, sysadmin,")
        write(f"secadmin, auditor: {DEMO_TOTP_BASE32}  (add it to any authenticator app;")
        write("  or: tongban manage demo_totp)")
        write("")
        write("Open http://127.0.0.1:8000/")
