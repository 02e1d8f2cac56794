"""Finding and grouping tantivy hits: a search's pages, documents and their order.

The page count always comes from tantivy (`count=True`). Only a pool of the best pages
(or the first in the sort order) is read into Python and grouped by document, grown until
it holds the documents asked for: a document's first page in the pool is its best, so
the pool's documents are the first ones in the order asked for. The number of documents
is exact when the pool holds every matching page, or counted by a terms aggregation on
the `doc` fast field up to EXACT_LIMIT matching pages; past that it is estimated
(`searcher.cardinality`, a HyperLogLog sketch) and said to be.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tantivy
from tantivy import Occur, Order, Query

# Matching pages up to which the documents are counted exactly, by an aggregation (about
# 0.4 microseconds a page here); past it the count is an estimate.
EXACT_LIMIT = 5_000
POOL_MIN = 200  # pages read first, at least
POOL_PER_DOCUMENT = 10  # and this many for each document asked for
POOL_GROWTH = 4  # the pool grows by this factor until it holds the documents asked for
SAMPLE_POOL = 4_000  # pages the pool grows to, at most, for a sample of documents
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
    total_pages: int  # exact: tantivy's own count
    total_documents: int
    estimated: bool  # total_documents is an estimate
    groups: list[Group]  # the first documents in the order asked for (all when `every`)
    every: bool  # the groups are every matching document, each with all its pages
    scored: bool  # and each page carries its score (not so when sorted by a field)
    documents: list[int] | None = None  # every matching document, when counted exactly


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


def matching_keys(searcher: tantivy.Searcher, schema: tantivy.Schema, query: Query,
                  keys: list[int]) -> set[int]:
    """Those of these page keys (`schema.page_key`) whose pages match `query`."""
    if not keys:
        return set()
    only = Query.boolean_query([(Occur.Must, query), (Occur.Must, Query.const_score_query(
        Query.term_set_query(schema, "key", sorted(set(keys))), 0.0))])
    hits = searcher.search(only, len(set(keys)), count=False).hits
    return set(searcher.fast_field_values("key", [address for _, address in hits]))


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


def _top(searcher: tantivy.Searcher, query: Query, limit: int, sort: str,
         count: bool) -> tantivy.SearchResult:
    order = SORT_FIELDS.get(sort)
    if order is None:
        return searcher.search(query, limit, count=count)
    return searcher.search(query, limit, count=count, order_by_field=order[0],
                           order=order[1])


def find(searcher: tantivy.Searcher, query: Query, sort: str, wanted: int,
         exact_limit: int = EXACT_LIMIT, sample: int = 0) -> Found:
    """The first `wanted` documents matching `query` in `sort` order (at least `sample`
    of them, for counting facets, if SAMPLE_POOL pages hold them), the exact page count,
    and the document count: exact up to `exact_limit` matching pages, estimated past it.
    """
    pool = min(MAX_HITS, max(POOL_MIN, wanted * POOL_PER_DOCUMENT))
    first = _top(searcher, query, pool, sort, count=True)
    total, hits = first.count, first.hits
    while True:
        groups = _pool_groups(searcher, hits, sort)
        enough = len(groups) >= wanted and (len(groups) >= sample or len(hits) >= SAMPLE_POOL)
        if enough or len(hits) >= min(total, MAX_HITS):
            break
        pool = min(MAX_HITS, pool * POOL_GROWTH)
        hits = _top(searcher, query, pool, sort, count=False).hits
    ordered = sort in SORT_FIELDS
    if len(hits) >= total:  # every matching page was read: all exact, nothing more to ask
        for group in groups:
            group.pages.sort(key=lambda p: (-p[1], p[0]))
            if not ordered:
                group.score = group.pages[0][1]
        return Found(total, len(groups), False, sort_groups(groups, sort), True, not ordered)
    # A pool's documents in sort_groups' order: its own order, equal keys by document id
    # (ties at the pool's edge may fall either side of it).
    groups = sort_groups(groups, sort)
    if total <= exact_limit:
        documents = document_ids(searcher, query)
        return Found(total, len(documents), False, groups, False, False, documents)
    estimate = round(searcher.cardinality(query, "doc"))
    return Found(total, max(estimate, len(groups)), True, groups, False, False)


def document_ids(searcher: tantivy.Searcher, query: Query) -> list[int]:
    """Every document with a matching page, counted inside tantivy (a terms aggregation on
    the `doc` fast field), not by reading the pages into Python."""
    found = searcher.aggregate(query, {"d": {"terms": {
        "field": "doc", "size": max(1, searcher.num_docs)}}})
    return [int(b["key"]) for b in found["d"]["buckets"]]


def _pool_groups(searcher: tantivy.Searcher, hits: list, sort: str) -> list[Group]:
    """The pool's documents in the order their first page came (best first, or in the
    sort order)."""
    ordered = sort in SORT_FIELDS
    docs, pages, urns = _columns(searcher, hits, "doc", "page", "urn_key")
    groups: dict[int, Group] = {}
    for (key, _), doc, page, urn in zip(hits, docs, pages, urns, strict=True):
        score = 0.0 if ordered else key
        group = groups.get(doc)
        if group is None:
            when = key if sort.startswith("date") else None
            group = groups[doc] = Group(doc, urn or 0, score, when=when)
        group.pages.append((page, score))
    return list(groups.values())
