"""What a search works out from the index once and keeps: per segment, shared by threads.

Whoosh segments never change once written (a deletion only hides documents), so a column
read as a list, the pages an access filter lets through or a facet's values per page stay
true for as long as the segment exists. Keeping them per segment, in one store shared by
every request thread, means a commit that adds a small segment costs that segment's share
only, not a fresh read of the whole index by every thread.

Values are kept as tuples and byte masks: the garbage collector stops looking inside a
tuple of plain values, while a full collection walks every element of a list or set
(millions at 100,000 pages, a tenth of a second each time it runs).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from whoosh import query as wq
from whoosh import scoring
from whoosh.idsets import DocIdSet
from whoosh.matching import ListMatcher, NullMatcher

Leaf = tuple[str, Any, int]  # (segment id, that segment's searcher, its first global docnum)


class Memo:
    """Values computed once per key, by one thread while others wanting it wait.

    Keys are (segment id or tuple of them, kind, ...). Kinds named in `bounds` keep only
    that many values, the least recently used going first: a filter combination or a
    term's postings, unlike a column, are not bounded by the index's shape.
    """

    def __init__(self, bounds: dict[str, int] | None = None) -> None:
        self._lock = threading.Lock()
        self._values: dict[Hashable, Any] = {}
        self._pending: dict[Hashable, threading.Event] = {}
        self._bounds = bounds or {}
        self._recent: dict[str, OrderedDict[Hashable, None]] = {
            kind: OrderedDict() for kind in self._bounds}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        while True:
            with self._lock:
                if key in self._values:
                    recent = self._recent.get(key[1])
                    if recent is not None:
                        recent.move_to_end(key)
                    return self._values[key]
                waiting = self._pending.get(key)
                if waiting is None:
                    done = self._pending[key] = threading.Event()
                    break
            waiting.wait()  # then look again: the maker may have failed
        try:
            value = make()
            with self._lock:
                self._values[key] = value
                recent = self._recent.get(key[1])
                if recent is not None:
                    recent[key] = None
                    while len(recent) > self._bounds[key[1]]:
                        self._values.pop(recent.popitem(last=False)[0], None)
            return value
        finally:
            with self._lock:
                del self._pending[key]
            done.set()

    def retain(self, live: tuple[str, ...]) -> None:
        """Forget what belongs to segments no longer in the index (merged or cleared), and
        whole-index values of any other set of segments than `live`."""
        segments = set(live)
        with self._lock:
            for key in [k for k in self._values
                        if (k[0] != live if isinstance(k[0], tuple) else k[0] not in segments)]:
                self._forget(key)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            for recent in self._recent.values():
                recent.clear()

    def _forget(self, key: Hashable) -> None:
        del self._values[key]
        recent = self._recent.get(key[1])
        if recent is not None:
            recent.pop(key, None)


def leaves(searcher) -> list[Leaf]:
    """The searcher's segments, in docnum order."""
    out = []
    for sub, offset in searcher.leaf_searchers():
        segment = sub.reader().segment()
        out.append((segment.segment_id() if segment is not None else f"reader-{id(sub)}",
                    sub, offset))
    return out


def column(memo: Memo, leaf: Leaf, name: str, translate: bool = True) -> tuple:
    """One segment's values of a column, indexed by its docnums."""
    segid, sub, _ = leaf

    # A segment without the column answers its default value for every page.
    return memo.get((segid, "column", name, translate),
                    lambda: tuple(sub.reader().column_reader(name, translate=translate)))


def term_lists(memo: Memo, leaf: Leaf, name: str) -> tuple[tuple[str, ...], ...]:
    """One segment's terms of field `name` for each docnum (tags, links, coding values)."""
    segid, sub, _ = leaf

    def read() -> tuple[tuple[str, ...], ...]:
        reader = sub.reader()
        values: list[tuple[str, ...]] = [()] * reader.doc_count_all()
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}  # one object per combination
        for term in reader.lexicon(name):
            text = term.decode("utf-8")
            for docnum in reader.postings(name, term).all_ids():
                combined = (*values[docnum], text)
                values[docnum] = shared.setdefault(combined, combined)
        return tuple(values)

    return memo.get((segid, "terms", name), read)


def lexicon(memo: Memo, leaf: Leaf, fieldname: str) -> tuple[str, ...]:
    """One segment's words of a field, sorted (for * and ~ expansions)."""
    segid, sub, _ = leaf
    return memo.get((segid, "lexicon", fieldname),
                    lambda: tuple(t.decode("utf-8") for t in sub.reader().lexicon(fieldname)))


def allowed(memo: Memo, leaf: Leaf, query: wq.Query) -> tuple[int, ...]:
    """One segment's docnums that `query` (an access or filter query) lets through."""
    segid, sub, _ = leaf
    return memo.get((segid, "allow", query), lambda: tuple(query.docs(sub)))


class Pages(DocIdSet):
    """Global docnums as a byte per page: what a search may return (the access filter)."""

    def __init__(self, size: int, docnums: Iterable[int]) -> None:
        mask = bytearray(size)
        for docnum in docnums:
            mask[docnum] = 1
        self.mask = bytes(mask)
        self.count = sum(self.mask)

    def __contains__(self, docnum: object) -> bool:
        return isinstance(docnum, int) and 0 <= docnum < len(self.mask) \
            and bool(self.mask[docnum])

    def __len__(self) -> int:
        return self.count

    def __iter__(self):
        return (i for i, flag in enumerate(self.mask) if flag)


class ColumnRange(wq.Query):
    """Pages whose column value lies in [low, high], read from the column, not the terms.

    A date range over many days is a union of thousands of terms in Whoosh, seconds on a
    large index; compared against the column it costs one pass over one list per segment.
    """

    def __init__(self, memo: Memo, fieldname: str, low: int, high: int,
                 boost: float = 1.0) -> None:
        self.memo = memo
        self.fieldname = fieldname
        self.low = low
        self.high = high
        self.boost = boost

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ColumnRange) and other.fieldname == self.fieldname
                and (other.low, other.high, other.boost) == (self.low, self.high, self.boost))

    def __hash__(self) -> int:
        return hash((ColumnRange, self.fieldname, self.low, self.high, self.boost))

    def __repr__(self) -> str:
        return f"ColumnRange({self.fieldname!r}, {self.low}, {self.high})"

    def field(self) -> str:
        return self.fieldname

    def estimate_size(self, ixreader) -> int:
        return ixreader.doc_count()

    def matcher(self, searcher, context=None):
        found = self.docs(searcher)
        if not found:
            return NullMatcher()
        return ListMatcher(found, all_weights=self.boost)

    def docs(self, searcher, deleting: bool = False) -> Sequence[int]:
        reader = searcher.reader()
        segment = reader.segment()
        if segment is None or not reader.has_column(self.fieldname):
            return []
        leaf = (segment.segment_id(), searcher, 0)
        values = column(self.memo, leaf, self.fieldname, translate=False)
        low, high = self.low, self.high
        found = self.memo.get((leaf[0], "range", self.fieldname, low, high),
                              lambda: tuple(d for d, v in enumerate(values)
                                            if low <= v <= high))
        if not reader.has_deletions():
            return found
        deleted = reader.deleted_docs_set
        return [d for d in found if d not in deleted]


class Weighting(scoring.BM25F):
    """BM25F, reading each page's field length from a per-segment list.

    Whoosh looks the length up through its column reader for every hit, a third of
    the time a broad search spends scoring.
    """

    def __init__(self, memo: Memo) -> None:
        super().__init__()
        self.memo = memo

    def scorer(self, searcher, fieldname, text, qf=1):
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        segment = searcher.reader().segment()
        if hasattr(scorer, "dfl") and segment is not None:
            lengths = field_lengths(self.memo, segment.segment_id(), searcher.reader(),
                                    fieldname)
            scorer.dfl = lengths.__getitem__
        return scorer


def field_lengths(memo: Memo, segid: str, reader, fieldname: str) -> tuple[int, ...]:
    """Each page's length in words for one field of one segment (for BM25)."""
    return memo.get((segid, "lengths", fieldname),
                    lambda: tuple(reader.doc_field_length(d, fieldname, 1)
                                  for d in range(reader.doc_count_all())))
