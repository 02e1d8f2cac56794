"""PDF text and metadata with pypdf, page by page, with form fields and annotations
labelled at the end of their page as PDFium's reader does (extract/pdfium.py).

pypdf caps every decompressed stream (75 MB by default) and raises LimitReachedError,
but while extracting text it swallows the error for form XObjects and only logs a
warning, leaving the page silently short. A log handler catches those warnings so a
decompression bomb always ends as an ExtractionError, never as missing text. pypdf has
other limits too (columns of a predictor, xref sizes, recovering a broken stream): those
say the file is damaged, not that it is a bomb, and are reported as damage.
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
    PyPdfError,
)
from pypdf.generic import ArrayObject, DictionaryObject, NameObject

from . import labels
from .reasons import PAGE_UNREADABLE, joined, technical
from .types import Extracted, ExtractionError, clean_meta, clean_text

ENCRYPTED = "The PDF is encrypted and needs a password."
UNKNOWN_CIPHER = "The PDF is encrypted with a method that cannot be read."
BOMB = "A content stream expands beyond the safe limit (possible decompression bomb)."
DAMAGED = "The PDF is damaged or incomplete and could not be read."
_NO_TEXT_ANNOTS = {"/Popup", "/Link", "/Widget"}
_KINDS = {"/Text": "Note", "/FreeText": "Annotation"}
_MAX_PARENTS = 32


def is_bomb(message: str) -> bool:
    """Is this pypdf limit the decompressed-size cap (a bomb), rather than one of its
    sanity limits on a damaged structure? "Recovery limit reached while decompressing"
    is about retrying a broken stream byte by byte, not about its size."""
    message = message.lower()
    return "limit reached while decompressing" in message and "recovery" not in message


class _LimitWatcher(logging.Handler):
    """Records pypdf warnings about the decompressed-size cap, from this thread only."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.tripped = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and is_bomb(record.getMessage()):
            self.tripped = record.getMessage()


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
    except FileNotDecryptedError as exc:
        raise ExtractionError(ENCRYPTED, detail=technical(exc)) from exc
    except (DependencyError, NotImplementedError) as exc:
        raise ExtractionError(UNKNOWN_CIPHER, detail=technical(exc)) from exc
    if not _encrypted(reader):
        return reader
    try:
        opened = reader.decrypt("")
    except FileNotDecryptedError as exc:
        raise ExtractionError(ENCRYPTED, detail=technical(exc)) from exc
    except Exception as exc:  # an unknown method, or a key of impossible size
        raise ExtractionError(UNKNOWN_CIPHER, detail=technical(exc)) from exc
    if not opened:
        raise ExtractionError(ENCRYPTED)
    return reader


def _encrypted(reader: PdfReader | None) -> bool:
    try:
        return reader is not None and reader.is_encrypted
    except Exception:  # a trailer too broken to say
        return False


def _inherited(field: DictionaryObject, key: str) -> object:
    for _ in range(_MAX_PARENTS):
        if key in field:
            return field[key]
        parent = field.get("/Parent")
        if parent is None:
            return None
        field = parent.get_object()
    return None


def _field_name(field: DictionaryObject) -> str:
    parts: list[str] = []
    for _ in range(_MAX_PARENTS):
        if "/T" in field:
            parts.append(str(field["/T"]))
        parent = field.get("/Parent")
        if parent is None:
            break
        field = parent.get_object()
    return ".".join(reversed(parts))


def _field(widget: DictionaryObject) -> str | None:
    kind = _inherited(widget, "/FT")
    value = _inherited(widget, "/V")
    if value is None:
        return None
    value = value.get_object() if hasattr(value, "get_object") else value
    if kind == "/Btn":
        # A check box or radio button: its value is the name of the chosen state.
        if not isinstance(value, NameObject) or value == "/Off":
            return None
        text = str(value)[1:]
    elif kind in ("/Tx", "/Ch"):
        text = ", ".join(str(v) for v in value) if isinstance(value, ArrayObject) else str(value)
    else:
        return None
    return labels.form_field(_field_name(widget), text) if text.strip() else None


def _added_text(page) -> list[str]:
    out: list[str] = []
    annots = page.get("/Annots")
    annots = annots.get_object() if annots is not None else []
    for ref in annots if isinstance(annots, ArrayObject) else []:
        annot = ref.get_object()
        if not isinstance(annot, DictionaryObject):
            continue
        subtype = annot.get("/Subtype")
        if subtype == "/Widget":
            label = _field(annot)
        elif subtype in _NO_TEXT_ANNOTS or not str(annot.get("/Contents", "")).strip():
            label = None
        else:
            label = labels.annotation(str(annot["/Contents"]), str(annot.get("/T", "")),
                                      _KINDS.get(subtype, "Annotation"))
        if label and label not in out:
            out.append(label)
    return out


def _page_text(page, watcher: _LimitWatcher) -> tuple[str, str]:
    """The page's text layer with its added labels, and the labels alone."""
    text = page.extract_text()
    if watcher.tripped:
        raise ExtractionError(BOMB, detail=watcher.tripped)
    try:
        added = _added_text(page)
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError):
        added = []  # the page's own text stands without its annotations
    labels_text = clean_text("\n".join(added))
    return clean_text("\n".join([text.rstrip(), labels_text]) if added else text), labels_text


def _read_pages(reader: PdfReader, watcher: _LimitWatcher) -> Extracted:
    pages: list[tuple[int, str]] = []
    unread: dict[int, str] = {}
    added: dict[int, str] = {}
    details: list[str] = []
    for number, page in enumerate(reader.pages, 1):
        try:
            text, labels_text = _page_text(page, watcher)
            pages.append((number, text))
            if labels_text:
                added[number] = labels_text
        except LimitReachedError as exc:
            if is_bomb(str(exc)):
                raise ExtractionError(BOMB, detail=technical(exc)) from exc
            pages.append((number, ""))
            unread[number] = PAGE_UNREADABLE
            details.append(f"page {number}: {technical(exc)}")
        except (ExtractionError, MemoryError):
            raise
        except Exception as exc:  # pypdf raises anything on a broken page
            pages.append((number, ""))
            unread[number] = PAGE_UNREADABLE
            details.append(f"page {number}: {technical(exc)}")
    if not pages:
        raise ExtractionError(DAMAGED, detail="no page could be found")
    if len(unread) == len(pages):
        reason = UNKNOWN_CIPHER if _encrypted(reader) else DAMAGED
        raise ExtractionError(reason, detail=joined(*details))
    return Extracted(pages=pages, page_label="page", unread=unread, detail=joined(*details),
                     added=added)


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
            result = _read_pages(reader, watcher)
            result.title = _meta(reader, "title")
            result.author = _meta(reader, "author")
            result.created = _created(reader)
            return result
        except LimitReachedError as exc:
            reason = BOMB if is_bomb(str(exc)) else DAMAGED
            raise ExtractionError(reason, detail=technical(exc)) from exc
        except FileNotDecryptedError as exc:
            raise ExtractionError(ENCRYPTED, detail=technical(exc)) from exc
        except (ExtractionError, MemoryError):
            raise
        except Exception as exc:  # PdfReadError, or anything pypdf trips on
            raise ExtractionError(DAMAGED, detail=technical(exc)) from exc
