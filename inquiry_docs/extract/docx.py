"""DOCX text in reading order: body paragraphs and tables interleaved, headers first,
footers last. Pages follow the page breaks the file records; without any, the text is
cut into numbered sections of about 3,000 characters.

The ZIP is checked (sizes, ratios, paths, DOCTYPEs) before python-docx opens it.
"""

from __future__ import annotations

import zipfile
from datetime import datetime

import docx
from docx.opc.exceptions import PackageNotFoundError
from lxml import etree

from .text import pack
from .types import Extracted, ExtractionError, clean_meta, clean_text
from .zipcheck import ZipLimits, check_zip

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_BREAK = "\f"  # page-break marker inside extracted lines; XML 1.0 text cannot contain it
_NOT_PAGE_SECTIONS = {"continuous", "nextColumn"}

# Run-level elements that stand for characters.
_CHARS = {f"{W}tab": "\t", f"{W}ptab": "\t", f"{W}cr": "\n", f"{W}noBreakHyphen": "-"}
# Subtrees without reading text: properties, deleted text, field codes, duplicate fallbacks.
_SKIP = {f"{W}pPr", f"{W}rPr", f"{W}delText", f"{W}instrText", f"{W}del", _FALLBACK}

DAMAGED = "The DOCX is damaged and could not be read."


def _on(element: etree._Element | None) -> bool:
    return element is not None and element.get(f"{W}val", "true") not in {"0", "false", "off"}


def _inline(element: etree._Element, pieces: list[str]) -> None:
    """Append the text of runs under `element` to `pieces`, in document order."""
    for child in element:
        tag = child.tag
        if tag == f"{W}t":
            pieces.append(child.text or "")
        elif tag in _CHARS:
            pieces.append(_CHARS[tag])
        elif tag == f"{W}br":
            pieces.append(_BREAK if child.get(f"{W}type") == "page" else "\n")
        elif tag == f"{W}lastRenderedPageBreak":
            pieces.append(_BREAK)
        elif tag == f"{W}p":  # a paragraph inside a text box
            pieces.append("\n")
            _inline(child, pieces)
        elif tag not in _SKIP and isinstance(tag, str):
            _inline(child, pieces)


def _paragraph(p: etree._Element) -> str:
    pieces: list[str] = []
    ppr = p.find(f"{W}pPr")
    if ppr is not None and _on(ppr.find(f"{W}pageBreakBefore")):
        pieces.append(_BREAK)
    _inline(p, pieces)
    sect = ppr.find(f"{W}sectPr") if ppr is not None else None
    if sect is not None:  # a section break ends this paragraph; most start a new page
        kind = sect.find(f"{W}type")
        if kind is None or kind.get(f"{W}val") not in _NOT_PAGE_SECTIONS:
            pieces.append(_BREAK)
    return "".join(pieces)


def _rows(table: etree._Element) -> list[etree._Element]:
    rows = []
    for child in table:
        if child.tag == f"{W}tr":
            rows.append(child)
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            rows.extend(content.iterchildren(f"{W}tr") if content is not None else ())
    return rows


def _table(table: etree._Element, lines: list[str]) -> None:
    """One line per row, cells separated by " | "; a break inside a row goes before it."""
    for row in _rows(table):
        cells = []
        for cell in row.iterchildren(f"{W}tc"):
            cell_lines: list[str] = []
            _blocks(cell, cell_lines)
            cells.append(" ".join(cell_lines))
        line = " | ".join(c.replace(_BREAK, "").strip() for c in cells)
        lines.append(_BREAK + line if any(_BREAK in c for c in cells) else line)


def _blocks(container: etree._Element, lines: list[str]) -> None:
    """Lines of the paragraphs and tables in `container`, in reading order."""
    for child in container:
        if child.tag == f"{W}p":
            lines.append(_paragraph(child))
        elif child.tag == f"{W}tbl":
            _table(child, lines)
        elif child.tag == f"{W}sdt":
            content = child.find(f"{W}sdtContent")
            if content is not None:
                _blocks(content, lines)
        elif child.tag == f"{W}customXml":
            _blocks(child, lines)


def _headers_footers(document: docx.document.Document) -> tuple[list[str], list[str]]:
    """Text of every distinct header and footer defined in the file (each once)."""
    headers: list[str] = []
    footers: list[str] = []
    for section in document.sections:
        for kinds, out in (
            ((section.first_page_header, section.header, section.even_page_header), headers),
            ((section.first_page_footer, section.footer, section.even_page_footer), footers),
        ):
            for part in kinds:
                if part.is_linked_to_previous:
                    continue  # no definition of its own; reading would create one
                lines: list[str] = []
                _blocks(part.part.element, lines)
                for line in lines:
                    line = line.replace(_BREAK, "")
                    if line.strip() and line not in out:
                        out.append(line)
    return headers, footers


def _by_breaks(lines: list[str]) -> list[str]:
    pages: list[list[str]] = [[]]
    for line in lines:
        first, *rest = line.split(_BREAK)
        if first.strip():
            pages[-1].append(first)
        for segment in rest:
            if pages[-1]:  # Word often records one break twice (hard + rendered)
                pages.append([])
            if segment.strip():
                pages[-1].append(segment)
    return ["\n".join(page) for page in pages]


def _paginate(lines: list[str], headers: list[str], footers: list[str]) -> tuple[list[str], str]:
    if any(_BREAK in line for line in lines):
        pages = _by_breaks(lines)
        if headers:
            pages[0] = "\n".join([*headers, pages[0]])
        if footers:
            pages[-1] = "\n".join([pages[-1], *footers])
        return pages, "page"
    units = [line + "\n" for line in [*headers, *lines, *footers] if line.strip()]
    return pack(units) or [""], "section"


def _created(document: docx.document.Document) -> datetime | None:
    try:
        return document.core_properties.created
    except (ValueError, TypeError):
        return None


def _open(path: str) -> docx.document.Document:
    try:
        return docx.Document(path)
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        etree.XMLSyntaxError,
    ) as exc:
        raise ExtractionError(DAMAGED) from exc


def extract(path: str, limits: ZipLimits | None = None) -> Extracted:
    check_zip(path, limits)
    document = _open(path)
    lines: list[str] = []
    _blocks(document.element.body, lines)
    headers, footers = _headers_footers(document)
    pages, label = _paginate(lines, headers, footers)
    props = document.core_properties
    return Extracted(
        pages=[(n, clean_text(text.rstrip())) for n, text in enumerate(pages, 1)],
        page_label=label,
        title=clean_meta(props.title),
        author=clean_meta(props.author),
        created=_created(document),
    )
