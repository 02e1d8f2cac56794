"""The scans benchmark (PDF readers, OCR, page images) runs on a tiny corpus; the full run
is `python bench/ingest.py --scans`, outside the suite."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = pytest.mark.stack_free(
    "runs a benchmark script on servers and folders of its own, never the stack's")

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_scans_benchmark_reports_readers_ocr_and_rendering(tmp_path: Path) -> None:
    require(shutil.which("tesseract") is not None, "Tesseract is not installed")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import scans
    finally:
        sys.path.remove(str(ROOT / "bench"))
    vocabulary = ["council", "referral", "statement", "police", "notebook", "witness"]
    section = scans.run(tmp_path, vocabulary, None, docs=2, pages=2, ocr_pages=2)
    rows = dict(re.findall(r"^\| (pdfium|pypdf) \| [\d,]+ \| ([\d.]+)% \|$", section, re.M))
    assert set(rows) == {"pdfium", "pypdf"}
    assert float(rows["pdfium"]) > 95  # PDFium keeps the ligature words
    assert re.search(r"OCR .*: [\d,]+ pages/minute .* word recall (\d+\.\d)%", section)
    assert re.search(r"thumb \d+ ms/page, read \d+ ms/page", section)
