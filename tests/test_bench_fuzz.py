"""The extractor fuzzer runs on a few cases (the long run is `bench/fuzz.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

ROOT = Path(__file__).resolve().parent.parent


def test_fuzzer_runs_mutated_pdfs_and_docx_through_the_sandbox(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "fuzz.py"), "--iterations", "8",
               "--save", str(tmp_path / "cases"), "--no-write", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "## Extractor fuzzing" in done.stdout
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in done.stdout.splitlines()
            if line.startswith(("| PDF", "| DOCX"))}
    assert set(rows) == {"PDF", "DOCX"}
    for cells in rows.values():
        assert int(cells[0]) == 4 and sum(int(c) for c in cells[1:]) == 4
    assert "Crashes, hangs and memory blow-ups: 0." in done.stdout
    assert not out.exists()  # --no-write
