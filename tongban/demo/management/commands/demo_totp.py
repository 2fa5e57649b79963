"""Print the current TOTP code of the demo administrators' shared demo secret."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_otp.oath import totp

from tongban.demo.loader import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current one-time code for the demo logins that need TOTP (demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"{totp(bytes.fromhex(DEMO_TOTP_KEY)):06d}")
