"""Benchmarks for the PDF text readers, OCR and page rendering (`bench/ingest.py --scans`).

1. PDF text readers: PDFium and pypdf on the same generated PDFs (justified TrueType text,
   ligature-prone words), one process each: pages/s, and quality as word recall against
   the text the PDFs were made from; with --real-pdfs DIR, the two readers' agreement
   (word-set overlap) on real-world PDFs.
2. OCR: a generated scan (A4 pages at 150 dpi, one column of text) read by Tesseract in
   sandboxed chunks as the job does: pages per minute and word recall.
3. Rendering: page images at thumbnail and reading width in the sandbox: ms per page.
"""

from __future__ import annotations

import random
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WORDS = re.compile(r"[A-Za-z]+")
# Words with fi/fl/ff ligatures in many fonts: where PDF readers differ most.
LIGATURE_WORDS = ["first", "office", "official", "affidavit", "flow", "conflict", "fifth",
                  "sufficient", "effect"]


@dataclass
class ReaderFigures:
    name: str
    pages: int
    seconds: float
    recall: float  # share of source words found, multiset

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0


def _words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in WORDS.findall(text))


def recall(source: str, read: str) -> float:
    want, got = _words(source), _words(read)
    total = sum(want.values())
    return sum(min(n, got[w]) for w, n in want.items()) / total if total else 1.0


def _source_pages(seed: int, pages: int, vocabulary: list[str]) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(pages):
        words = [rng.choice(vocabulary) for _ in range(380)]
        for index in range(0, len(words), 40):
            words[index] = rng.choice(LIGATURE_WORDS)
        out.append(" ".join(words))
    return out


def make_text_pdfs(folder: Path, docs: int, pages: int, font: str | None,
                   vocabulary: list[str]) -> list[tuple[Path, list[str]]]:
    from fpdf import FPDF

    made = []
    for number in range(docs):
        texts = _source_pages(number, pages, vocabulary)
        pdf = FPDF()
        if font:
            pdf.add_font("Body", fname=font)
            pdf.set_font("Body", size=10.5)
        else:
            pdf.set_font("helvetica", size=10.5)
        for text in texts:
            pdf.add_page()
            pdf.multi_cell(0, 4.6, text, align="J")
        path = folder / f"text-{number:03d}.pdf"
        path.write_bytes(bytes(pdf.output()))
        made.append((path, texts))
    return made


def compare_readers(made: list[tuple[Path, list[str]]]) -> list[ReaderFigures]:
    from inquiry_docs.extract import PDF_READERS

    figures = []
    for name, reader in PDF_READERS.items():
        start, pages, scores = time.perf_counter(), 0, []
        for path, texts in made:
            result = reader(str(path))
            pages += len(result.pages)
            scores.append(recall("\n".join(texts), "\n".join(t for _, t in result.pages)))
        figures.append(ReaderFigures(name, pages, time.perf_counter() - start,
                                     statistics.mean(scores)))
    return figures


def agreement(folder: Path) -> tuple[int, float, dict[str, int]]:
    """On real PDFs: files read by both, mean word-set overlap, failures per reader."""
    from inquiry_docs.extract import PDF_READERS

    overlaps, failures, both = [], Counter(), 0
    for path in sorted(folder.rglob("*.pdf")):
        texts = {}
        for name, reader in PDF_READERS.items():
            try:
                texts[name] = " ".join(t for _, t in reader(str(path)).pages)
            except Exception:  # a real-world file may break either reader
                failures[name] += 1
        if len(texts) == 2:
            both += 1
            a, b = (set(_words(t)) for t in texts.values())
            overlaps.append(len(a & b) / len(a | b) if a | b else 1.0)
    return both, statistics.mean(overlaps) if overlaps else 0.0, dict(failures)


def make_scan(path: Path, pages: int, vocabulary: list[str]) -> list[str]:
    """An image-only PDF of A4 pages at 150 dpi; returns each page's source text."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw, ImageFont

    rng = random.Random(7)
    font = ImageFont.load_default(size=28)
    pdf, texts = FPDF(), []
    for _ in range(pages):
        lines = [" ".join(rng.choice(vocabulary) for _ in range(8)) for _ in range(30)]
        image = Image.new("L", (1240, 1754), 255)
        draw = ImageDraw.Draw(image)
        for row, line in enumerate(lines):
            draw.text((100, 120 + row * 48), line, fill=0, font=font)
        pdf.add_page()
        pdf.image(image, x=0, y=0, w=pdf.w, h=pdf.h)
        texts.append("\n".join(lines))
    path.write_bytes(bytes(pdf.output()))
    return texts


def ocr_rate(path: Path, texts: list[str], chunk: int = 10) -> tuple[float, float]:
    """(pages per minute, mean word recall) reading every page as the job does."""
    from inquiry_docs.extract import PDF
    from inquiry_docs.extract.ocr import read_pages
    from inquiry_docs.extract.sandbox import run_limited

    numbers = list(range(1, len(texts) + 1))
    found = {}
    start = time.perf_counter()
    for first in range(0, len(numbers), chunk):
        found.update(run_limited(read_pages, str(path), PDF, numbers[first:first + chunk],
                                 cpu_seconds=600))
    minutes = (time.perf_counter() - start) / 60
    scores = [recall(texts[n - 1], found[n].text) for n in numbers]
    return len(numbers) / minutes, statistics.mean(scores)


def render_ms(path: Path, pages: int) -> dict[str, float]:
    """Median ms per page image, each in its own sandboxed child as the viewer does."""
    from inquiry_docs.evidence.page_images import SIZES
    from inquiry_docs.extract import PDF
    from inquiry_docs.extract.render import render_png
    from inquiry_docs.extract.sandbox import run_limited

    out = {}
    for size, width in SIZES.items():
        times = []
        for number in range(1, pages + 1):
            start = time.perf_counter()
            run_limited(render_png, str(path), PDF, number, width, cpu_seconds=60)
            times.append((time.perf_counter() - start) * 1000)
        out[size] = statistics.median(times)
    return out


def run(base: Path, vocabulary: list[str], font: str | None, *, docs: int = 20,
        pages: int = 10, ocr_pages: int = 20, real_pdfs: Path | None = None) -> str:
    """All three measurements as a Markdown section (without its heading)."""
    folder = base / "scans"
    folder.mkdir(parents=True, exist_ok=True)
    made = make_text_pdfs(folder, docs, pages, font, vocabulary)
    readers = compare_readers(made)
    lines = [f"PDF text readers on {docs} generated PDFs x {pages} pages "
             f"({Path(font).name if font else 'Helvetica'}, justified), one process:", "",
             "| reader | pages/s | word recall |", "|---|---|---|"]
    lines += [f"| {r.name} | {r.rate:,.0f} | {r.recall:.2%} |" for r in readers]
    if real_pdfs is not None:
        both, overlap, failures = agreement(real_pdfs)
        lines += ["", f"Real-world PDFs in {real_pdfs}: {both} read by both readers, mean "
                      f"word-set agreement {overlap:.1%}; failures {failures or 'none'}."]
    scan = folder / "scan.pdf"
    texts = make_scan(scan, ocr_pages, vocabulary)
    per_minute, ocr_recall = ocr_rate(scan, texts)
    rendered = render_ms(made[0][0], min(pages, 10))
    lines += ["", f"OCR (Tesseract, one thread, chunks of 10 pages in the sandbox): "
                  f"{per_minute:,.0f} pages/minute on {ocr_pages} A4 pages scanned at 150 "
                  f"dpi, word recall {ocr_recall:.1%}.",
              "", "Page images (PDFium, one sandboxed child per image, median): "
                  + ", ".join(f"{size} {ms:.0f} ms/page" for size, ms in rendered.items())
                  + "."]
    return "\n".join(lines) + "\n"
