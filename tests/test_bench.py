"""The ingest benchmark runs on a tiny corpus; the full run is `make bench`, outside the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests import services
from tests.conftest import require

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--docs", "3", "--pages", "2", "--docx", "1"]  # 4 documents, 8 pages
MARKED = '"zyxquillonmarsh" found only BEN000004 (statement-0001.docx) page 2.'


def _table(stdout: str) -> list[list[str]]:
    rows = [line for line in stdout.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.split("|")[1:-1]] for row in rows[1:]]


@pytest.mark.slow
def test_ingest_benchmark_runs_and_prints_the_three_phases(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "ingest.py"), *TINY]
    command += ["--workers", "2", "--no-write", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    table = _table(done.stdout)
    phases = [row[0].split(" (")[0] for row in table]
    assert phases == ["Bare extraction", "Indexing alone", "End to end"]
    assert all(row[2] == "8" for row in table)  # pages per phase
    assert "End to end / bare extraction:" in done.stdout
    assert "Checked: 4/4 documents indexed with the right page counts" in done.stdout
    assert "Checked: search for " + MARKED in done.stdout
    assert not out.exists()  # --no-write


@pytest.mark.slow
def test_ingest_benchmark_on_postgres_and_redis_with_worker_processes(tmp_path: Path) -> None:
    require(services.postgres_bin() is not None, "PostgreSQL is not installed")
    require(services.redis_bin() is not None, "Redis is not installed")
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "ingest.py"), *TINY, "--backend", "postgres"]
    command += ["--worker-counts", "1,2", "--no-write", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    table = _table(done.stdout)
    assert [row[0] for row in table[1:]] == [
        "End to end (1 x `inquiry-docs worker --workers 1`)",
        "End to end (2 x `inquiry-docs worker --workers 1`)",
    ]
    assert table[0][0].startswith("Bare extraction")
    assert all(row[2] == "8" for row in table)  # pages per row
    assert all(float(row[6]) > 0 for row in table[1:])  # PostgreSQL and Redis CPU seconds
    assert "`INQUIRY_DOCS_SEARCH_BACKEND=postgres`" in done.stdout
    assert "- Worker counts: 1, 2. This machine has " in done.stdout
    for label in ("1 worker", "2 workers"):
        assert f"End to end / bare extraction ({label}):" in done.stdout
        assert (f"Checked ({label}): 4/4 documents indexed with the right page counts "
                "in the database and the index (8 index records).") in done.stdout
        assert f"Checked ({label}): search for {MARKED}" in done.stdout
    assert "Problem" not in done.stdout
    assert not out.exists()  # --no-write


def test_worker_counts_parse_and_oversubscription_is_stated(monkeypatch) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import ingest
        import ingest_report
    finally:
        sys.path.remove(str(ROOT / "bench"))
    args = ingest.parse_args(["--backend", "postgres", "--worker-counts", "1,2,4"])
    assert (args.backend, args.worker_counts) == ("postgres", [1, 2, 4])
    assert ingest.parse_args(["--workers", "3"]).worker_counts == [3]  # unchanged default
    for wrong in ("0", "1,x", ""):
        with pytest.raises(SystemExit):
            ingest.parse_args(["--worker-counts", wrong])
    monkeypatch.setattr(ingest_report.os, "cpu_count", lambda: 2)
    setup = " ".join(ingest_report._setup(args, "scale-out set-up"))
    assert "Worker counts: 1, 2, 4. This machine has 2 cores" in setup
    assert "so 4 workers oversubscribe it" in setup
