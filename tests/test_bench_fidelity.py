"""The fidelity benchmark runs on a tiny corpus (the full run is `bench/fidelity.py`, 330
files): every kind is built, typed, read in the sandbox and scored."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

ROOT = Path(__file__).resolve().parent.parent


def test_fidelity_benchmark_reads_every_kind_and_reports_recall(tmp_path: Path) -> None:
    require(importlib.util.find_spec("extract_msg") is not None,
            "extract-msg (the msg extra) is not installed")
    out = tmp_path / "benchmarks.md"
    command = [sys.executable, str(ROOT / "bench" / "fidelity.py"), "--files", "20",
               "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    section = out.read_text()
    assert "## Extraction fidelity" in section and "`python bench/fidelity.py --files 20" \
        in section
    rows = re.findall(r"^\| ([^|*]+) \| (\d+) \| ([\d.]+)% \| ([\d.]+) \| ([\d.]+) \|$",
                      section, re.M)
    kinds = {kind.split(" (")[0].split(":")[0] for kind, *_ in rows}
    assert kinds >= {"PDF", "DOCX", "Word templates and macro-enabled files", "Email",
                     "Mailbox", "Outlook .msg"}
    assert sum(int(files) for _, files, *_ in rows) == 20
    for kind, _, read, mean, _ in rows:
        assert float(read) == 100.0, kind
        assert float(mean) >= 0.98, kind
    assert "met." in section and "NOT met" not in section
