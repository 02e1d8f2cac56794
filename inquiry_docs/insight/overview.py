"""Every document a search matches, within the reader's reach, for the charts, the
timeline and collapsing near-duplicates.

The backend's `all_hits` answers with the reader's scope and the filters inside the query,
so each id here is one the reader may see; what is computed from them (months, groups of
near-duplicates) can count nothing else. With no words, the search is for every page
(`EVERY_PAGE`), so a timeline or a filtered list needs no words.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from ..access import permissions
from ..db import db
from ..models import Document, TextSignature
from ..search import DocumentHit, PageHit, Results, backend
from ..search.facets import Filters
from ..search.find import page_texts
from ..search.snippets import snippet

# The search language's NOT of a URN no document can have (a URN is three letters and six
# digits): every page, answered by every backend with the reach and filters inside it.
EVERY_PAGE = "-urn:0"
SHOWN_PAGES = 3  # best pages listed under a result, as the backends list them
EXPANDED = 50  # and under the one whose "more pages" link was followed
CHUNK = 5000  # ids per IN (...) when reading rows for many documents


@dataclass
class Matching:
    """The matching documents in the order asked for, each with its pages best first."""

    query: str
    order: list[int] = field(default_factory=list)
    pages: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    urns: dict[int, str] = field(default_factory=dict)
    terms: set[str] = field(default_factory=set)

    @property
    def total_pages(self) -> int:
        return sum(len(found) for found in self.pages.values())


def search_text(query: str) -> str:
    """The words as the backend gets them: every page when there are none."""
    return query if query.strip() else EVERY_PAGE


def matching(user, query: str, filters: Filters | None = None,
             sort: str = "relevance") -> Matching:
    """Every document (and page) matching `query` and `filters` within the user's reach."""
    terms, hits = backend().all_hits(search_text(query), permissions.scope_for(user),
                                     filters=filters, sort=sort)
    found = Matching(query, terms=terms if query.strip() else set())
    for document_id, urn, number, score in hits:
        if document_id not in found.pages:
            found.order.append(document_id)
            found.pages[document_id] = []
            found.urns[document_id] = urn
        found.pages[document_id].append((number, score))
    return found


def rows(ids: Iterable[int], *columns) -> list[tuple]:
    """Columns of these documents (id first), read a chunk of ids at a time."""
    ids = list(ids)
    out: list[tuple] = []
    for start in range(0, len(ids), CHUNK):
        out.extend(db.session.execute(select(Document.id, *columns).where(
            Document.id.in_(ids[start:start + CHUNK]))).all())
    return out


def clusters(ids: Iterable[int]) -> dict[int, int]:
    """The group of near-duplicates of each of these documents that has one."""
    ids = list(ids)
    out: dict[int, int] = {}
    for start in range(0, len(ids), CHUNK):
        out.update(db.session.execute(
            select(TextSignature.document_id, TextSignature.cluster_id).where(
                TextSignature.document_id.in_(ids[start:start + CHUNK]),
                TextSignature.cluster_id.is_not(None))).all())
    return out


@dataclass
class Collapsed:
    """The matching documents with near-duplicates folded: the first of each group in the
    order asked for stands for it; `folded` counts the others, `groups` the groups."""

    kept: list[int]
    folded: int
    groups: int
    members: dict[int, int]  # kept document -> how many matching documents it stands for


def collapse(found: Matching) -> Collapsed:
    cluster_of = clusters(found.order)
    first: dict[int, int] = {}
    kept: list[int] = []
    members: dict[int, int] = {}
    for document_id in found.order:
        cluster = cluster_of.get(document_id)
        if cluster is None:
            kept.append(document_id)
            members[document_id] = 1
        elif cluster not in first:
            first[cluster] = document_id
            kept.append(document_id)
            members[document_id] = 1
        else:
            members[first[cluster]] += 1
    return Collapsed(kept, len(found.order) - len(kept),
                     sum(1 for d in first.values() if members[d] > 1), members)


def collapsed_results(found: Matching, folded: Collapsed, results: Results, offset: int,
                      limit: int, expand: int | None = None) -> Results:
    """A page of results with one document per group of near-duplicates.

    Built from the ids the backend returned (so within reach); facet counts stay those of
    the search itself, which count every matching document, folded ones included.
    """
    shown = folded.kept[offset:offset + limit]
    listed = {d: found.pages[d][:EXPANDED if d == expand else SHOWN_PAGES] for d in shown}
    texts = page_texts({d: [n for n, _ in pages] for d, pages in listed.items()})
    tokenize = backend().tokenizer()
    documents = []
    for document_id in shown:
        pages = found.pages[document_id]
        documents.append(DocumentHit(
            document_id, found.urns[document_id], pages[0][1],
            [PageHit(n, s, snippet(texts.get((document_id, n), ""), found.terms, tokenize))
             for n, s in listed[document_id]], len(pages)))
    total_pages = sum(len(found.pages[d]) for d in folded.kept)
    return Results(results.query, documents, len(folded.kept), total_pages, results.notice,
                   results.facets)
