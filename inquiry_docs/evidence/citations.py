"""Citations of documents in text: `OLD000123 p. 4`, `OLD000123/4`, `OLD000123_0004` or a
bare `OLD000123`.

They are found when the text is written (page text when a document is read, a note, an
evidence link's note, a recommendation note, a trail event, a coding comment) and kept in
the citations table, so "cited by" is one indexed query rather than a scan of all text.
The target is kept as a URN: a document that arrives later is found by what cited it.
Pages show links only to documents the reader may see (web/citations.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, or_, select

from ..access import audit, permissions
from ..db import MAX_INT, db
from ..models import (
    Citation,
    Coding,
    Document,
    EvidenceLink,
    Note,
    Page,
    Recommendation,
    RecommendationNote,
    TrailEvent,
    User,
)

# A URN not glued to other letters or digits, then an optional page: _0004, /4, p. 4.
CITATION = re.compile(
    r"(?<![A-Za-z0-9_/])(?P<urn>[A-Z]{3}\d{6})"
    r"(?:_(?P<under>\d{1,5})(?![\d/])"
    r"|/(?P<slash>\d{1,5})(?![\d/])"
    r"|,?[ \t\u00a0]+(?i:pp?|pages?)\.?[ \t\u00a0]*(?P<page>\d{1,5})(?!\d))?"
    r"(?![A-Za-z0-9])"
)
SOURCE_TYPES = {"page": "Page text", "note": "Note", "link": "Evidence link note",
                "rec_note": "Recommendation note", "trail": "Implementation trail",
                "coding": "Coding comment"}
MAX_PER_TEXT = 500  # a list of thousands of URNs is an index, not a citation


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    urn: str
    page: int | None


def find(text: str) -> list[Found]:
    """Every citation in `text`, in order."""
    out = []
    for match in CITATION.finditer(text or ""):
        digits = match.group("under") or match.group("slash") or match.group("page")
        page = int(digits) if digits and 0 < int(digits) <= MAX_INT else None
        out.append(Found(match.start(), match.end(), match.group("urn"), page))
    return out


def _targets(text: str) -> list[tuple[str, int | None]]:
    return list(dict.fromkeys((f.urn, f.page) for f in find(text)))[:MAX_PER_TEXT]


def record(source_type: str, source_id: int, text: str, *, document_id: int | None = None,
           page: int | None = None, recommendation_id: int | None = None) -> int:
    """Replace what this source cites with what `text` cites, in the caller's transaction."""
    db.session.execute(delete(Citation).where(Citation.source_type == source_type,
                                              Citation.source_id == source_id))
    rows = [{"source_type": source_type, "source_id": source_id, "document_id": document_id,
             "page": page, "recommendation_id": recommendation_id, "target_urn": urn,
             "target_page": target_page} for urn, target_page in _targets(text)]
    if rows:
        db.session.execute(insert(Citation), rows)
    return len(rows)


def forget(source_type: str, source_id: int) -> None:
    db.session.execute(delete(Citation).where(Citation.source_type == source_type,
                                              Citation.source_id == source_id))


def record_pages(document_id: int, pages: Iterable[tuple[int, str]]) -> int:
    """A document's page text was (re)written: what its pages cite, replacing the old."""
    db.session.execute(delete(Citation).where(Citation.source_type == "page",
                                              Citation.document_id == document_id))
    rows = [{"source_type": "page", "source_id": document_id, "document_id": document_id,
             "page": number, "recommendation_id": None, "target_urn": urn,
             "target_page": target_page}
            for number, text in pages for urn, target_page in _targets(text)]
    if rows:
        db.session.execute(insert(Citation), rows)
    return len(rows)


@dataclass
class CitingDocument:
    document: Document
    pages: list[int] = field(default_factory=list)  # the citing pages, in order
    kinds: list[str] = field(default_factory=list)  # what cites: page text, a note...
    cited_pages: list[int] = field(default_factory=list)  # the pages of ours it names


@dataclass
class CitingRecommendation:
    recommendation: Recommendation
    kinds: list[str] = field(default_factory=list)


def cited_by(user: User | None, document: Document, limit: int = 500
             ) -> tuple[list[CitingDocument], list[CitingRecommendation]]:
    """What cites this document, limited to what the reader may see: other documents' pages
    (with their notes, links and coding comments) and recommendations' notes and trail."""
    visible = permissions.visible_document_ids(user)
    rows = db.session.execute(
        select(Citation).where(
            Citation.target_urn == document.urn,
            or_(Citation.document_id.is_(None), Citation.document_id != document.id),
            or_(Citation.document_id.in_(visible), Citation.document_id.is_(None)))
        .order_by(Citation.document_id, Citation.page, Citation.id).limit(limit)).scalars()
    documents: dict[int, CitingDocument] = {}
    recommendations: dict[int, CitingRecommendation] = {}
    for row in rows:
        kind = SOURCE_TYPES.get(row.source_type, row.source_type)
        if row.document_id is not None and row.document is not None:
            entry = documents.setdefault(row.document_id, CitingDocument(row.document))
            if row.page is not None and row.page not in entry.pages:
                entry.pages.append(row.page)
        elif row.recommendation_id is not None:
            rec = db.session.get(Recommendation, row.recommendation_id)
            if rec is None or not permissions.can_see_set(user, rec.set):
                continue
            entry = recommendations.setdefault(rec.id, CitingRecommendation(rec))
        else:
            continue
        if kind not in entry.kinds:
            entry.kinds.append(kind)
        if isinstance(entry, CitingDocument) and row.target_page is not None \
                and row.target_page not in entry.cited_pages:
            entry.cited_pages.append(row.target_page)
    for entry in documents.values():
        entry.pages.sort()
        entry.cited_pages.sort()
    ordered = sorted(documents.values(), key=lambda e: e.document.urn)
    return ordered, sorted(recommendations.values(),
                           key=lambda e: (e.recommendation.set_id, e.recommendation.position))


def visible_urns(user: User | None, urns: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Of these URNs, the documents the user may see: {urn: (id, page count)}."""
    wanted = sorted(set(urns))
    if not wanted:
        return {}
    rows = db.session.execute(
        permissions.visible_documents(user)
        .with_only_columns(Document.urn, Document.id, Document.page_count)
        .where(Document.urn.in_(wanted)))
    return {urn: (document_id, pages) for urn, document_id, pages in rows}


def rebuild(batch: int = 500) -> int:
    """Find every citation again in all stored text (after an upgrade, or to repair): the
    table is derived data. Audited; returns the number of citations stored."""
    db.session.execute(delete(Citation))
    found = 0
    last = 0
    while True:
        ids = list(db.session.execute(select(Document.id).where(Document.id > last)
                                      .order_by(Document.id).limit(batch)).scalars())
        if not ids:
            break
        for document_id in ids:
            pages = db.session.execute(select(Page.number, Page.text).where(
                Page.document_id == document_id).order_by(Page.number)).all()
            found += record_pages(document_id, [(n, t) for n, t in pages])
        last = ids[-1]
    for note in db.session.execute(select(Note)).scalars():
        found += record("note", note.id, f"{note.body}\n{note.quote}",
                        document_id=note.document_id, page=note.page)
    for link in db.session.execute(select(EvidenceLink)).scalars():
        found += record("link", link.id, link.note, document_id=link.document_id,
                        page=link.page, recommendation_id=link.recommendation_id)
    for event in db.session.execute(select(TrailEvent)).scalars():
        found += record("trail", event.id, event.what, recommendation_id=event.recommendation_id)
    for rec_note in db.session.execute(select(RecommendationNote)).scalars():
        found += record("rec_note", rec_note.id, rec_note.text,
                        recommendation_id=rec_note.recommendation_id)
    for coding in db.session.execute(select(Coding).where(Coding.comment != "")).scalars():
        found += record("coding", coding.id, coding.comment, document_id=coding.document_id)
    audit.record("citations_rebuilt", object_type="citation", citations=found)
    db.session.commit()
    return found
