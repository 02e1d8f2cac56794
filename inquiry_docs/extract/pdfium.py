"""PDF text with PDFium (pypdfium2): the fast path, about 20 times pypdf's speed here.

Each page's text layer, then the text people added on top of it: filled-in form fields
and annotations with text (FreeText boxes, sticky notes, comments on highlights), each
labelled (extract/labels.py) at the end of its page. A page PDFium cannot load is left
without text and named in `unread`; the other pages are still read.

PDFium has no cap on decompressed streams: a decompression bomb meets the sandbox's memory
limit instead, and extract() then asks pypdf, whose caps name the bomb (see __init__).
"""

from __future__ import annotations

import contextlib
import ctypes
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pypdfium2 as pdfium
import pypdfium2.raw as raw

from . import labels
from .pdf import DAMAGED, ENCRYPTED, UNKNOWN_CIPHER
from .reasons import PAGE_UNREADABLE, joined, technical
from .types import Extracted, ExtractionError, clean_meta, clean_text

_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?")
# PDFium marks a hyphen at a line end it considers soft with U+FFFE or U+0002.
_SOFT_HYPHENS = str.maketrans({"\ufffe": "", "\x02": ""})
_NO_TEXT_ANNOTS = {raw.FPDF_ANNOT_POPUP, raw.FPDF_ANNOT_LINK, raw.FPDF_ANNOT_WIDGET}
_KINDS = {raw.FPDF_ANNOT_TEXT: "Note", raw.FPDF_ANNOT_FREETEXT: "Annotation"}
_VALUE_FIELDS = {raw.FPDF_FORMFIELD_TEXTFIELD, raw.FPDF_FORMFIELD_COMBOBOX,
                 raw.FPDF_FORMFIELD_LISTBOX}
_CHOICE_FIELDS = {raw.FPDF_FORMFIELD_CHECKBOX, raw.FPDF_FORMFIELD_RADIOBUTTON}
_MAX_CHARS = 1_000_000  # a string value longer than this is not a note anyone wrote


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
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ExtractionError(ENCRYPTED, detail=technical(exc)) from exc
        if "security" in message:
            raise ExtractionError(UNKNOWN_CIPHER, detail=technical(exc)) from exc
        raise ExtractionError(DAMAGED, detail=technical(exc)) from exc
    # Before any page is loaded, so fields have their values; without forms the text
    # layer is still there to read.
    with contextlib.suppress(pdfium.PdfiumError):
        pdf.init_forms()
    return pdf


def _utf16(getter: Callable[..., int], *args: object) -> str:
    """A string from one of PDFium's two-call UTF-16 getters ("" when absent)."""
    size = getter(*args, None, 0)
    if size <= 2 or size > 2 * _MAX_CHARS:
        return ""
    buffer = ctypes.create_string_buffer(size)
    getter(*args, ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ushort)), size)
    return buffer.raw[: size - 2].decode("utf-16-le", "replace")


def _field(form: object, annot: object) -> str | None:
    kind = raw.FPDFAnnot_GetFormFieldType(form, annot)
    if kind in _VALUE_FIELDS:
        value = _utf16(raw.FPDFAnnot_GetFormFieldValue, form, annot)
    elif kind in _CHOICE_FIELDS and raw.FPDFAnnot_IsChecked(form, annot):
        value = _utf16(raw.FPDFAnnot_GetFormFieldExportValue, form, annot) or "Yes"
    else:
        return None
    if not value.strip():
        return None
    return labels.form_field(_utf16(raw.FPDFAnnot_GetFormFieldName, form, annot), value)


def _annotation(annot: object, subtype: int) -> str | None:
    if subtype in _NO_TEXT_ANNOTS:
        return None
    contents = _utf16(raw.FPDFAnnot_GetStringValue, annot, b"Contents")
    if not contents.strip():
        return None
    author = _utf16(raw.FPDFAnnot_GetStringValue, annot, b"T")
    return labels.annotation(contents, author, _KINDS.get(subtype, "Annotation"))


def _added_text(pdf: pdfium.PdfDocument, page: pdfium.PdfPage) -> list[str]:
    """Labelled form field values and annotation texts of the page, each once, in order."""
    form = pdf.formenv.raw if pdf.formenv else None
    out: list[str] = []
    for index in range(raw.FPDFPage_GetAnnotCount(page.raw)):
        annot = raw.FPDFPage_GetAnnot(page.raw, index)
        if not annot:
            continue
        try:
            subtype = raw.FPDFAnnot_GetSubtype(annot)
            if subtype == raw.FPDF_ANNOT_WIDGET:
                label = _field(form, annot) if form is not None else None
            else:
                label = _annotation(annot, subtype)
        finally:
            raw.FPDFPage_CloseAnnot(annot)
        if label and label not in out:
            out.append(label)
    return out


def _page_text(pdf: pdfium.PdfDocument, index: int) -> tuple[str, str]:
    """The page's text layer with its added labels, and the labels alone."""
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            text = textpage.get_text_range()
        finally:
            textpage.close()
        added = _added_text(pdf, page)
    finally:
        page.close()
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_SOFT_HYPHENS)
    labels_text = clean_text("\n".join(added))
    return clean_text("\n".join([text.rstrip(), labels_text]) if added else text), labels_text


def extract(path: str) -> Extracted:
    pdf = _open(path)
    pages: list[tuple[int, str]] = []
    unread: dict[int, str] = {}
    added: dict[int, str] = {}
    details: list[str] = []
    try:
        for index in range(len(pdf)):
            try:
                text, labels_text = _page_text(pdf, index)
                pages.append((index + 1, text))
                if labels_text:
                    added[index + 1] = labels_text
            except pdfium.PdfiumError as exc:  # one bad page: the others are still read
                pages.append((index + 1, ""))
                unread[index + 1] = PAGE_UNREADABLE
                details.append(f"page {index + 1}: {technical(exc)}")
        meta = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    if len(unread) == len(pages):  # every page, or none to read
        raise ExtractionError(DAMAGED, detail=joined(*details) or "no page could be found")
    return Extracted(pages=pages, page_label="page", title=clean_meta(meta.get("Title")),
                     author=clean_meta(meta.get("Author")),
                     created=_date(meta.get("CreationDate")), unread=unread,
                     detail=joined(*details), added=added)
