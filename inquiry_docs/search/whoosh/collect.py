"""Collecting Whoosh hits: the access filter, a deadline checked at every candidate page,
and matching pages grouped by document."""

from __future__ import annotations

import time
from collections.abc import Iterator

from whoosh import query as wq
from whoosh.collectors import TimeLimit, WrappingCollector

from ...access.permissions import Scope


def scope_filter(scope: Scope) -> wq.Query:
    """The user's reach as a Whoosh filter, applied inside the search."""
    allowed = []
    for inquiry_id in scope.inquiry_ids:
        parts = [wq.Term("inquiry", inquiry_id),
                 wq.Or([wq.Term("marking", m) for m in scope.markings_for(inquiry_id)])]
        if not scope.sees_restricted(inquiry_id):
            parts.append(wq.Term("restricted", "no"))
        allowed.append(wq.And(parts))
    return wq.Or(allowed) if allowed else wq.NullQuery


class Group:
    """One document's matching pages, best first, as (docnum, score)."""

    __slots__ = ("_page_col", "document_id", "first", "hits", "score")

    def __init__(self, document_id: int, hits: list[tuple[int, float]],
                 page_col: tuple) -> None:
        self.document_id = document_id
        self.hits = hits
        self.first, self.score = hits[0]  # the best page's docnum, and its score
        self._page_col = page_col

    @property
    def docnums(self) -> list[int]:
        return [docnum for docnum, _ in self.hits]

    @property
    def pages(self) -> list[tuple[int, float]]:
        """(page number, score) for each matching page, best first."""
        page_col = self._page_col
        return [(page_col[docnum], score) for docnum, score in self.hits]


class Found:
    """Hits from postings.search, read as the backend's _group reads Whoosh's results."""

    def __init__(self, hits: list[tuple[int, float]]) -> None:
        self.hits = hits

    def scored_length(self) -> int:
        return len(self.hits)

    def items(self) -> Iterator[tuple[int, float]]:
        return iter(self.hits)


class Deadline(WrappingCollector):
    """Raises TimeLimit once a search has run `seconds`, checked at every candidate page.

    Unlike Whoosh's TimeLimitCollector it starts no timer thread and uses no signal (web
    requests run in worker threads), and it sits inside the FilterCollector.
    """

    def __init__(self, child, seconds: float) -> None:
        super().__init__(child)
        self.seconds = seconds
        self.deadline = 0.0

    def prepare(self, top_searcher, q, context) -> None:
        self.child.prepare(top_searcher, q, context)
        self.deadline = time.monotonic() + self.seconds

    def matches(self):
        deadline = self.deadline
        for sub_docnum in self.child.matches():
            if time.monotonic() > deadline:
                raise TimeLimit
            yield sub_docnum
