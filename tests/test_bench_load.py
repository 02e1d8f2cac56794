"""The load test runs end to end on a tiny collection (the real run is `bench/load.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_load_benchmark_runs_every_action_against_the_real_server(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "load.py"), "--pages", "200", "--users",
               "2", "--seconds", "3", "--no-write", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "## Load, " in done.stdout and "requests/s" in done.stdout
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1]
            for line in done.stdout.splitlines() if line.startswith("| ")
            and not line.startswith(("| Action", "|---"))}
    assert set(rows) == {"search", "view", "tag", "upload"}
    for action, cells in rows.items():
        assert int(cells[0]) >= 1, action  # each simulated user did each action at least once
        assert cells[-1].strip() == "0", f"{action} had errors: {done.stdout}"
    assert "0 errors" in done.stdout
    assert not out.exists()  # --no-write
