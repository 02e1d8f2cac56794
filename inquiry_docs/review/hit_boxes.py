"""Where a search's words are on the page images: a box over each matching word, from the
word positions kept for redaction (PDFium's character boxes, or Tesseract's for scans).

For a reader of a redacted release, a word under any redaction box (proposed or approved,
as for the text) is never boxed and never counted, so the image tells no more than the
redacted text does. Reading positions of an OCR page means running Tesseract again
(seconds a page), so only the page a hit link names is read that way; other OCR pages
get boxes once their positions are kept.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from ..access import permissions
from ..evidence import page_words
from ..evidence.page_words import ExtractionError, PageWords
from ..models import Document, Page, User
from ..search.snippets import match_spans
from . import redactions as redactions_
from .redacted import hidden

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Shown:
    """The hit boxes of each page, fractions of the page from its top left corner, and the
    shape (width over height) of each page whose words are known, so that its image keeps
    its space before it loads and a page reached by a link stays where the link put it."""

    boxes: dict[int, tuple[Box, ...]] = field(default_factory=dict)
    ratios: dict[int, float] = field(default_factory=dict)


def matching_boxes(words: PageWords, terms: set[str], tokenize: Callable[[str], Iterable],
                   covered: Sequence[Box] = ()) -> list[Box]:
    """The boxes of the words that hold a search term, leaving out any under `covered`."""
    shown = [w for w in words.words if not hidden(w, covered)]
    starts, parts, at = [], [], 0
    for word in shown:
        starts.append(at)
        parts.append(word.text)
        at += len(word.text) + 1
    found: list[int] = []
    for start, _ in match_spans(" ".join(parts), terms, tokenize):
        index = bisect_right(starts, start) - 1
        if index >= 0 and (not found or found[-1] != index):
            found.append(index)
    return [shown[i].box for i in found]


def for_pages(user: User | None, document: Document, pages: Sequence[Page], marked: set[int],
              terms: set[str], tokenize: Callable[[str], Iterable], at: int | None = None
              ) -> Shown:
    """The hit boxes of the `marked` pages (those with marks in their text) for this user,
    and the shapes of the pages. Positions already kept are used for every page; with a
    search, the pages not read by OCR, and the page the hit link names, are read now."""
    numbers = [p.number for p in pages]
    read = [p.number for p in pages if not p.ocr or p.number == at] if terms else []
    try:
        found = page_words.kept(document, numbers)
        missing = [n for n in read if n not in found]
        if missing:
            found.update(page_words.words(document, missing))
    except ExtractionError:
        return Shown()
    shown = Shown(ratios={n: w.width / max(w.height, 1.0) for n, w in found.items()})
    marked = marked & found.keys()
    if not terms or not marked:
        return shown
    covered: dict[int, list[Box]] = {}
    if not permissions.sees_original(user, document):
        for r in redactions_.of_document(document.id):
            covered.setdefault(r.page, []).append(r.box)
    for number in sorted(marked):
        boxes = matching_boxes(found[number], terms, tokenize, covered.get(number, ()))
        if boxes:
            shown.boxes[number] = tuple(boxes)
    return shown
