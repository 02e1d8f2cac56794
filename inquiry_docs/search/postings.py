"""Searches made of words, answered from each segment's postings with set arithmetic.

Whoosh works out AND, OR and NOT by stepping its matchers one page at a time in Python;
for a common word at 100,000 pages that is most of a search's time. Here each word's
postings (page numbers and weights) are read once per segment and kept (the segment never
changes), and a query of words, OR, AND, NOT inside AND, prefix and fuzzy expansions, field
terms and date ranges is worked out with dict and set operations, scored with the formula
Whoosh's BM25F uses, so the order is the one Whoosh would give. Anything else (phrases,
proximity: they need word positions) is left to Whoosh: `supported()` says which.
"""

from __future__ import annotations

import time
from array import array

from whoosh import query as wq
from whoosh.collectors import TimeLimit

from .segments import ColumnRange, Leaf, Memo, field_lengths

Scores = dict[int, float]  # a segment's docnum -> score


def supported(query: wq.Query) -> bool:
    """Whether `query` is made only of what this module answers."""
    if query is wq.NullQuery or isinstance(query, wq.Term | ColumnRange):
        return True
    if type(query) is wq.Or:
        return all(supported(q) for q in query.subqueries)
    if type(query) is wq.And:
        positive = [q for q in query.subqueries if not isinstance(q, wq.Not)]
        negative = [q.query for q in query.subqueries if isinstance(q, wq.Not)]
        return bool(positive) and all(supported(q) for q in positive + negative)
    return False


class Evaluator:
    """One query over one segment; `deadline` is checked between terms."""

    def __init__(self, memo: Memo, leaf: Leaf, top, deadline: float) -> None:
        self.memo = memo
        self.segid, self.searcher, _ = leaf
        self.reader = self.searcher.reader()
        self.top = top  # the whole-index searcher, for idf and average lengths
        self.deadline = deadline
        self.deleted = self.reader.deleted_docs_set if self.reader.has_deletions() else ()

    def scores(self, query: wq.Query) -> Scores:
        if time.monotonic() > self.deadline:
            raise TimeLimit
        if query is wq.NullQuery:
            return {}
        if isinstance(query, wq.Term):
            return self.term(query)
        if isinstance(query, ColumnRange):
            return dict.fromkeys(query.docs(self.searcher), query.boost)
        if type(query) is wq.Or:
            return _sum([self.scores(q) for q in query.subqueries], union=True)
        positive = [self.scores(q) for q in query.subqueries if not isinstance(q, wq.Not)]
        found = _sum(positive, union=False)
        for q in query.subqueries:
            if isinstance(q, wq.Not) and found:
                for docnum in self.scores(q.query).keys() & found.keys():
                    del found[docnum]
                # Whoosh's NOT matches every other page with its boost as the score.
                found = {docnum: score + q.boost for docnum, score in found.items()}
        return found

    def term(self, query: wq.Term) -> Scores:
        try:
            fieldobj = self.reader.schema[query.fieldname]
            text = fieldobj.to_bytes(query.text)
        except (KeyError, ValueError):  # as Whoosh: an unknown field or a value it refuses
            return {}
        if (query.fieldname, text) not in self.reader:
            return {}
        ids, weights = self.postings(query.fieldname, text)
        boost = query.boost
        deleted = self.deleted
        if not fieldobj.scorable:  # what Whoosh's WeightScorer gives: the weight itself
            return {d: w * boost for d, w in zip(ids, weights, strict=True) if d not in deleted}
        k1, b = BM25_K1, BM25_B
        idf = self.top.idf(query.fieldname, text) * boost
        avgfl = self.top.avg_field_length(query.fieldname) or 1
        lengths = field_lengths(self.memo, self.segid, self.reader, query.fieldname)
        # BM25: idf * tf (k1 + 1) / (tf + k1 (1 - b + b length / average length))
        base, per_length = k1 * (1 - b), k1 * b / avgfl
        top = idf * (k1 + 1)
        return {d: top * w / (w + base + per_length * lengths[d])
                for d, w in zip(ids, weights, strict=True) if d not in deleted}

    def postings(self, fieldname: str, text: bytes) -> tuple[array, array]:
        """The term's docnums and weights in this segment, read once and kept."""

        def read() -> tuple[array, array]:
            ids, weights = array("I"), array("d")
            matcher = self.reader.postings(fieldname, text)
            # Deleted pages are left out at search time instead: they change, the rest not.
            matcher = getattr(matcher, "child", matcher) if self.deleted else matcher
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                matcher.next()
            return ids, weights

        return self.memo.get((self.segid, "postings", fieldname, text), read)


BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's BM25F defaults, which the index is searched with


def _sum(parts: list[Scores], *, union: bool) -> Scores:
    """OR: every page in any part; AND: pages in every part. Scores add up, as Whoosh's."""
    if not parts:
        return {}
    if union:
        parts = sorted(parts, key=len, reverse=True)
        out = dict(parts[0])
        for part in parts[1:]:
            for docnum, score in part.items():
                out[docnum] = out.get(docnum, 0.0) + score
        return out
    parts = sorted(parts, key=len)
    keys = parts[0].keys()
    for part in parts[1:]:
        keys = keys & part.keys()
    return {d: sum(part[d] for part in parts) for d in keys}


def search(memo: Memo, searcher, leaves: list[Leaf], query: wq.Query, allowed,
           seconds: float, limit: int) -> list[tuple[int, float]]:
    """Every page matching `query` that `allowed` lets through, as (global docnum, score),
    best first (ties in docnum order), at most `limit`."""
    deadline = time.monotonic() + seconds
    hits: list[tuple[int, float]] = []
    for leaf in leaves:
        offset = leaf[2]
        found = Evaluator(memo, leaf, searcher, deadline).scores(query)
        hits.extend((offset + d, s) for d, s in found.items() if offset + d in allowed)
    hits.sort(key=_best_first)
    return hits[:limit]


def _best_first(hit: tuple[int, float]) -> tuple[float, int]:
    return -hit[1], hit[0]
