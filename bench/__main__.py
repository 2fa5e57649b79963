"""Run benchmarks: every module ``bench/<name>.py`` that defines ``run() -> dict``.

With no argument each benchmark runs in its own process, so each gets its own database and
a fresh Django setup.
"""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import bench

NOT_BENCHMARKS = {"common"}


def discover() -> list[str]:
    names = []
    for module in pkgutil.iter_modules([str(Path(bench.__file__).parent)]):
        if module.name.startswith("_") or module.name in NOT_BENCHMARKS:
            continue
        if hasattr(importlib.import_module(f"bench.{module.name}"), "run"):
            names.append(module.name)
    return sorted(names)


def main(argv: list[str]) -> int:
    available = discover()
    if argv:
        name = argv[0]
        if name not in available:
            print(f"unknown benchmark {name!r}; available: {', '.join(available)}")
            return 2
        importlib.import_module(f"bench.{name}").run()
        return 0
    failed = []
    for name in available:
        print(f"== {name}", flush=True)
        if subprocess.call([sys.executable, "-m", "bench", name]) != 0:  # noqa: S603
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
