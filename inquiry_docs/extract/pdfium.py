"""PDF text with PDFium (pypdfium2): the fast path, about 20 times pypdf's speed here.

PDFium has no cap on decompressed streams: a decompression bomb meets the sandbox's memory
limit instead, and extract() then asks pypdf, whose caps name the bomb (see __init__).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pypdfium2 as pdfium

from .pdf import DAMAGED, ENCRYPTED, UNKNOWN_CIPHER
from .types import Extracted, ExtractionError, clean_meta, clean_text

_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")
# PDFium marks a hyphen at a line end it considers soft with U+FFFE or U+0002.
_SOFT_HYPHENS = str.maketrans({"\ufffe": "", "\x02": ""})


def _date(value: str | None) -> datetime | None:
    match = _PDF_DATE.match(value or "")
    if not match:
        return None
    parts = [int(p) if p else d for p, d in zip(match.groups(), (0, 1, 1, 0, 0, 0),
                                                 strict=True)]
    try:
        return datetime(*parts, tzinfo=UTC)
    except ValueError:
        return None  # dates in the wild are often malformed


def _open(path: str) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ExtractionError(ENCRYPTED) from exc
        if "security" in message:
            raise ExtractionError(UNKNOWN_CIPHER) from exc
        raise ExtractionError(DAMAGED) from exc


def _page_text(pdf: pdfium.PdfDocument, index: int) -> str:
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
    finally:
        page.close()
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_SOFT_HYPHENS)
    return clean_text(text)


def extract(path: str) -> Extracted:
    pdf = _open(path)
    try:
        pages = [(index + 1, _page_text(pdf, index)) for index in range(len(pdf))]
        meta = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    return Extracted(pages=pages, page_label="page", title=clean_meta(meta.get("Title")),
                     author=clean_meta(meta.get("Author")),
                     created=_date(meta.get("CreationDate")))
