"""The ingest benchmark runs on a tiny corpus; the full run is `make bench`, outside the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_ingest_benchmark_runs_and_prints_the_three_phases(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "ingest.py"), "--docs", "3", "--pages", "2"]
    command += ["--docx", "1", "--workers", "2", "--no-write", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    phases = [row.split("|")[1].strip() for row in table[1:]]
    assert [p.split(" (")[0] for p in phases] == ["Bare extraction", "Indexing alone", "End to end"]
    assert all(row.split("|")[3].strip() == "8" for row in table[1:])  # pages per phase
    assert "End to end / bare extraction:" in done.stdout
    assert "Checked: 4/4 documents indexed with the right page counts" in done.stdout
    assert "page 2." in done.stdout  # the marker word was found on its page
    assert not out.exists()  # --no-write
