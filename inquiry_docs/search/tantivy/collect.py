"""Finding and grouping tantivy hits: a search's pages, documents and their order.

Up to EXACT_LIMIT matching pages, every hit is read (document, page from fast fields),
so documents are counted and grouped exactly, as the Whoosh backend does. Past it, the
number of documents is estimated (searcher.cardinality) and only a pool of the best
pages is read and grouped, grown until it holds the documents asked for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tantivy
from tantivy import Order, Query

# Matching pages up to which documents and facets are counted exactly (every hit read).
EXACT_LIMIT = 20_000
POOL_MIN = 200  # pages read first, at least
POOL_GROWTH = 4  # the pool grows by this factor until it holds the documents asked for
MAX_HITS = 100_000  # pages read for one search, at most

SORT_FIELDS = {"urn": ("urn_key", Order.Asc), "date_asc": ("when", Order.Asc),
               "date_desc": ("when", Order.Desc)}


@dataclass
class Group:
    """One document's matching pages as found: (page number, score), best first."""

    document_id: int
    urn_key: int
    score: float
    pages: list[tuple[int, float]] = field(default_factory=list)
    when: int | None = None  # the date (seconds), for the date sorts


@dataclass
class Found:
    total_pages: int
    total_documents: int
    estimated: bool  # total_documents is an estimate; groups cover the pool only
    groups: list[Group]  # in the order asked for
    complete: bool  # every group holds all its matching pages
    pages: list[tuple[int, int]] = field(default_factory=list)  # (doc, page) read


def _columns(searcher: tantivy.Searcher, hits: list, *names: str) -> list[list]:
    addresses = [address for _, address in hits]
    return [searcher.fast_field_values(name, addresses) for name in names]


def every_hit(searcher: tantivy.Searcher, query: Query, limit: int = MAX_HITS
              ) -> list[tuple[int, int, float]]:
    """(document, page, score) of every matching page (up to `limit`), best first."""
    hits = searcher.search(query, max(1, limit), count=False).hits
    docs, pages = _columns(searcher, hits, "doc", "page")
    return [(d, p, s) for (s, _), d, p in zip(hits, docs, pages, strict=True)]


def group_all(searcher: tantivy.Searcher, hits: list, sort: str) -> list[Group]:
    """Every hit grouped by document, in the order asked for (ties by document id)."""
    docs, pages, urns, whens = _columns(searcher, hits, "doc", "page", "urn_key", "when")
    groups: dict[int, Group] = {}
    for (score, _), doc, page, urn, when in zip(hits, docs, pages, urns, whens, strict=True):
        group = groups.get(doc)
        if group is None:
            group = groups[doc] = Group(doc, urn or 0, score, when=when)
        group.pages.append((page, score))
    found = list(groups.values())
    for group in found:
        group.pages.sort(key=lambda p: (-p[1], p[0]))
        group.score = group.pages[0][1]
    return sort_groups(found, sort)


def sort_groups(groups: list[Group], sort: str) -> list[Group]:
    if sort == "urn":
        groups.sort(key=lambda g: (g.urn_key, g.document_id))
    elif sort in ("date_asc", "date_desc"):
        dated = [g for g in groups if g.when is not None]
        dated.sort(key=lambda g: (-g.when if sort == "date_desc" else g.when, g.document_id))
        groups = dated + sorted((g for g in groups if g.when is None),
                                key=lambda g: g.document_id)
    else:
        # Equal scores in document order, so the order stays put when a document is
        # re-indexed (previous/next through results relies on it).
        groups.sort(key=lambda g: (-g.score, g.document_id))
    return groups


def find(searcher: tantivy.Searcher, query: Query, sort: str, wanted: int,
         exact_limit: int = EXACT_LIMIT) -> Found:
    """The documents matching `query` in `sort` order: all of them while the pages are
    within `exact_limit`, else at least `wanted` of them from a pool of the best pages."""
    order = SORT_FIELDS.get(sort)
    pool = max(POOL_MIN, wanted * 10)
    if order is None:
        first = searcher.search(query, min(pool, MAX_HITS), count=True)
    else:
        first = searcher.search(query, min(pool, MAX_HITS), count=True,
                                order_by_field=order[0], order=order[1])
    total = first.count
    if total <= exact_limit:
        hits = first.hits
        if len(hits) < total:
            hits = searcher.search(query, total, count=False).hits
        elif order is not None:
            hits = searcher.search(query, max(1, total), count=False).hits  # with scores
        groups = group_all(searcher, hits, sort)
        pages = [(g.document_id, p) for g in groups for p, _ in g.pages]
        return Found(total, len(groups), False, groups, True, pages)
    documents = round(searcher.cardinality(query, "doc"))
    hits = first.hits
    while True:
        groups, pages = _pool_groups(searcher, hits, order is not None)
        if len(groups) >= wanted or len(hits) >= min(total, MAX_HITS):
            break
        pool = min(MAX_HITS, pool * POOL_GROWTH)
        if order is None:
            hits = searcher.search(query, pool, count=False).hits
        else:
            hits = searcher.search(query, pool, count=False, order_by_field=order[0],
                                   order=order[1])
    return Found(total, max(documents, len(groups)), True, groups, False, pages)


def _pool_groups(searcher: tantivy.Searcher, hits: list, ordered: bool
                 ) -> tuple[list[Group], list[tuple[int, int]]]:
    """The pool's documents in the order their first page came (best first, or in the
    sort order), and the (document, page) pairs it read."""
    docs, pages, urns = _columns(searcher, hits, "doc", "page", "urn_key")
    groups: dict[int, Group] = {}
    for (key, _), doc, page, urn in zip(hits, docs, pages, urns, strict=True):
        score = 0.0 if ordered else key
        group = groups.get(doc)
        if group is None:
            group = groups[doc] = Group(doc, urn or 0, score)
        group.pages.append((page, score))
    return list(groups.values()), list(zip(docs, pages, strict=True))
