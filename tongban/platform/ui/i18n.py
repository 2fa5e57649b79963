"""Translation catalogue tooling: extract msgids (Simplified Chinese) and report the English
catalogue's gaps. ``python -m tongban.platform.ui.i18n update|compile|check``."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2]
ROOT = PACKAGE.parent
CATALOGUE = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
IGNORES = [
    ".venv/*",
    "var/*",
    "bench/*",
    "tests/*",
    "docs/*",
    "test-artifacts/*",
    "*/migrations/*",
    "*/tests/*",
    "build/*",
]


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


def _makemessages() -> None:
    # Run from the repository root: inside tongban/ the package "platform" would shadow
    # the standard library module of that name.
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
    subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        check=True,  # noqa: S603
        capture_output=True,
    )


def update() -> None:
    CATALOGUE.parent.mkdir(parents=True, exist_ok=True)
    _makemessages()


def compile_catalogues() -> None:
    """msgfmt --check, the same tool Django's compilemessages runs."""
    target = CATALOGUE.with_suffix(".mo")
    subprocess.run(
        ["msgfmt", "--check", "-o", str(target), str(CATALOGUE)],
        check=True,
        capture_output=True,
    )


def gaps() -> list[str]:
    """Msgids in the source that the English catalogue does not translate. The catalogue
    is re-extracted and then restored, so the working tree is left as it was."""
    original = CATALOGUE.read_text("utf-8") if CATALOGUE.exists() else None
    try:
        update()
        extracted = CATALOGUE.read_text("utf-8")
    finally:
        if original is None:
            CATALOGUE.unlink(missing_ok=True)
        else:
            CATALOGUE.write_text(original, "utf-8")
    return [entry.msgid for entry in parse_po(extracted) if entry.fuzzy or not entry.msgstr]


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
