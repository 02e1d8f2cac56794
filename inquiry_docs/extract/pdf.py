"""PDF text and metadata with pypdf, page by page.

pypdf caps every decompressed stream (75 MB by default) and raises LimitReachedError,
but while extracting text it swallows the error for form XObjects and only logs a
warning, leaving the page silently short. A log handler catches those warnings so a
decompression bomb always ends as an ExtractionError, never as missing text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from pypdf import PdfReader
from pypdf.errors import (
    DependencyError,
    FileNotDecryptedError,
    LimitReachedError,
    PdfReadError,
    PyPdfError,
)

from .types import Extracted, ExtractionError, clean_meta, clean_text

ENCRYPTED = "The PDF is encrypted and needs a password."
UNKNOWN_CIPHER = "The PDF is encrypted with a method that cannot be read."
BOMB = "A content stream expands beyond the safe limit (possible decompression bomb)."
DAMAGED = "The PDF is damaged or incomplete and could not be read."


class _LimitWatcher(logging.Handler):
    """Records pypdf warnings about reached limits, from this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.tripped = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and "limit reached" in record.getMessage().lower():
            self.tripped = True


@contextmanager
def _watch_limits() -> Iterator[_LimitWatcher]:
    logger = logging.getLogger("pypdf")
    watcher = _LimitWatcher()
    logger.addHandler(watcher)
    original_level = logger.level
    quietened = logger.getEffectiveLevel() > logging.WARNING
    if quietened:  # the warnings must be emitted for the watcher to see them
        logger.setLevel(logging.WARNING)
    try:
        yield watcher
    finally:
        logger.removeHandler(watcher)
        if quietened:
            logger.setLevel(original_level)


def _open(fh) -> PdfReader:
    try:
        reader = PdfReader(fh)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(ENCRYPTED)
    except FileNotDecryptedError as exc:
        raise ExtractionError(ENCRYPTED) from exc
    except (DependencyError, NotImplementedError) as exc:
        raise ExtractionError(UNKNOWN_CIPHER) from exc
    return reader


def _page_texts(reader: PdfReader, watcher: _LimitWatcher) -> list[tuple[int, str]]:
    pages = []
    for number, page in enumerate(reader.pages, 1):
        text = page.extract_text()
        if watcher.tripped:
            raise ExtractionError(BOMB)
        pages.append((number, clean_text(text)))
    return pages


def _created(reader: PdfReader) -> datetime | None:
    try:
        return reader.metadata.creation_date if reader.metadata else None
    except (ValueError, TypeError, PyPdfError):
        return None  # dates in the wild are often malformed


def _meta(reader: PdfReader, name: str) -> str | None:
    try:
        return clean_meta(getattr(reader.metadata, name)) if reader.metadata else None
    except (ValueError, TypeError, PyPdfError):
        return None


def extract(path: str) -> Extracted:
    with open(path, "rb") as fh, _watch_limits() as watcher:
        try:
            reader = _open(fh)
            pages = _page_texts(reader, watcher)
            return Extracted(
                pages=pages,
                page_label="page",
                title=_meta(reader, "title"),
                author=_meta(reader, "author"),
                created=_created(reader),
            )
        except LimitReachedError as exc:
            raise ExtractionError(BOMB) from exc
        except FileNotDecryptedError as exc:
            raise ExtractionError(ENCRYPTED) from exc
        except (PdfReadError, PyPdfError) as exc:
            raise ExtractionError(DAMAGED) from exc
