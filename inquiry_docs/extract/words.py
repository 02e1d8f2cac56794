"""Where each word sits on a page: PDFium's character boxes for pages with a text layer,
Tesseract's word boxes for scanned pages and image files.

Runs in the sandboxed child like every parser. Boxes are fractions of the page as it is
shown (rotation applied), from the top left corner, so they line up with the page images
at any size: `[text, x0, y0, x1, y1, line]`.
"""

from __future__ import annotations

import csv
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .ocr import DPI, NOT_AVAILABLE, is_blank
from .render import page_image
from .types import IMAGES, PDF, ExtractionError

A4_POINTS = (595.28, 841.89)
# A new line when a character starts this far (in line heights) from the word's line.
_LINE_JUMP = 0.6


def _rotate(box: tuple[float, float, float, float], rotation: int
            ) -> tuple[float, float, float, float]:
    """A box on the unrotated page as it is on the page turned `rotation` degrees clockwise."""
    x0, y0, x1, y1 = box
    if rotation == 90:
        return (1 - y1, x0, 1 - y0, x1)
    if rotation == 180:
        return (1 - x1, 1 - y1, 1 - x0, 1 - y0)
    if rotation == 270:
        return (y0, 1 - x1, y1, 1 - x0)
    return box


def _clamp(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 5)


def _pdf_page_words(pdf: Any, number: int) -> dict[str, Any]:
    import pypdfium2.raw as raw

    page = pdf[number - 1]
    try:
        left, bottom, right, top = page.get_bbox()
        width, height = max(right - left, 1.0), max(top - bottom, 1.0)
        rotation = page.get_rotation() % 360
        textpage = page.get_textpage()
        try:
            words: list[list[Any]] = []
            chars: list[str] = []
            box: list[float] = []
            line = 0

            def flush() -> None:
                if chars:
                    x0, y0, x1, y1 = _rotate(((box[0] - left) / width, (top - box[3]) / height,
                                              (box[2] - left) / width, (top - box[1]) / height),
                                             rotation)
                    words.append(["".join(chars), _clamp(x0), _clamp(y0), _clamp(x1),
                                  _clamp(y1), line])
                    chars.clear()

            for index in range(textpage.count_chars()):
                char = chr(raw.FPDFText_GetUnicode(textpage, index))
                if char.isspace() or char in "\ufffe\x02" or not char.isprintable():
                    flush()
                    if char == "\n":
                        line += 1
                    continue
                x0, y0, x1, y1 = textpage.get_charbox(index, loose=True)
                if chars:
                    size = max(box[3] - box[1], 1.0)
                    middle = (y0 + y1) / 2
                    if not box[1] - size * _LINE_JUMP <= middle <= box[3] + size * _LINE_JUMP:
                        flush()
                        line += 1
                if not chars:
                    box = [x0, y0, x1, y1]
                else:
                    box = [min(box[0], x0), min(box[1], y0), max(box[2], x1), max(box[3], y1)]
                chars.append(char)
            flush()
        finally:
            textpage.close()
        if rotation in (90, 270):
            width, height = height, width
        return {"width": round(width, 2), "height": round(height, 2),
                "source": "text" if words else "none", "words": words}
    finally:
        page.close()


def parse_tsv_words(tsv: str, image_width: int, image_height: int) -> list[list[Any]]:
    """Tesseract's TSV rows of words as boxes, a line number per (block, paragraph, line)."""
    words: list[list[Any]] = []
    lines: dict[tuple[str, str, str], int] = {}
    for row in csv.DictReader(tsv.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        line = lines.setdefault(key, len(lines))
        x, y = int(row["left"]), int(row["top"])
        w, h = int(row["width"]), int(row["height"])
        words.append([text, _clamp(x / image_width), _clamp(y / image_height),
                      _clamp((x + w) / image_width), _clamp((y + h) / image_height), line])
    return words


def _ocr_words(path: str, mime: str, number: int, command: str, timeout: float
               ) -> dict[str, Any]:
    image = page_image(path, mime, number, DPI)
    if mime == PDF:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(path)
        try:
            width, height = pdf[number - 1].get_size()
        finally:
            pdf.close()
    else:  # an image file: laid out as an A4-wide page
        width = A4_POINTS[0]
        height = width * image.height / max(image.width, 1)
    size = {"width": round(width, 2), "height": round(height, 2)}
    if is_blank(image):
        return {**size, "source": "none", "words": []}
    with tempfile.TemporaryDirectory(prefix="inquiry-docs-words-") as tmp:
        target = Path(tmp) / "page.png"
        image.save(target)
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        try:
            done = subprocess.run([command, str(target), "-", "-l", "eng", "--psm", "3",
                                   "--dpi", str(DPI), "tsv"], capture_output=True, text=True,
                                  env=env, timeout=timeout, check=False)
        except FileNotFoundError as exc:
            raise ExtractionError(NOT_AVAILABLE) from exc
        except subprocess.TimeoutExpired as exc:
            raise ExtractionError(f"OCR took longer than {timeout:g} seconds.") from exc
    if done.returncode != 0:
        raise ExtractionError(f"OCR failed (Tesseract exit code {done.returncode}).")
    words = parse_tsv_words(done.stdout, image.width, image.height)
    return {**size, "source": "ocr" if words else "none", "words": words}


def page_words(path: str, mime: str, numbers: list[int], ocr: list[int],
               command: str = "tesseract", timeout: float = 120) -> dict[int, dict[str, Any]]:
    """The words of these pages with their boxes; pages in `ocr` (text read by OCR) are
    read again by Tesseract for positions, every other PDF page from its text layer."""
    out: dict[int, dict[str, Any]] = {}
    if mime == PDF:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(path)
        try:
            for number in numbers:
                if not 1 <= number <= len(pdf):
                    raise ExtractionError(f"The file has no page {number}.")
                if number not in ocr:
                    out[number] = _pdf_page_words(pdf, number)
        finally:
            pdf.close()
    elif mime not in IMAGES:
        raise ExtractionError("Words of this kind of file have no positions on a page.")
    for number in numbers:
        if number not in out:
            out[number] = _ocr_words(path, mime, number, command, timeout)
    return out
