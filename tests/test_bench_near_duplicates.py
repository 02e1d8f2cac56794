"""The near-duplicates benchmark runs on a tiny collection (the full run is
`bench/near_duplicates.py`, outside the suite)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

ROOT = Path(__file__).resolve().parent.parent


def test_near_duplicates_benchmark_reports_time_precision_and_recall(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "near_duplicates.py"), "--pages", "300",
               "--no-write", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    section = done.stdout
    assert "## Near-duplicates, " in section
    assert "`bench/near_duplicates.py --pages 300 --seed 1`" in section
    quarters = re.findall(r"^\| [\d,]+\u2013[\d,]+ \| [\d.]+ \| [\d.]+ \|$", section, re.M)
    assert 1 <= len(quarters) <= 4
    figures = re.search(r"\*\*Precision ([\d.]+)%, recall ([\d.]+)%\*\*", section)
    assert figures and min(map(float, figures.groups())) >= 95
    assert re.search(r"Pairs of one family: [1-9][\d,]*;", section)  # versions were made
    assert not out.exists()  # --no-write
