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

from . import docx, email, pdf, text
from .sandbox import failure_reason, run_limited, warm_up
from .types import (
    DOCX,
    EMAIL,
    KNOWN,
    PDF,
    TEXT,
    Attachment,
    Extracted,
    ExtractionError,
    Rejected,
    check_type,
    detect_mime,
)
from .zipcheck import ZipLimits

__all__ = [
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


SUPPORTED: dict[str, Format] = {
    PDF: _format(PDF, pdf.extract),
    DOCX: _format(DOCX, docx.extract),
    TEXT: _format(TEXT, text.extract),
    EMAIL: _format(EMAIL, email.extract),
}


def extract_inline(path: str, mime: str, *, zip_limits: ZipLimits | None = None) -> Extracted:
    """Extract in this process. Every failure but MemoryError becomes ExtractionError."""
    fmt = SUPPORTED.get(mime)
    if fmt is None:
        raise ExtractionError(f"Files of type {mime} cannot be read.")
    try:
        if mime == DOCX:
            return docx.extract(path, zip_limits)
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
) -> Extracted:
    """Extract in a fresh child process limited to `cpu_seconds` of CPU and `memory_mb`
    of address space (and 3 x cpu_seconds of wall-clock time unless `wall_seconds`)."""
    return run_limited(
        extract_inline,
        path,
        mime,
        zip_limits=zip_limits,
        cpu_seconds=cpu_seconds,
        memory_mb=memory_mb,
        wall_seconds=wall_seconds,
    )
