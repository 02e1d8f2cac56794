"""The search benchmark runs end to end on a tiny corpus (the full run is `bench/search.py`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

ROOT = Path(__file__).resolve().parent.parent


def test_search_benchmark_smoke(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "search.py"),
            "--pages",
            "300",
            "--queries",
            "10",
            "--no-write",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "## Search, " in table
    assert "| Search call with snippets" in table
    assert "| Results page over HTTP" in table
    assert "300 pages in 30 documents" in table
    assert "10 fixed queries" in table
    assert not out.exists()  # --no-write


def test_search_benchmark_smoke_on_postgres(tmp_path: Path) -> None:
    from tests import services
    from tests.conftest import require

    require(services.postgres_bin() is not None, "PostgreSQL is not installed")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "search.py"), "--backend", "postgres",
         "--pages", "300", "--queries", "10", "--no-write", "--no-http"],
        capture_output=True, text=True, timeout=180, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "`SEARCH_BACKEND=postgres`" in result.stdout
    assert "| Search call with snippets (`PostgresBackend.search`" in result.stdout
    assert "PostgreSQL 1" in result.stdout and "300 pages in 30 documents" in result.stdout
