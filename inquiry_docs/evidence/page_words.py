"""Word positions on a page, for redaction: read in the sandboxed child on first need, then
kept beside the page images (UPLOAD_DIR/pages/<sha[:2]>/<sha256>/<page>-words.json).

Derived data like the images: deleting it costs a read on the next use. Pages whose text
came from OCR are read again by Tesseract for positions (seconds a page), so callers ask
only for the pages they need.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from ..db import db
from ..extract import ExtractionError
from ..extract.sandbox import run_limited
from ..extract.words import page_words
from ..models import Document, Page
from .page_images import cache_path, has_images

VERSION = 1
__all__ = ["ExtractionError", "PageWords", "Word", "kept", "page", "words"]


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    line: int

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class PageWords:
    number: int
    width: float  # the page in PDF points, as shown
    height: float
    source: str  # "text" (the PDF's text layer), "ocr", or "none" (no words found)
    words: tuple[Word, ...]


def _path(document: Document, number: int) -> Path:
    return cache_path(document, number, "read").with_name(f"{number}-words.json")


def _load(path: Path, number: int) -> PageWords | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("version") != VERSION:
        return None
    return PageWords(number, data["width"], data["height"], data["source"],
                     tuple(Word(*w) for w in data["words"]))


def _save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=".words-")
    with os.fdopen(fd, "w") as out:
        json.dump({"version": VERSION, **data}, out, separators=(",", ":"))
    os.replace(name, path)


def words(document: Document, numbers: list[int]) -> dict[int, PageWords]:
    """The words of these pages with their boxes, reading the ones not kept yet in one
    sandboxed child. Raises ExtractionError when the file cannot be read."""
    if not has_images(document):
        return {}
    wanted = sorted({n for n in numbers if 1 <= n <= document.page_count})
    out: dict[int, PageWords] = {}
    missing = []
    for number in wanted:
        found = _load(_path(document, number), number)
        if found is None:
            missing.append(number)
        else:
            out[number] = found
    if missing:
        from .ingest import store

        config = current_app.config
        ocr = list(db.session.execute(
            select(Page.number).where(Page.document_id == document.id, Page.ocr.is_(True),
                                      Page.number.in_(missing))).scalars())
        read = run_limited(
            page_words, str(store().path_for(document.sha256)), document.mime, missing, ocr,
            config["TESSERACT_CMD"], 2 * config["EXTRACT_TIMEOUT"],
            cpu_seconds=config["EXTRACT_TIMEOUT"] * max(1, len(ocr)),
            memory_mb=config["EXTRACT_MEMORY_MB"])
        for number, data in read.items():
            _save(_path(document, number), data)
            out[number] = PageWords(number, data["width"], data["height"], data["source"],
                                    tuple(Word(*w) for w in data["words"]))
    return out


def page(document: Document, number: int) -> PageWords | None:
    return words(document, [number]).get(number)


def kept(document: Document, numbers: list[int]) -> dict[int, PageWords]:
    """The words of these pages already kept beside the images; nothing is read."""
    if not has_images(document):
        return {}
    out = {}
    for number in sorted({n for n in numbers if 1 <= n <= document.page_count}):
        found = _load(_path(document, number), number)
        if found is not None:
            out[number] = found
    return out
