"""Redact by searching: every hit of words, a name or a pattern (dates, National Insurance
numbers, UK phone numbers, emails, postcodes) in a document or a set of documents.

Hits are found in the words of each page with their positions (evidence/page_words.py),
so each becomes a box over exactly those words (one box per line a hit runs over). The
page text in the database picks the pages worth reading for positions. A preview counts
first; nothing is written until the user confirms, and a hit already under a redaction is
not redacted twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from ..access import audit, permissions
from ..db import db
from ..evidence import page_images, page_words
from ..evidence.page_words import ExtractionError, PageWords
from ..models import Document, Page, User
from . import redactions as redactions_
from .redactions import Box, Reason

MONTHS = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
PATTERNS: dict[str, tuple[str, str]] = {
    "words": ("Words or a name", ""),
    "dates": ("Dates, such as dates of birth",
              r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})"
              rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTHS}\.?,?\s+\d{{4}}"
              rf"|{MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})\b"),
    "ni": ("National Insurance numbers",
           r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
           r"\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b"),
    "phone": ("UK phone numbers",
              r"(?<![\w+])(?:(?:\+44\s?(?:\(0\)\s?)?)|\(?0)\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}"
              r"(?![\w-])"),
    "email": ("Email addresses", r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "postcode": ("Postcodes", r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b"),
}
MAX_WORDS = 200
MAX_DOCUMENTS = 500  # documents read for positions in one step


def compile_pattern(kind: str, words: str) -> tuple[re.Pattern[str] | None, str]:
    """The expression to look for, or an error for the form."""
    if kind not in PATTERNS:
        return None, "Choose what to look for"
    if kind != "words":
        return re.compile(PATTERNS[kind][1], re.IGNORECASE), ""
    parts = words.split()
    if not parts:
        return None, "Enter the words or name to redact"
    if len(words) > MAX_WORDS:
        return None, f"Enter up to {MAX_WORDS} characters"
    # The words in order, any spacing or line break between them, not inside other words.
    body = r"\s+".join(re.escape(p) for p in parts)
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE), ""


@dataclass
class Hit:
    page: int
    text: str
    boxes: list[tuple[float, float, float, float]]


def hits_on_page(page: PageWords, pattern: re.Pattern[str]) -> list[Hit]:
    """Each match on the page's words, as the boxes of the words it touches, per line."""
    words = page.words
    if not words:
        return []
    starts, joined, at = [], [], 0
    for word in words:
        starts.append(at)
        joined.append(word.text)
        at += len(word.text) + 1
    text = " ".join(joined)
    hits = []
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        touched = [w for w, start in zip(words, starts, strict=True)
                   if start < match.end() and start + len(w.text) > match.start()]
        lines: dict[int, list[float]] = {}
        for w in touched:
            box = lines.get(w.line)
            lines[w.line] = [w.x0, w.y0, w.x1, w.y1] if box is None else \
                [min(box[0], w.x0), min(box[1], w.y0), max(box[2], w.x1), max(box[3], w.y1)]
        if lines:
            hits.append(Hit(page.number, match.group(0),
                            [tuple(b) for b in lines.values()]))  # type: ignore[misc]
    return hits


def _covered(box: tuple[float, float, float, float],
             existing: list[tuple[float, float, float, float]]) -> bool:
    """Is the box (nearly) inside a redaction that is there already?"""
    slack = 0.002
    return any(e[0] - slack <= box[0] and e[1] - slack <= box[1] and box[2] <= e[2] + slack
               and box[3] <= e[3] + slack for e in existing)


@dataclass
class DocumentPlan:
    document: Document
    hits: list[Hit] = field(default_factory=list)  # new boxes to make
    already: int = 0  # hits under a redaction already
    unplaced: int = 0  # pages whose text matches but whose words have no positions

    @property
    def boxes(self) -> int:
        return sum(len(h.boxes) for h in self.hits)


@dataclass
class Plan:
    documents: list[DocumentPlan] = field(default_factory=list)
    skipped: int = 0  # documents the user may not redact, or without page images
    beyond: int = 0  # documents past MAX_DOCUMENTS, left for another step

    @property
    def hits(self) -> int:
        return sum(len(d.hits) for d in self.documents)

    @property
    def pages(self) -> int:
        return sum(len({h.page for h in d.hits}) for d in self.documents)

    @property
    def with_hits(self) -> list[DocumentPlan]:
        return [d for d in self.documents if d.hits]

    @property
    def already(self) -> int:
        return sum(d.already for d in self.documents)

    @property
    def unplaced(self) -> int:
        return sum(d.unplaced for d in self.documents)


def may_redact(user: User | None, document: Document) -> bool:
    return permissions.can_see(user, document) and permissions.can(
        user, "redact", document.inquiry_id)


def plan_document(document: Document, pattern: re.Pattern[str]) -> DocumentPlan:
    plan = DocumentPlan(document)
    texts = db.session.execute(select(Page.number, Page.text)
                               .where(Page.document_id == document.id)).all()
    candidates = [number for number, text in texts if pattern.search(text or "")]
    if not candidates:
        return plan
    try:
        found = page_words.words(document, candidates)
    except ExtractionError:
        found = {}
    existing = redactions_.by_page(redactions_.of_document(document.id))
    for number in candidates:
        page = found.get(number)
        hits = hits_on_page(page, pattern) if page is not None else []
        if not hits:
            plan.unplaced += 1
            continue
        boxes = [r.box for r in existing.get(number, [])]
        for hit in hits:
            if all(_covered(b, boxes) for b in hit.boxes):
                plan.already += 1
            else:
                plan.hits.append(hit)
    return plan


def plan(user: User | None, docs: list[Document], pattern: re.Pattern[str]) -> Plan:
    """What redacting every hit in these documents would make (nothing is written)."""
    out = Plan()
    allowed = []
    for document in docs:
        if may_redact(user, document) and page_images.has_images(document):
            allowed.append(document)
        else:
            out.skipped += 1
    out.beyond = max(0, len(allowed) - MAX_DOCUMENTS)
    out.documents = [plan_document(d, pattern) for d in allowed[:MAX_DOCUMENTS]]
    return out


def apply(user: User, planned: Plan, reason: Reason, description: str) -> int:
    """Propose a redaction for every planned hit (one audit event per document and one for
    the whole step); returns the number of boxes made."""
    made = 0
    for entry in planned.with_hits:
        boxes = [(Box(h.page, *box), h.text) for h in entry.hits for box in h.boxes]
        made += len(redactions_.add_many(user, entry.document, boxes, reason, "search"))
    audit.record("redaction_search_applied", user=user, object_type="redaction",
                 search=description[:300], reason=reason.code, boxes=made,
                 documents=len(planned.with_hits), skipped=planned.skipped)
    db.session.commit()
    return made


def word_hits(document: Document, number: int, words: str, occurrence: int | None
              ) -> tuple[list[Hit], str]:
    """The selected words on one page: every occurrence, or only the n-th (from 1)."""
    pattern, error = compile_pattern("words", words)
    if pattern is None:
        return [], error
    try:
        page = page_words.page(document, number)
    except ExtractionError as exc:
        return [], exc.reason
    hits = hits_on_page(page, pattern) if page is not None else []
    if not hits:
        return [], f"Those words are not on {document.page_label} {number}, or the page has " \
                   "no word positions: draw a box instead"
    if occurrence is not None:
        if not 1 <= occurrence <= len(hits):
            return [], f"The words appear {len(hits)} time{'s' if len(hits) != 1 else ''} " \
                       "on the page"
        hits = [hits[occurrence - 1]]
    return hits, ""
