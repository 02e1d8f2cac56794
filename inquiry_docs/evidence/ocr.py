"""OCR in the job: which pages need it, reading them chunk by chunk, and progress.

ingest.process() calls fill() after the text layer was read. Pages that came out empty
(a scanned PDF page, every page of an image file) are rendered and read by Tesseract in
sandboxed children, OCR_CHUNK_PAGES at a time, so memory stays bounded however long the
scan is and the document's "Reading text (OCR) n/N" advances after each chunk.
"""

from __future__ import annotations

from flask import current_app

from .. import extract
from ..db import db
from ..extract import ocr as tesseract
from ..extract.sandbox import run_limited
from ..models import Document

NOT_AVAILABLE_REASON = (
    "OCR not available: no text was found in this file and Tesseract is not installed on "
    "this server. Once it is, run `inquiry-docs ocr --all-no-text` to read it."
)
OFF_REASON = (
    "No text was found in this file and OCR is turned off (INQUIRY_DOCS_OCR=off). Turn it "
    "on and run `inquiry-docs ocr --all-no-text` to read it."
)
BLANK_REASON = "No text was found in this file, even by OCR: its pages may be blank."


def enabled() -> bool:
    return str(current_app.config["OCR"]).strip().lower() != "off"


def available() -> bool:
    return tesseract.available(current_app.config["TESSERACT_CMD"])


def candidates(mime: str, result: extract.Extracted) -> list[int]:
    """Pages OCR could read: those of a PDF or image that have no text layer."""
    if mime not in extract.PAGED:
        return []
    return result.without_layer()  # a page with only annotations is still a scan


def fill(document: Document, path: str, result: extract.Extracted) -> str:
    """OCR the pages without text into `result`; the reason to show if the document still
    has no text ("" when OCR ran). Raises ExtractionError when a page cannot be read."""
    numbers = candidates(document.mime, result)
    if not numbers:
        return ""
    if not enabled():
        return OFF_REASON
    if not available():
        return NOT_AVAILABLE_REASON
    config = current_app.config
    document.ocr_done, document.ocr_total = 0, len(numbers)
    db.session.commit()
    texts = dict(result.pages)
    size = max(1, config["OCR_CHUNK_PAGES"])
    for start in range(0, len(numbers), size):
        chunk = numbers[start:start + size]
        found = run_limited(
            tesseract.read_pages, path, document.mime, chunk,
            command=config["TESSERACT_CMD"], timeout=2 * config["EXTRACT_TIMEOUT"],
            cpu_seconds=config["EXTRACT_TIMEOUT"], memory_mb=config["EXTRACT_MEMORY_MB"],
        )
        for number, page in found.items():
            texts[number] = result.with_added(number, page.text)
            result.ocr[number] = page.confidence
        document.ocr_done += len(chunk)
        db.session.commit()
    result.pages = sorted(texts.items())
    return BLANK_REASON
