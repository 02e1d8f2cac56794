"""What every benchmark's section in docs/benchmarks.md shares: the machine and the file."""

from __future__ import annotations

import os
import platform
import sqlite3
from importlib import metadata
from pathlib import Path

INTRO = "# Benchmarks\n\nMeasured figures; each section is one run of the command it names.\n"


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine(packages: tuple[str, ...]) -> str:
    """CPU, cores, memory, OS, Python and SQLite, and the versions of `packages`."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    listed = ", ".join(f"{n} {version(n)}" for n in packages)
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram:.1f} GiB RAM; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}; {listed}"
    )


def append(out: Path, section: str) -> None:
    """Add a section to the benchmarks file, starting the file if it is new or empty."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or not out.read_text().strip():
        out.write_text(INTRO)
    with out.open("a") as fh:
        fh.write("\n" + section)
