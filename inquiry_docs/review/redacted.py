"""The redacted version of a document: page images with the boxes burned in, page text
without the words under a box, and a PDF made from both.

A PDF is rebuilt page by page from the page images (the original's content streams, fonts,
annotations, attachments and metadata never reach it): each box is painted into the
pixels with its reason code, and a text layer of invisible words is written back only for
the words outside every box, at their places on the page. Its bytes depend only on the
page images, the words and the redactions (fixed creation date, no producer, no random
ids), so the same input gives the same file.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

from ..access import permissions
from ..evidence import page_images, page_words
from ..evidence.page_words import ExtractionError, PageWords, Word
from ..models import Document, Redaction, User
from . import redactions as redactions_

FIXED_DATE = datetime(2000, 1, 1, tzinfo=UTC)
FOOTER_POINTS = 24.0  # a band under each page image for the stamp and the marking
WITHHELD = "The text of this page is withheld: it has redactions and no word positions."
Boxes = Sequence[tuple[float, float, float, float]]


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]
             ) -> bool:
    """Do two boxes share any area? (Touching edges do not count.)"""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def hidden(word: Word, boxes: Boxes) -> bool:
    """A word any part of which is under a box is left out whole."""
    return any(overlaps(word.box, box) for box in boxes)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def burn(image: Image.Image, redactions: Sequence[Redaction]) -> Image.Image:
    """The image with each box painted black and its reason code written in it."""
    out = image.convert("L")
    draw = ImageDraw.Draw(out)
    width, height = out.size
    for r in redactions:
        # Outwards to whole pixels: a box never leaves a sliver of what it covers.
        box = (math.floor(r.x0 * width), math.floor(r.y0 * height),
               min(width - 1, math.ceil(r.x1 * width)), min(height - 1, math.ceil(r.y1 * height)))
        draw.rectangle(box, fill=0)
        box_w, box_h = box[2] - box[0], box[3] - box[1]
        size = int(min(box_h * 0.7, 28))
        if size < 8:
            continue  # too thin for a legible code: the load file still counts it
        font = _font(size)
        label = r.code
        while label and draw.textlength(label, font=font) > box_w - 4:
            label = label[:-1]
        if label:
            draw.text((box[0] + 2, box[1] + (box_h - size) / 2), label, fill=255, font=font)
    return out


def page_png(document: Document, number: int, size: str,
             redactions: Sequence[Redaction]) -> bytes:
    """A page image with these redactions burned in, as PNG bytes (for the viewer)."""
    path = page_images.page_image(document, number, size)
    with Image.open(path) as image:
        out = burn(image, [r for r in redactions if r.page == number])
    buffer = io.BytesIO()
    out.save(buffer, "PNG")
    return buffer.getvalue()


def page_text(words: PageWords, redactions: Sequence[Redaction]) -> str:
    """The page's words line by line, each run of hidden words as [REDACTED: code]."""
    boxes = [(r, r.box) for r in redactions if r.page == words.number]
    lines: list[list[str]] = []
    current_line: int | None = None
    for word in words.words:
        if word.line != current_line:
            lines.append([])
            current_line = word.line
        covering = next((r for r, box in boxes if overlaps(word.box, box)), None)
        if covering is None:
            lines[-1].append(word.text)
            continue
        marker = f"[REDACTED: {covering.code}]"
        if not lines[-1] or lines[-1][-1] != marker:
            lines[-1].append(marker)
    return "\n".join(" ".join(line) for line in lines)


def reader_texts(document: Document, numbers: list[int],
                 redactions: Sequence[Redaction]) -> dict[int, str]:
    """For pages with redactions, the text a reader of the redacted version sees (pages
    without redactions are not in the answer: their text is shown as it is)."""
    wanted = sorted({r.page for r in redactions} & set(numbers))
    if not wanted:
        return {}
    try:
        found = page_words.words(document, wanted)
    except ExtractionError:
        found = {}
    out = {}
    for number in wanted:
        words = found.get(number)
        out[number] = page_text(words, redactions) if words and words.words else WITHHELD
    return out


def texts_for(user: User | None, document: Document, numbers: list[int]) -> dict[int, str]:
    """The text to show this user instead of the stored text, for pages that need it: only
    for a reader of a redacted release, and only pages with redactions (all of them,
    proposed or approved: a box waiting for approval still hides what it covers)."""
    if permissions.sees_original(user, document):
        return {}
    return reader_texts(document, numbers, redactions_.of_document(document.id))


def image_for(user: User | None, document: Document, number: int, size: str) -> bytes | None:
    """The page image with its redactions burned in, for a reader of a redacted release;
    None when the stored image is what this user sees."""
    if permissions.sees_original(user, document):
        return None
    return page_png(document, number, size, redactions_.of_document(document.id, page=number))


# --- the PDF -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Footer:
    """What is printed under each page: the marking in the middle, a number at the right."""

    marking: str
    number: Callable[[int], str]  # page number -> "OLD000123_0004" or "OLD000001 p. 4"


def _latin1(text: str) -> str:
    # The PDF's standard font covers Latin-1; anything else is written as "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def _text_layer(pdf, words: Sequence[Word], width: float, height: float) -> None:
    """Invisible words at their boxes, stretched to their width (selectable, searchable)."""
    pdf.text_mode = "INVISIBLE"
    for word in words:
        text = _latin1(word.text)
        box_w = (word.x1 - word.x0) * width
        box_h = (word.y1 - word.y0) * height
        if box_w <= 0 or box_h <= 0 or not text.strip():
            continue
        size = max(1.0, box_h * 0.8)
        pdf.set_font("helvetica", size=size)
        natural = pdf.get_string_width(text)
        pdf.set_stretching(max(10.0, min(1000.0, 100 * box_w / natural)) if natural else 100)
        pdf.text(word.x0 * width, word.y0 * height + box_h * 0.78, text)
    pdf.set_stretching(100)
    pdf.text_mode = "FILL"


def _footer(pdf, footer: Footer, number: int, width: float, height: float) -> None:
    pdf.set_font("helvetica", size=9)
    baseline = height + FOOTER_POINTS * 0.62
    marking = _latin1(footer.marking)
    pdf.text((width - pdf.get_string_width(marking)) / 2, baseline, marking)
    stamp = _latin1(footer.number(number))
    pdf.text(width - pdf.get_string_width(stamp) - 18, baseline, stamp)


def render_pdf(document: Document, redactions: Sequence[Redaction], footer: Footer,
               progress: Callable[[int], None] | None = None) -> bytes:
    """The redacted PDF of the whole document (raises ExtractionError if a page cannot be
    rendered)."""
    from fpdf import FPDF

    numbers = list(range(1, document.page_count + 1))
    words = page_words.words(document, numbers)
    by_page = redactions_.by_page(list(redactions))
    pdf = FPDF(unit="pt")
    pdf.set_creation_date(FIXED_DATE)
    pdf.producer = None  # nothing about the tool, the original or its author
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    for number in numbers:
        page = words.get(number)
        width, height = (page.width, page.height) if page else (595.28, 841.89)
        on_page = by_page.get(number, [])
        with Image.open(page_images.page_image(document, number, "read")) as image:
            burned = burn(image, on_page)
        pdf.add_page(format=(width, height + FOOTER_POINTS))
        pdf.image(burned, x=0, y=0, w=width, h=height)
        if page is not None:
            boxes = [r.box for r in on_page]
            _text_layer(pdf, [w for w in page.words if not hidden(w, boxes)], width, height)
        _footer(pdf, footer, number, width, height)
        if progress is not None:
            progress(number)
    return bytes(pdf.output())


def document_footer(document: Document) -> Footer:
    return Footer(document.marking, lambda number: f"{document.urn} p. {number}")
