"""Optical character recognition of page images with the Tesseract program.

Runs in the sandboxed child: pages are rendered there (a decoded bitmap is where a hostile
file does its damage), written to a private temporary folder, and read by one `tesseract`
process per chunk of pages (loading the English model costs more than a small page).
Tesseract inherits the child's CPU and memory limits.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .reasons import plain_failures
from .render import page_image
from .types import PDF, ExtractionError, clean_text

NOT_AVAILABLE = "OCR not available: Tesseract is not installed on this server."
OCR_FAILED = "OCR failed: the page images could not be read."
DPI = 300
# Below this mean confidence a page is tried on its side and upside down as well.
LOW_CONFIDENCE = 70.0
ROTATIONS = (90, 180, 270)
_MIN_INK_PIXELS = 30


@dataclass(frozen=True)
class PageText:
    text: str
    confidence: float | None  # mean word confidence 0-100; None when no words were found


def available(command: str) -> bool:
    """Is the Tesseract program there to run? (A path check: no process is started.)"""
    found = shutil.which(command)
    return found is not None and os.access(found, os.X_OK)


def is_blank(image: Image.Image) -> bool:
    """No ink worth reading: a white page, or a few specks of scanner dust."""
    histogram = image.convert("L").histogram()
    return sum(histogram[:128]) < _MIN_INK_PIXELS


def parse_tsv(tsv: str) -> dict[int, PageText]:
    """Tesseract's TSV (one row per word, with its page, block, paragraph and line) as
    text per page, lines kept and paragraphs separated by a blank line."""
    lines: dict[int, dict[tuple[int, int, int], list[str]]] = defaultdict(dict)
    confidences: dict[int, list[float]] = defaultdict(list)
    for row in csv.DictReader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE):
        word = (row.get("text") or "").strip()
        if row.get("level") != "5" or not word:
            continue
        page = int(row["page_num"])
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        lines[page].setdefault(key, []).append(word)
        confidence = float(row["conf"])
        if confidence >= 0:
            confidences[page].append(confidence)
    out = {}
    for page, page_lines in lines.items():
        parts, previous = [], None
        for (block, par, _), words in page_lines.items():
            if previous is not None and previous != (block, par):
                parts.append("")
            parts.append(" ".join(words))
            previous = (block, par)
        scores = confidences[page]
        out[page] = PageText(clean_text("\n".join(parts)),
                             round(sum(scores) / len(scores), 1) if scores else None)
    return out


def _tesseract(command: str, images: list[Path], folder: Path, dpi: int | None,
               timeout: float) -> dict[int, PageText]:
    listing = folder / "pages.txt"
    listing.write_text("".join(f"{path}\n" for path in images))
    args = [command, str(listing), "-", "-l", "eng", "--psm", "3"]
    if dpi:
        args += ["--dpi", str(dpi)]
    # One thread: the job queue already runs files side by side on a small machine.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run([*args, "tsv"], capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise ExtractionError(NOT_AVAILABLE) from exc
    except subprocess.TimeoutExpired as exc:
        raise ExtractionError(f"OCR took longer than {timeout:g} seconds.") from exc
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[-300:]
        raise ExtractionError(f"OCR failed: Tesseract stopped with exit code {done.returncode}.",
                              detail=f"tesseract: {detail}")
    return parse_tsv(done.stdout)


def _score(result: PageText | None) -> float:
    if result is None or not result.text:
        return 0.0
    return result.confidence or 0.0


@plain_failures(OCR_FAILED)
def read_pages(path: str, mime: str, numbers: list[int], command: str = "tesseract",
               timeout: float = 600) -> dict[int, PageText]:
    """OCR these pages of a PDF or image file: {number: PageText}. A page that cannot be
    rendered (one PDFium cannot load) stays without text: its reading already said so."""
    dpi = DPI if mime == PDF else None
    results: dict[int, PageText] = {}
    with tempfile.TemporaryDirectory(prefix="inquiry-docs-ocr-") as tmp:
        folder = Path(tmp)
        images, inked = [], []
        for number in numbers:
            try:
                image = page_image(path, mime, number, DPI)
            except ExtractionError:
                results[number] = PageText("", None)
                continue
            if is_blank(image):
                results[number] = PageText("", None)
                continue
            target = folder / f"{number}.png"
            image.save(target)
            images.append(target)
            inked.append(number)
        if images:
            found = _tesseract(command, images, folder, dpi, timeout)
            for index, number in enumerate(inked, 1):
                results[number] = found.get(index, PageText("", None))
        _try_rotations(command, folder, dpi, timeout, results,
                       [n for n in inked if _score(results[n]) < LOW_CONFIDENCE])
    return results


def _try_rotations(command: str, folder: Path, dpi: int | None, timeout: float,
                   results: dict[int, PageText], numbers: list[int]) -> None:
    """Read low-confidence pages turned a quarter, a half and three quarters; keep the
    reading with the best confidence (a scan fed in sideways reads as noise)."""
    if not numbers:
        return
    turned: list[tuple[int, Path]] = []
    for number in numbers:
        with Image.open(folder / f"{number}.png") as image:
            for angle in ROTATIONS:
                target = folder / f"{number}-{angle}.png"
                image.rotate(angle, expand=True, fillcolor=255).save(target)
                turned.append((number, target))
    found = _tesseract(command, [path for _, path in turned], folder, dpi, timeout)
    for index, (number, _) in enumerate(turned, 1):
        candidate = found.get(index)
        if candidate is not None and _score(candidate) > _score(results[number]):
            results[number] = candidate
