"""Translation catalogue tooling: extract msgids (Simplified Chinese) and report the English
catalogue's gaps. ``python -m tongban.platform.ui.i18n update|compile|check``."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]
LOCALE = PACKAGE / "locale"
IGNORES = ["migrations/*", "*/migrations/*", "tests/*", "*/tests/*"]


@dataclass(frozen=True)
class Entry:
    msgid: str
    msgstr: str
    fuzzy: bool
    plural: bool


def _unquote(line: str) -> str:
    return str(ast.literal_eval(line))


def parse_po(text: str) -> list[Entry]:
    """A small reader for the .po files Django writes (enough for completeness checks)."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    current = ""
    fuzzy = False

    def flush() -> None:
        nonlocal fields, fuzzy
        if "msgid" in fields and fields["msgid"]:
            plural = "msgid_plural" in fields
            msgstr = fields.get("msgstr[0]", "") if plural else fields.get("msgstr", "")
            entries.append(Entry(fields["msgid"], msgstr, fuzzy, plural))
        fields, fuzzy = {}, False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
            continue
        if line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            fields[current] = fields.get(current, "") + _unquote(line)
        else:
            keyword, _, rest = line.partition(" ")
            current = keyword
            fields[current] = _unquote(rest)
    flush()
    return entries


def _makemessages(root: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings"}
    command = [
        sys.executable,
        "-m",
        "django",
        "makemessages",
        "-l",
        "en",
        "--no-obsolete",
        "--no-location",
        *(f"--ignore={pattern}" for pattern in IGNORES),
    ]
    for domain in ("django",):
        subprocess.run(  # noqa: S603 - our own interpreter and Django's command
            [*command, "-d", domain],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
        )


def update() -> None:
    _makemessages(PACKAGE)


def compile_catalogues() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tongban.settings"}
    subprocess.run(
        [sys.executable, "-m", "django", "compilemessages"],  # noqa: S603
        cwd=PACKAGE,
        env=env,
        check=True,
        capture_output=True,
    )


def gaps() -> list[str]:
    """Msgids in the source tree that the English catalogue does not translate."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "tongban"
        shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
        _makemessages(copy)
        catalogue = (copy / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text("utf-8")
    return [entry.msgid for entry in parse_po(catalogue) if entry.fuzzy or not entry.msgstr]


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "check"
    if action == "update":
        update()
    elif action == "compile":
        compile_catalogues()
    missing = gaps()
    for msgid in missing:
        print(f"untranslated: {msgid}")
    print(f"{len(missing)} untranslated strings")
    return 1 if (missing and action == "check") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
