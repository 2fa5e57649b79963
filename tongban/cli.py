"""The ``tongban`` console command: a thin front over Django's management commands."""

from __future__ import annotations

import os
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (management command, help)
    "demo": (
        "demo",
        "migrate, load the demo city 示范市 (safe to repeat), print logins",
    ),
    "serve": ("serve", "serve the platform (development server on 127.0.0.1:8000 + a worker)"),
    "worker": ("worker", "run the background worker (events, notifications, scheduled jobs)"),
    "migrate": ("migrate", "create or update the database tables"),
    "createadmin": ("createadmin", "create a system, security or audit administrator"),
    "audit verify": (
        "audit_verify",
        "walk the audit hash chain and name the first broken entry (--anchors FILE: and "
        "check it against anchors taken earlier)",
    ),
    "audit anchor": ("audit_anchor", "write the audit chain head outside the database"),
    "calendar import": ("calendar_import", "load a year of working days from a CSV file"),
    "calendar seed": ("calendar_seed", "load 2004–2026 from the chinese-calendar package"),
    "calendar status": ("calendar_status", "show which years the working-day calendar covers"),
    "catalog reindex": ("catalog_reindex", "rebuild the service catalogue's search index"),
    "backup": (
        "backup",
        "back up the database and stored files into a directory (--verify: check one)",
    ),
    "restore": (
        "restore",
        "restore a backup into a fresh database, then check counts, checksums, audit chain",
    ),
    "rotate-keys": (
        "rotate_keys",
        "re-encrypt personal data under the first key of TONGBAN_PII_KEY (online)",
    ),
    "health": ("health", "print the health report (database, worker lag, calendar coverage)"),
    "manage": ("", "run any Django management command: tongban manage <command> ..."),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS) + 2
    lines = [
        "usage: tongban <command> [options]",
        "",
        "Tongban (通办) e-government platform. Commands:",
    ]
    lines += [f"  {name.ljust(width)}{text}" for name, (_, text) in COMMANDS.items()]
    lines += [
        "",
        "Each command takes --help. Settings come from environment variables",
        "(see docs/DEPLOY.md).",
    ]
    return "\n".join(lines)


def resolve(argv: list[str]) -> list[str] | None:
    """Map ``tongban audit verify -x`` to ``manage.py audit_verify -x``."""
    if not argv:
        return None
    if argv[0] == "manage":
        return argv[1:]
    if len(argv) >= 2 and f"{argv[0]} {argv[1]}" in COMMANDS:
        return [COMMANDS[f"{argv[0]} {argv[1]}"][0], *argv[2:]]
    if argv[0] in COMMANDS and COMMANDS[argv[0]][0]:
        return [COMMANDS[argv[0]][0], *argv[1:]]
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    if args[0] in {"--version", "version"}:
        from tongban import __version__

        print(f"tongban {__version__}")
        return 0
    command = resolve(args)
    if command is None:
        print(f"tongban: unknown command {' '.join(args[:2])!r}\n", file=sys.stderr)
        print(usage(), file=sys.stderr)
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["tongban", *command])
    return 0


if __name__ == "__main__":
    sys.exit(main())
