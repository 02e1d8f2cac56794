"""What the tantivy index does not hold, read from the database at search time: tags,
coding and evidence links (so changing them needs no index write), as sets of document
ids or page keys put inside the query; and the facet values of the matching documents,
counted in a few set-based statements."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import tantivy
from sqlalchemy import String, case, cast, func, select
from tantivy import Occur, Query

from ...db import db
from ...models import (
    DEFAULT_SET,
    Coding,
    Document,
    DocumentTag,
    EvidenceLink,
    Recommendation,
    RecommendationSet,
)
from ..facets import YEAR_MAX, YEAR_MIN, FacetCounts, normalise_source
from .schema import as_utc, page_key

if TYPE_CHECKING:
    from ..facets import Filters

CHUNK = 5_000  # ids per IN list (SQLite binds at most 32,766 values a statement)
# Coding filters and facets: (value expression, the value of a document nobody coded).
CODING = {
    "relevance": (Coding.relevance, "not_reviewed"),
    "privilege": (Coding.privilege, "none"),
    "review": (Coding.review_status, "to_do"),
    "reviewer": (func.coalesce(cast(Coding.reviewer_id, String), "none"), "none"),
    "redaction": (case((Coding.redaction_needed, "yes"), else_="no"), "no"),
}
# How search names a recommendation (`rec:13`, `rec:gbe2025-3`), as Recommendation.ref.
REC_REF = func.lower(case((RecommendationSet.code == DEFAULT_SET, Recommendation.number),
                          else_=RecommendationSet.code + "-" + Recommendation.number))


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def tag_documents(values: Iterable[str]) -> list[int]:
    """Documents carrying any of these tags (tag ids as text)."""
    ids = [int(v) for v in values if v.strip().isdigit() and len(v) < 19]
    if not ids:
        return []
    return list(db.session.execute(select(DocumentTag.document_id).distinct()
                                   .where(DocumentTag.tag_id.in_(ids))).scalars())


def rec_pages(refs: Iterable[str]) -> list[int]:
    """Page keys of the pages linked to any of these recommendations."""
    refs = [r.strip().lower() for r in refs if r.strip()]
    if not refs:
        return []
    rows = db.session.execute(
        select(EvidenceLink.document_id, EvidenceLink.page)
        .join(Recommendation, Recommendation.id == EvidenceLink.recommendation_id)
        .join(RecommendationSet, RecommendationSet.id == Recommendation.set_id)
        .where(REC_REF.in_(refs))).all()
    return [page_key(doc, page) for doc, page in rows]


def coded_documents(name: str, values: Iterable[str], inside: bool) -> list[int]:
    """Coded documents whose `name` value is (inside) or is not among `values`."""
    expression, _ = CODING[name]
    condition = expression.in_(list(values))
    return list(db.session.execute(select(Coding.document_id).where(
        condition if inside else ~condition)).scalars())


def _set(schema: tantivy.Schema, name: str, values: list[int]) -> Query:
    if not values:
        return Query.empty_query()
    return Query.term_set_query(schema, name, sorted(set(values)))


def filter_clauses(schema: tantivy.Schema, filters: Filters | None
                   ) -> list[tuple[Occur, Query]]:
    """The result filters as clauses of the search (each scoring nothing)."""
    if not filters:
        return []
    clauses: list[tuple[Occur, Query]] = []

    def any_of(name: str, values: Iterable[object]) -> None:
        clauses.append((Occur.Must, Query.boolean_query(
            [(Occur.Should, Query.term_query(schema, name, v)) for v in values])))

    if filters.inquiry:
        any_of("inquiry", filters.inquiry)
    if filters.type:
        any_of("type", filters.type)
    if filters.source:
        any_of("src", filters.source)
    if filters.restricted:
        wanted = {v == "yes" for v in filters.restricted if v in ("yes", "no")}
        any_of("restricted", sorted(wanted)) if wanted else \
            clauses.append((Occur.Must, Query.empty_query()))
    if filters.year_from is not None or filters.year_to is not None:
        clauses.append((Occur.Must, Query.range_query(
            schema, "year", tantivy.FieldType.Unsigned, filters.year_from, filters.year_to)))
    bounds = filters.month_bounds()
    if bounds is not None:  # [first second of the month, first of the next): `when` is whole s
        low, high = (int(as_utc(moment).timestamp()) for moment in bounds)
        clauses.append((Occur.Must, Query.range_query(
            schema, "when", tantivy.FieldType.Integer, low, high - 1)))
    if filters.tag:
        clauses.append((Occur.Must, _set(schema, "doc", tag_documents(filters.tag))))
    if filters.rec:
        clauses.append((Occur.Must, _set(schema, "key", rec_pages(filters.rec))))
    for name, (_, default) in CODING.items():
        values = getattr(filters, name)
        if not values:
            continue
        if default in values:
            # Uncoded documents hold the default: keep all but those coded otherwise.
            others = coded_documents(name, values, inside=False)
            if others:
                clauses.append((Occur.MustNot, _set(schema, "doc", others)))
        else:
            clauses.append((Occur.Must, _set(schema, "doc", coded_documents(
                name, values, inside=True))))
    if clauses and all(occur == Occur.MustNot for occur, _ in clauses):
        clauses.append((Occur.Must, Query.all_query()))
    return [(occur, Query.const_score_query(q, 0.0)) if occur == Occur.Must else (occur, q)
            for occur, q in clauses]


def count_facets(counts: FacetCounts, documents: Iterable[int],
                 matching: Callable[[list[int]], set[int]]) -> None:
    """Documents per facet value, for these documents; `rec` counts a document when one
    of its matching pages is linked: `matching` says which of the linked pages' keys
    match the search (asked of the index, so no page list is read for it)."""
    session = db.session
    values = counts.values
    documents = list(documents)
    for chunk in _chunks(documents):
        rows = session.execute(select(
            Document.inquiry_id, Document.doc_type, Document.source, Document.document_date,
            Document.restricted).where(Document.id.in_(chunk))).all()
        for inquiry_id, doc_type, source, when, restricted in rows:
            counts.add("inquiry", inquiry_id)
            if doc_type:
                counts.add("type", doc_type)
            source = normalise_source(source)
            if source:
                counts.add("source", source)
            if when is not None and YEAR_MIN <= when.year <= YEAR_MAX:
                counts.add("year", when.year)
            else:
                counts.undated += 1
            counts.add("restricted", "yes" if restricted else "no")
        for (tag_id,) in session.execute(select(DocumentTag.tag_id).where(
                DocumentTag.document_id.in_(chunk))):
            counts.add("tag", str(tag_id))
        coded = 0
        for row in session.execute(select(*(e for e, _ in CODING.values())).where(
                Coding.document_id.in_(chunk))):
            coded += 1
            for name, value in zip(CODING, row, strict=True):
                counts.add(name, value)
        for name, (_, default) in CODING.items():
            if len(rows) > coded:
                values[name][default] = values[name].get(default, 0) + len(rows) - coded
    for chunk in _chunks(documents):
        links = session.execute(
            select(EvidenceLink.document_id, EvidenceLink.page, REC_REF)
            .join(Recommendation, Recommendation.id == EvidenceLink.recommendation_id)
            .join(RecommendationSet, RecommendationSet.id == Recommendation.set_id)
            .where(EvidenceLink.document_id.in_(chunk))).all()
        if not links:
            continue
        matched = matching([page_key(doc, page) for doc, page, _ in links])
        linked: dict[str, set[int]] = {}
        for doc, page, ref in links:
            if page_key(doc, page) in matched:
                linked.setdefault(ref, set()).add(doc)
        for ref, docs in linked.items():
            values["rec"][ref] = values["rec"].get(ref, 0) + len(docs)
