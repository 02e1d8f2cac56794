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
from bisect import bisect_left
from collections.abc import Callable

from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.collectors import TimeLimit

from .segments import ColumnRange, Leaf, Memo, field_lengths

Scores = dict[int, float]  # a segment's docnum -> score


def supported(query: wq.Query) -> bool:
    """Whether `query` is made only of what this module answers."""
    if query is wq.NullQuery or isinstance(query, wq.Term | ColumnRange):
        return True
    if type(query) is wq.Phrase:
        return query.boost == 1.0
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
        if type(query) is wq.Phrase:
            return self.phrase(query)
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
        found = self._lookup(query.fieldname, query.text)
        if found is None:
            return {}
        ids, weights = self.postings(query.fieldname, found)
        score = self._scorer(query.fieldname, found, query.boost)
        deleted = self.deleted
        return {d: score(d, w) for d, w in zip(ids, weights, strict=True) if d not in deleted}

    def _lookup(self, fieldname: str, word: object) -> bytes | None:
        """The term as the index holds it, or None when this segment does not have it."""
        try:
            text = self.reader.schema[fieldname].to_bytes(word)
        except (KeyError, ValueError):  # as Whoosh: an unknown field or a value it refuses
            return None
        return text if (fieldname, text) in self.reader else None

    def _scorer(self, fieldname: str, text: bytes, boost: float
                ) -> Callable[[int, float], float]:
        """Whoosh's score for a page of this segment holding the term with weight w."""
        if not self.reader.schema[fieldname].scorable:  # Whoosh's WeightScorer: the weight
            return lambda _d, w: w * boost
        k1, b = BM25_K1, BM25_B
        idf = self.top.idf(fieldname, text) * boost
        avgfl = self.top.avg_field_length(fieldname) or 1
        lengths = field_lengths(self.memo, self.segid, self.reader, fieldname)
        # BM25: idf * tf (k1 + 1) / (tf + k1 (1 - b + b length / average length))
        base, per_length, top = k1 * (1 - b), k1 * b / avgfl, idf * (k1 + 1)
        return lambda d, w: top * w / (w + base + per_length * lengths[d])

    def phrase(self, query: wq.Phrase) -> Scores:
        """Pages with the words in order, each within `slop` of the one before.

        Pages holding every word are found from the postings, rarest word first; only those
        have their word positions read. The score is Whoosh's for a phrase: the words'
        scores added.
        """
        texts = [self._lookup(query.fieldname, word) for word in query.words]
        if not texts or None in texts:
            return {}
        lists = [self.postings(query.fieldname, text) for text in texts]
        order = sorted(range(len(lists)), key=lambda i: len(lists[i][0]))
        candidates = [d for d in lists[order[0]][0] if d not in self.deleted]
        for i in order[1:]:
            ids = lists[i][0]
            candidates = [d for d in candidates if _holds(ids, d)]
        scorers = [self._scorer(query.fieldname, text, 1.0) for text in texts]
        matchers = [self.reader.postings(query.fieldname, text) for text in texts]
        kept: Scores = {}
        for docnum in candidates:  # ascending, as the matchers move
            positions = []
            for matcher in matchers:
                matcher.skip_to(docnum)
                positions.append(matcher.value_as("positions"))
            if _in_order(positions, query.slop):
                kept[docnum] = sum(
                    score(docnum, weights[bisect_left(ids, docnum)])
                    for score, (ids, weights) in zip(scorers, lists, strict=True))
        return kept

    def postings(self, fieldname: str, text: bytes) -> tuple[array, array]:
        """The term's docnums and weights in this segment, read once and kept."""

        def read() -> tuple[array, array]:
            ids, weights = array("I"), array("d")
            matcher = self.reader.postings(fieldname, text)
            # Deleted pages are left out at search time instead: they change, the rest not.
            matcher = getattr(matcher, "child", matcher) if self.deleted else matcher
            if isinstance(matcher, W3LeafMatcher):
                _read_blocks(matcher, ids, weights)
                return ids, weights
            while matcher.is_active():
                ids.append(matcher.id())
                weights.append(matcher.weight())
                matcher.next()
            return ids, weights

        return self.memo.get((self.segid, "postings", fieldname, text), read)


def _read_blocks(matcher: W3LeafMatcher, ids: array, weights: array) -> None:
    """A whole posting list a block at a time: stepping the matcher one posting at a time
    was most of a search's time for words not read before. Whoosh 3's block fields are
    used as its own matcher uses them; tests/test_query_fuzz.py compares the result with
    Whoosh's matchers."""
    while matcher.is_active():
        matcher._read_ids()
        matcher._read_weights()
        _extend(ids, matcher._ids)
        _extend(weights, matcher._weights)
        matcher._i = matcher._blocklength - 1
        matcher.next()  # to the next block, or the end


def _extend(target: array, values) -> None:
    if isinstance(values, array) and values.typecode != target.typecode:
        target.fromlist(values.tolist())
    else:
        target.extend(values)


BM25_K1, BM25_B = 1.2, 0.75  # Whoosh's BM25F defaults, which the index is searched with


def _holds(ids: array, docnum: int) -> bool:
    i = bisect_left(ids, docnum)
    return i < len(ids) and ids[i] == docnum


def _in_order(positions: list[list[int]], slop: int) -> bool:
    """Whether some run of positions, one per word, has each 1 to `slop` after the last
    (Whoosh's ordered span test, as its Phrase query applies it)."""
    ends = set(positions[0])
    for following in positions[1:]:
        ends = {p for p in following if any(1 <= p - e <= slop for e in ends)} \
            if slop > 1 else {p for p in following if p - 1 in ends}
        if not ends:
            return False
    return True


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
