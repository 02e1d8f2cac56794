"""Counts for the dashboard and the coverage matrix, over visible links only: a link on a
document the user may not see adds to no count."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from ..access import permissions
from ..db import db
from ..models import (
    DOC_TYPES,
    STANCES,
    Document,
    EvidenceLink,
    Recommendation,
    RecommendationNote,
    RecommendationSet,
    TrailEvent,
    User,
)

AXES = {"inquiry": "Inquiry", "type": "Document type", "source": "Source"}


@dataclass
class Row:
    recommendation: Recommendation
    by_stance: dict[str, int] = field(default_factory=dict)
    pages: int = 0
    last_activity: datetime | None = None
    pages_by_stance: dict[str, int] = field(default_factory=dict)  # distinct linked pages


def _visible_link_rows(user: User | None, rset: RecommendationSet, *columns):
    return db.session.execute(
        select(EvidenceLink.recommendation_id, *columns)
        .join(Document, Document.id == EvidenceLink.document_id)
        .join(Recommendation, Recommendation.id == EvidenceLink.recommendation_id)
        .where(Recommendation.set_id == rset.id,
               EvidenceLink.document_id.in_(permissions.visible_document_ids(user)))).all()


def dashboard(user: User | None, rset: RecommendationSet) -> list[Row]:
    """Each recommendation with its visible links by stance, linked pages and last activity."""
    rows = {r.id: Row(r) for r in rset.recommendations}
    pages: dict[int, set] = defaultdict(set)
    stance_pages: dict[tuple[int, str], set] = defaultdict(set)
    for rec_id, stance, document_id, page, updated in _visible_link_rows(
            user, rset, EvidenceLink.stance, EvidenceLink.document_id, EvidenceLink.page,
            EvidenceLink.updated_at):
        row = rows[rec_id]
        row.by_stance[stance] = row.by_stance.get(stance, 0) + 1
        pages[rec_id].add((document_id, page))
        stance_pages[(rec_id, stance)].add((document_id, page))
        row.last_activity = max(filter(None, (row.last_activity, updated)))
    for model, column in ((TrailEvent, TrailEvent.created_at),
                          (RecommendationNote, RecommendationNote.created_at)):
        for rec_id, when in db.session.execute(
                select(model.recommendation_id, func.max(column))
                .where(model.recommendation_id.in_(rows)).group_by(model.recommendation_id)):
            row = rows[rec_id]
            row.last_activity = max(filter(None, (row.last_activity, when)))
    for rec_id, found in pages.items():
        rows[rec_id].pages = len(found)
    for (rec_id, stance), found in stance_pages.items():
        rows[rec_id].pages_by_stance[stance] = len(found)
    return list(rows.values())


@dataclass
class Matrix:
    axis: str
    columns: list[tuple[object, str]]  # (value, label)
    rows: list[tuple[Recommendation, list[int]]]


def columns_for(user: User | None, rset: RecommendationSet, axis: str,
                found: set) -> list[tuple[object, str]]:
    if axis == "inquiry":
        inquiries = [i for i in permissions.inquiries_where(user, "read")
                     if rset.inquiry_id in (None, i.id)]
        return [(i.id, f"{i.code} \u2013 {i.name}") for i in inquiries]
    if axis == "type":
        return list(DOC_TYPES.items())
    return [(s, s or "Not recorded") for s in sorted(found, key=str.lower)]


def matrix(user: User | None, rset: RecommendationSet, axis: str) -> Matrix:
    """Linked pages per recommendation and inquiry (or document type, or source)."""
    axis = axis if axis in AXES else "inquiry"
    column = {"inquiry": Document.inquiry_id, "type": Document.doc_type,
              "source": Document.source}[axis]
    cells: dict[tuple[int, object], set] = defaultdict(set)
    for rec_id, value, document_id, page in _visible_link_rows(
            user, rset, column, EvidenceLink.document_id, EvidenceLink.page):
        cells[(rec_id, value)].add((document_id, page))
    columns = columns_for(user, rset, axis, {value for _, value in cells})
    rows = [(rec, [len(cells.get((rec.id, value), ())) for value, _ in columns])
            for rec in rset.recommendations]
    return Matrix(axis, columns, rows)


def matrix_rows(m: Matrix) -> list[list[object]]:
    """The matrix as CSV rows, header first."""
    out: list[list[object]] = [["Number", "Recommendation", *(label for _, label in m.columns)]]
    out += [[rec.number, rec.title, *counts] for rec, counts in m.rows]
    return out


STANCE_ORDER = list(STANCES)
