"""Text and metadata from uploaded files: the registry of formats and the public API.

    mime = check_type(path, original_name)     # Rejected(reason) if unsupported / misnamed
    result = extract(path, mime)               # in a limited child process
    result.pages -> [(1, "text of page 1"), ...]

extract() raises ExtractionError(reason) for anything that stops the text being read;
`reason` is a sentence for users. extract_inline() does the same work in this process
(tests, tools); only extract() protects the caller from a hostile file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import docx, email, image, pdf, pdfium, text
from .batch import run_each
from .sandbox import failure_reason, memory_reason, run_limited, warm_up
from .types import (
    DOCX,
    EMAIL,
    IMAGES,
    JPEG,
    KNOWN,
    PAGED,
    PDF,
    PNG,
    TEXT,
    TIFF,
    Attachment,
    Extracted,
    ExtractionError,
    Rejected,
    check_type,
    detect_mime,
)
from .zipcheck import ZipLimits

__all__ = [
    "IMAGES",
    "PAGED",
    "SUPPORTED",
    "Attachment",
    "Extracted",
    "ExtractionError",
    "Format",
    "Rejected",
    "ZipLimits",
    "check_type",
    "detect_mime",
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


def read_pdf(path: str, first: str = "pdfium") -> Extracted:
    """The PDF's text by the `first` reader, or by the other when the first fails or finds
    no text at all (a font without a Unicode map reads differently in each)."""
    first = first if first in PDF_READERS else "pdfium"  # a mistyped setting reads anyway
    order = [first] + [name for name in PDF_READERS if name != first]
    result: Extracted | None = None
    for name in order:
        try:
            candidate = PDF_READERS[name](path)
        except ExtractionError as error:
            if error.reason == pdf.BOMB or (name == order[-1] and result is None):
                raise  # a bomb named by pypdf's caps is not handed to uncapped PDFium
            continue
        if any(text.strip() for _, text in candidate.pages):
            return candidate
        result = result or candidate
    assert result is not None
    return result


SUPPORTED: dict[str, Format] = {
    PDF: _format(PDF, read_pdf),
    DOCX: _format(DOCX, docx.extract),
    TEXT: _format(TEXT, text.extract),
    EMAIL: _format(EMAIL, email.extract),
    PNG: _format(PNG, image.extract),
    JPEG: _format(JPEG, image.extract),
    TIFF: _format(TIFF, image.extract),
}


def extract_inline(path: str, mime: str, *, zip_limits: ZipLimits | None = None,
                   pdf_text: str = "pdfium") -> Extracted:
    """Extract in this process. Every failure but MemoryError becomes ExtractionError.

    Unprotected: PDFium reads a PDF decompression bomb whole (pypdf's caps refuse it)."""
    fmt = SUPPORTED.get(mime)
    if fmt is None:
        raise ExtractionError(f"Files of type {mime} cannot be read.")
    try:
        if mime == DOCX:
            return docx.extract(path, zip_limits)
        if mime == PDF:
            return read_pdf(path, pdf_text)
        return fmt.extractor(path)
    except (ExtractionError, MemoryError):
        raise
    except Exception as exc:  # a parser bug or a file it chokes on
        raise ExtractionError(failure_reason(exc)) from exc


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
