"""The load test runs end to end on a tiny collection (the real run is `bench/load.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

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


def test_warm_up_timings_are_left_out_and_its_errors_counted(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import load

    world = load.World(base=tmp_path, url="", emails=[], tag_id=1, reviewed_ids=[],
                       upload_inquiry=1, all_ids=[], words=[])
    world.samples = [load.Sample("search", 9000.0, True, warm_up=True),
                     load.Sample("view", 5.0, False, "HTTP 500", warm_up=True),
                     *(load.Sample("search", 100.0, True) for _ in range(19)),
                     load.Sample("search", 300.0, True)]
    args = load.parse_args(["--warmup", "30", "--seconds", "10"])
    built = load.corpus.Build(pages=10, documents=1, seed=1, insert_seconds=0.0,
                              index_seconds=0.0, index_bytes=0, text_bytes=0)
    text = load.render(args, world, built, 10.0)
    assert "20 requests in 10 s" in text and "1 errors" in text
    assert "30 s warm-up at the same load (2 requests, 1 errors" in text
    assert "| search | 20 | 100 | 100 | 300 | 0 |" in text  # the 9,000 ms was a warm-up
    assert "view: HTTP 500 (x1)" in text and "NOT met" in text
