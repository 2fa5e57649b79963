"""``tongban createadmin``: create one of the three administrators (三权分立).

The password comes from ``--password``, else the environment variable
``TONGBAN_ADMIN_PASSWORD``, else an interactive prompt; it must meet the password policy.
With the username of an existing staff login, that login is given the role instead
(its password is left alone).
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tongban.platform.accounts import services
from tongban.platform.accounts.models import AdminRole, User

PASSWORD_ENV = "TONGBAN_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a secret


class Command(BaseCommand):
    help = "Create a system administrator, security administrator or auditor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--role",
            required=True,
            choices=[AdminRole.SYSTEM.value, AdminRole.SECURITY.value, AdminRole.AUDITOR.value],
        )
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", default="", help="display name (姓名)")
        parser.add_argument("--password", default=None)

    def _password(self, given: str | None) -> str:
        if given:
            return given
        from_env = os.environ.get(PASSWORD_ENV, "")
        if from_env:
            return from_env
        if not self.stdin_is_interactive():
            raise CommandError(f"no password: pass --password or set {PASSWORD_ENV}")
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("the passwords do not match")
        return first

    def stdin_is_interactive(self) -> bool:
        import sys

        return sys.stdin.isatty()

    def handle(self, *args: Any, **options: Any) -> None:
        role: str = options["role"]
        username: str = options["username"].strip()
        existing = User.objects.filter(username=username).first()
        try:
            if existing is not None:
                user = services.admin_role_grant(actor=None, user=existing, admin_role=role)
                self.stdout.write(f"granted {role} to existing user {user.username}")
                return
            name: str = options["name"].strip()
            if not name:
                raise CommandError("--name is required for a new administrator")
            user = services.admin_create(
                actor=None,
                admin_role=role,
                username=username,
                display_name=name,
                password=self._password(options["password"]),
            )
        except ValidationError as error:
            problems = [
                f"{field}: {message}"
                for field, messages in error.message_dict.items()
                for message in messages
            ]
            raise CommandError("; ".join(problems)) from error
        self.stdout.write(
            f"created {role} {user.username}; a second factor (TOTP) is enrolled at first login"
        )
