"""Word documents (.docx, .docm, .dotx, .dotm: the same XML) in reading order.

Body paragraphs and tables interleaved, with the text of content controls and text boxes
(DrawingML or VML) where they stand; headers first, footers last. Footnotes and comments
are added, labelled, at the end of the page that refers to them ("[Footnote 1: ...]",
"[Comment by A. Smith: ...]"); endnotes at the end of the document, where Word prints
them. Pages follow the page breaks the file records; without any, the text is cut into
numbered sections of about 3,000 characters and every note goes at the end of the
document (its page is not known).

The ZIP is checked (sizes, ratios, paths, DOCTYPEs) before any part is parsed; only the
XML parts holding text are read (extract/ooxml.py), so a missing image or an embedded
object never stops the text.
"""

from __future__ import annotations

import re
import zipfile
import zlib

from lxml import etree

from . import labels
from .ooxml import Package, PartMissing, core_properties
from .reasons import joined, technical
from .text import pack
from .types import Extracted, ExtractionError, clean_meta, clean_text
from .zipcheck import ZipLimits, check_zip

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
M = "{http://schemas.openxmlformats.org/officeDocument/2006/math}"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
_BREAK = "\f"  # page-break marker inside extracted lines; XML 1.0 text cannot contain it
# Note references inside lines: \x0e kind id \x0f (also impossible in XML 1.0 text).
_REF = re.compile(r"\x0e([FEC])(-?\d+)\x0f")
_NOT_PAGE_SECTIONS = {"continuous", "nextColumn"}

# Run-level elements that stand for characters.
_CHARS = {f"{W}tab": "\t", f"{W}ptab": "\t", f"{W}cr": "\n", f"{W}noBreakHyphen": "-",
          f"{W}softHyphen": ""}
_REFS = {f"{W}footnoteReference": "F", f"{W}endnoteReference": "E",
         f"{W}commentReference": "C"}
# Subtrees without reading text: properties, deleted or moved-away text, field codes,
# duplicate fallbacks (the VML copy of a DrawingML text box).
_SKIP = {f"{W}pPr", f"{W}rPr", f"{W}delText", f"{W}instrText", f"{W}del", f"{W}moveFrom",
         f"{W}sdtPr", f"{W}sdtEndPr", f"{W}tblPr", f"{W}trPr", f"{W}tcPr", f"{W}sectPr",
         _FALLBACK}

DAMAGED = "The Word document is damaged and could not be read."


def _on(element: etree._Element | None) -> bool:
    return element is not None and element.get(f"{W}val", "true") not in {"0", "false", "off"}


def _placeholder(sdt: etree._Element) -> bool:
    # A content control still showing its prompt ("Click or tap here to enter text.").
    props = sdt.find(f"{W}sdtPr")
    return props is not None and _on(props.find(f"{W}showingPlcHdr"))


def _inline(element: etree._Element, pieces: list[str]) -> None:
    """Append the text of runs under `element` to `pieces`, in document order."""
    for child in element:
        tag = child.tag
        if tag == f"{W}t" or tag == f"{M}t":
            pieces.append(child.text or "")
        elif tag in _CHARS:
            pieces.append(_CHARS[tag])
        elif tag == f"{W}br":
            pieces.append(_BREAK if child.get(f"{W}type") == "page" else "\n")
        elif tag == f"{W}lastRenderedPageBreak":
            pieces.append(_BREAK)
        elif tag in _REFS:
            pieces.append(f"\x0e{_REFS[tag]}{child.get(f'{W}id', '')}\x0f")
        elif tag == f"{W}txbxContent":  # a text box: its own paragraphs and tables
            lines: list[str] = []
            _blocks(child, lines)
            pieces.append("\n" + "\n".join(line.replace(_BREAK, "") for line in lines) + "\n")
        elif tag == f"{W}p":  # a paragraph met inside runs (a shape's text)
            pieces.append("\n")
            _inline(child, pieces)
        elif tag == f"{W}sdt" and _placeholder(child):
            continue
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
    # Text boxes bring line breaks of their own: no empty lines (a break marker stays).
    lines = "".join(pieces).split("\n")
    return "\n".join(line for line in lines if line.strip() or _BREAK in line)


def _content(element: etree._Element, tag: str) -> list[etree._Element]:
    """Children with `tag`, looking through content controls (row and cell level)."""
    out = []
    for child in element:
        if child.tag == tag:
            out.append(child)
        elif child.tag == f"{W}sdt" and not _placeholder(child):
            content = child.find(f"{W}sdtContent")
            if content is not None:
                out.extend(_content(content, tag))
        elif child.tag == f"{W}customXml":
            out.extend(_content(child, tag))
    return out


def _table(table: etree._Element, lines: list[str]) -> None:
    """One line per row, cells separated by " | "; a break inside a row goes before it."""
    for row in _content(table, f"{W}tr"):
        cells = []
        for cell in _content(row, f"{W}tc"):
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
            if content is not None and not _placeholder(child):
                _blocks(content, lines)
        elif child.tag in (f"{W}customXml", f"{W}ins", f"{W}moveTo"):
            _blocks(child, lines)


def _text_of(element: etree._Element) -> str:
    lines: list[str] = []
    _blocks(element, lines)
    text = " ".join(" ".join(line.replace(_BREAK, " ").split()) for line in lines)
    return _REF.sub("", text).strip()


class _Notes:
    """Footnotes, endnotes and comments by id, and the labels they get when referred to."""

    def __init__(self, package: Package, main: str) -> None:
        self.text: dict[str, dict[str, str]] = {"F": {}, "E": {}, "C": {}}
        self.authors: dict[str, str] = {}
        for kind, rel, tag in (("F", "footnotes", "footnote"), ("E", "endnotes", "endnote"),
                               ("C", "comments", "comment")):
            for name in package.by_type(main, rel)[:1]:
                root = package.xml(name)
                for note in root.iterchildren(f"{W}{tag}") if root is not None else ():
                    if note.get(f"{W}type") in ("separator", "continuationSeparator",
                                                "continuationNotice"):
                        continue
                    note_id = note.get(f"{W}id", "")
                    self.text[kind][note_id] = _text_of(note)
                    if kind == "C":
                        self.authors[note_id] = note.get(f"{W}author", "")
        self.used: set[tuple[str, str]] = set()
        self.numbers = {"F": 0, "E": 0}

    def label(self, kind: str, note_id: str) -> str | None:
        """The labelled note, the first time it is referred to; None after or if empty."""
        text = self.text[kind].get(note_id, "")
        if (kind, note_id) in self.used or not text:
            return None
        self.used.add((kind, note_id))
        if kind == "C":
            return labels.comment(text, self.authors.get(note_id, ""))
        self.numbers[kind] += 1
        return labels.note("Footnote" if kind == "F" else "Endnote", self.numbers[kind], text)

    def unreferenced(self) -> list[str]:
        """Labels for notes and comments no text referred to (kept, at the end)."""
        out = []
        for kind in ("F", "E", "C"):
            for note_id in self.text[kind]:
                label = self.label(kind, note_id)
                if label:
                    out.append(label)
        return out


def _split_refs(text: str, notes: _Notes) -> tuple[str, list[str], list[str]]:
    """The text without note markers; labels for the page's footnotes and comments, and
    for the endnotes (which go at the end of the document)."""
    here: list[str] = []
    at_end: list[str] = []
    for match in _REF.finditer(text):
        kind, note_id = match.groups()
        label = notes.label(kind, note_id)
        if label:
            (at_end if kind == "E" else here).append(label)
    return _REF.sub("", text), here, at_end


def _headers_footers(package: Package, body: etree._Element,
                     main: str) -> tuple[list[str], list[str]]:
    """Text of every distinct header and footer the sections refer to (each line once)."""
    rels = package.relationships(main)
    headers: list[str] = []
    footers: list[str] = []
    seen: set[str] = set()
    for sect in body.iter(f"{W}sectPr"):
        for ref in sect:
            out = {f"{W}headerReference": headers, f"{W}footerReference": footers}.get(ref.tag)
            target = rels.get(ref.get(f"{R}id", ""), ("", ""))[1]
            if out is None or not target or target in seen:
                continue
            seen.add(target)
            root = package.xml(target)
            lines: list[str] = []
            if root is not None:
                _blocks(root, lines)
            for line in lines:
                line = _REF.sub("", line.replace(_BREAK, ""))
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


def _paginate(lines: list[str], headers: list[str], footers: list[str],
              notes: _Notes) -> tuple[list[str], str]:
    if any(_BREAK in line for line in lines):
        pages, endnotes = [], []
        for page in _by_breaks(lines):
            text, here, at_end = _split_refs(page, notes)
            pages.append("\n".join([text, *here]) if here else text)
            endnotes += at_end
        tail = [*endnotes, *notes.unreferenced(), *footers]
        if headers:
            pages[0] = "\n".join([*headers, pages[0]])
        if tail:
            pages[-1] = "\n".join([pages[-1], *tail])
        return pages, "page"
    text, here, at_end = _split_refs("\n".join(lines), notes)
    body = [*headers, *text.split("\n"), *here, *at_end, *notes.unreferenced(), *footers]
    units = [line + "\n" for line in body if line.strip()]
    return pack(units) or [""], "section"


def _read(zf: zipfile.ZipFile) -> Extracted:
    package = Package(zf)
    try:
        main = package.main_part()
    except PartMissing as exc:
        raise ExtractionError(DAMAGED, detail=technical(exc)) from exc
    root = package.xml(main)
    body = root.find(f"{W}body") if root is not None else None
    if body is None:
        raise ExtractionError(DAMAGED, detail=joined(*package.notes, f"no body in {main}"))
    notes = _Notes(package, main)
    lines: list[str] = []
    _blocks(body, lines)
    headers, footers = _headers_footers(package, body, main)
    pages, label = _paginate(lines, headers, footers, notes)
    title, author, created = core_properties(package)
    return Extracted(
        pages=[(n, clean_text(text.rstrip())) for n, text in enumerate(pages, 1)],
        page_label=label, title=clean_meta(title), author=clean_meta(author),
        created=created, detail=joined(*package.notes),
    )


def extract(path: str, limits: ZipLimits | None = None) -> Extracted:
    check_zip(path, limits)
    try:
        with zipfile.ZipFile(path) as zf:
            return _read(zf)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ExtractionError(DAMAGED, detail=technical(exc)) from exc
