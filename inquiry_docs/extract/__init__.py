"""Text and metadata from uploaded files: the registry of formats and the public API.

    mime = check_type(path, original_name)     # Rejected(reason) if unsupported / misnamed
    result = extract(path, mime)               # in a limited child process
    result.pages -> [(1, "text of page 1"), ...]

extract() raises ExtractionError(reason) for anything that stops the text being read;
`reason` is a sentence for users in plain words, `detail` the technical cause (for the log
and admins). extract_inline() does the same work in this process (tests, tools); only
extract() protects the caller from a hostile file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from . import docx, email, image, mbox, msg, pdf, pdfium, text
from .batch import run_each
from .checks import MSG_NEEDS_EXTRA, Accepted, accepted_formats, check_type, detect_mime
from .reasons import UNREADABLE, joined, technical
from .sandbox import memory_reason, run_limited, warm_up
from .types import (
    DOCM,
    DOCX,
    DOTM,
    DOTX,
    EMAIL,
    IMAGES,
    JPEG,
    KNOWN,
    MBOX,
    MSG,
    PAGED,
    PDF,
    PNG,
    TEXT,
    TIFF,
    WORD,
    Attachment,
    Extracted,
    ExtractionError,
    Rejected,
)
from .zipcheck import ZipLimits

__all__ = [
    "IMAGES",
    "PAGED",
    "SUPPORTED",
    "WORD",
    "Accepted",
    "Attachment",
    "Extracted",
    "ExtractionError",
    "Format",
    "Rejected",
    "ZipLimits",
    "accepted_formats",
    "check_type",
    "detect_mime",
    "extension_for",
    "extract",
    "extract_inline",
    "extract_many",
    "read_pdf",
    "warm_up",
]


@dataclass(frozen=True)
class Format:
    name: str
    extensions: frozenset[str]
    extractor: Callable[[str], Extracted]


def _format(mime: str, extractor: Callable[[str], Extracted]) -> Format:
    name, extensions = KNOWN[mime]
    return Format(name, extensions, extractor)


# PDF text layer readers; PDF_TEXT names the first, the other is its fallback.
PDF_READERS: dict[str, Callable[[str], Extracted]] = {"pdfium": pdfium.extract,
                                                     "pypdf": pdf.extract}


def _has_text(result: Extracted) -> bool:
    """Has any page a text layer? (Annotations alone do not make one.)"""
    return len(result.without_layer()) < len(result.pages)


def _fill_unread(result: Extracted, other: Extracted) -> Extracted:
    """Pages the first reader could not read, taken from the other where it read them."""
    if len(other.pages) != len(result.pages):
        return result
    texts = dict(other.pages)
    for number in [n for n in result.unread if texts.get(n, "").strip()]:
        result.pages[number - 1] = (number, texts[number])
        if number in other.added:
            result.added[number] = other.added[number]
        del result.unread[number]
    return result


def read_pdf(path: str, first: str = "pdfium") -> Extracted:
    """The PDF's text by the `first` reader, or by the other when the first fails or finds
    no text at all (a font without a Unicode map reads differently in each).

    The fallback's failure never overrides what the first reader found: when PDFium read
    the file and found no text, that is the outcome (no text), even if pypdf then trips
    one of its own limits; when both fail, the first reader's reason is given."""
    first = first if first in PDF_READERS else "pdfium"  # a mistyped setting reads anyway
    order = [first] + [name for name in PDF_READERS if name != first]
    result: Extracted | None = None
    failure: ExtractionError | None = None
    details: list[str] = []
    for name in order:
        try:
            candidate = PDF_READERS[name](path)
        except ExtractionError as error:
            details.append(f"{name}: {error.detail or error.reason}")
            if error.reason == pdf.BOMB and name == order[0]:
                raise  # a bomb named by pypdf's caps is not handed to uncapped PDFium
            failure = failure or error
            continue
        if candidate.detail:
            details.append(f"{name}: {candidate.detail}")
        if _has_text(candidate):
            if candidate.unread and result is None and name != order[-1]:
                # If the other reader fails too, the pages stay unread as first found.
                with contextlib.suppress(ExtractionError):
                    _fill_unread(candidate, PDF_READERS[order[-1]](path))
            candidate.detail = joined(*details)
            return candidate
        result = result or candidate
    if result is not None:
        result.detail = joined(*details)
        return result
    assert failure is not None
    raise ExtractionError(failure.reason, failure.retryable, joined(*details))


SUPPORTED: dict[str, Format] = {
    PDF: _format(PDF, read_pdf),
    DOCX: _format(DOCX, docx.extract),
    DOTX: _format(DOTX, docx.extract),
    DOCM: _format(DOCM, docx.extract),
    DOTM: _format(DOTM, docx.extract),
    TEXT: _format(TEXT, text.extract),
    EMAIL: _format(EMAIL, email.extract),
    MBOX: _format(MBOX, mbox.extract),
    PNG: _format(PNG, image.extract),
    JPEG: _format(JPEG, image.extract),
    TIFF: _format(TIFF, image.extract),
}
# Optional formats register only when their library is installed (a lookup, no import).
if msg.available():
    SUPPORTED[MSG] = _format(MSG, msg.extract)


def extension_for(mime: str) -> str:
    """The usual extension of a supported type (".docm"), or "" for others."""
    extensions = KNOWN.get(mime, ("", frozenset()))[1]
    preferred = {TEXT: ".txt", JPEG: ".jpg", TIFF: ".tif"}
    return preferred.get(mime) or (sorted(extensions)[0] if extensions else "")


def extract_inline(path: str, mime: str, *, zip_limits: ZipLimits | None = None,
                   pdf_text: str = "pdfium") -> Extracted:
    """Extract in this process. Every failure but MemoryError becomes ExtractionError,
    with a reason in plain words (the exception itself is kept as the detail).

    Unprotected: PDFium reads a PDF decompression bomb whole (pypdf's caps refuse it)."""
    fmt = SUPPORTED.get(mime)
    if fmt is None:
        if mime == MSG:
            raise ExtractionError(MSG_NEEDS_EXTRA)
        raise ExtractionError(f"Files of type {mime} cannot be read.")
    try:
        if mime in WORD:
            return docx.extract(path, zip_limits)
        if mime == PDF:
            return read_pdf(path, pdf_text)
        return fmt.extractor(path)
    except (ExtractionError, MemoryError):
        raise
    except Exception as exc:  # a parser bug or a file it chokes on
        raise ExtractionError(UNREADABLE, detail=technical(exc)) from exc


def extract(
    path: str,
    mime: str,
    *,
    cpu_seconds: int = 120,
    memory_mb: int = 1024,
    zip_limits: ZipLimits | None = None,
    wall_seconds: float | None = None,
    pdf_text: str = "pdfium",
) -> Extracted:
    """Extract in a fresh child process limited to `cpu_seconds` of CPU and `memory_mb`
    of address space (and 3 x cpu_seconds of wall-clock time unless `wall_seconds`)."""
    limits = {"cpu_seconds": cpu_seconds, "memory_mb": memory_mb, "wall_seconds": wall_seconds}
    try:
        return run_limited(extract_inline, path, mime, zip_limits=zip_limits,
                           pdf_text=pdf_text, **limits)
    except ExtractionError as error:
        # PDFium has no stream caps: a bomb ends its child at the memory limit. pypdf, in
        # a child of its own, then reads what it can or names the bomb for what it is.
        if mime != PDF or pdf_text == "pypdf" or error.reason != memory_reason(memory_mb):
            raise
        return run_limited(extract_inline, path, mime, pdf_text="pypdf", **limits)


def extract_many(
    files: list[tuple[str, str]],
    *,
    cpu_seconds: int = 120,
    memory_mb: int = 1024,
    zip_limits: ZipLimits | None = None,
    wall_seconds: float | None = None,
    pdf_text: str = "pdfium",
) -> list[Extracted | ExtractionError]:
    """extract() for each (path, mime), several files to a child (see batch.py): the text,
    or the ExtractionError with its reason, for each file in order."""
    options = {"zip_limits": zip_limits, "pdf_text": pdf_text}
    limits = {"cpu_seconds": cpu_seconds, "memory_mb": memory_mb, "wall_seconds": wall_seconds}

    def alone(number: int) -> Extracted:
        path, mime = files[number]
        return extract(path, mime, **options, **limits)  # type: ignore[arg-type]

    return run_each(extract_inline, [((path, mime), options) for path, mime in files],
                    alone=alone, **limits)
