"""What every search backend offers the rest of the app: the records it indexes, the
results it returns, and the methods of a backend (`SearchBackend`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from markupsafe import Markup

from ..access.permissions import Scope
from .facets import FacetCounts, Filters


class IndexLocked(Exception):
    """Another writer holds the index; the job that met it is retried."""


class IndexOutdated(Exception):
    """The index on disk was built with an older schema: `inquiry-docs reindex` rebuilds it."""


class IndexDamaged(Exception):
    """The index files cannot be read: `inquiry-docs check --repair` rebuilds it."""


@dataclass
class IndexPage:
    """What the index holds for one page (built from committed database rows)."""

    document_id: int
    urn: str
    number: int
    text: str
    title: str
    inquiry_id: int
    doc_type: str
    source: str
    marking: str
    date: datetime | None
    restricted: bool = False
    recs: tuple[str, ...] = ()  # the recommendations this page is linked to (`rec:13`)
    tags: tuple[int, ...] = ()  # tag ids: a rename needs no re-index
    relevance: str = "not_reviewed"
    privilege: str = "none"
    review: str = "to_do"
    reviewer: int | None = None
    redaction: bool = False


@dataclass
class PageHit:
    number: int
    score: float
    snippet: Markup


@dataclass
class DocumentHit:
    document_id: int
    urn: str
    score: float
    pages: list[PageHit] = field(default_factory=list)
    total_pages: int = 0


@dataclass
class Results:
    query: str
    documents: list[DocumentHit]
    total_documents: int
    total_pages: int
    notice: str = ""
    facets: FacetCounts | None = None  # documents per filter value, when asked for
    # True when total_documents is an estimate (a broad search on the tantivy backend);
    # total_pages is always exact.
    estimated: bool = False
    facet_documents: int = 0  # how many documents the facets counted
    # True when the facets count only the best `facet_documents` of the matching
    # documents (so each count is a lower bound), not all of them.
    facets_sampled: bool = False


class SearchBackend(Protocol):
    # True when index writes happen in the caller's database transaction (PostgreSQL):
    # pages are searchable once committed, and no index job is needed.
    transactional: bool
    # True when tags, coding and evidence links are written into the index (Whoosh), so
    # changing one re-indexes the document; False when they are read from their tables at
    # search time (tantivy, PostgreSQL), so such a change only commits.
    labels_in_index: bool

    def index_pages(self, document_ids: list[int], pages: list[IndexPage]) -> None:
        """Replace everything indexed for these documents with these pages, atomically."""

    def delete_documents(self, document_ids: list[int]) -> None: ...

    def indexed_page_counts(self) -> dict[int, int]: ...

    def prepare(self) -> None:
        """Bring the index's own structures in line with the settings (run by `init`)."""

    def ping(self) -> int:
        """Prove the index can be read (for /healthz); raises when it cannot."""

    def locked(self) -> AbstractContextManager[None]:
        """Hold the index writer's lock while the index files are copied."""

    def reopen(self) -> None:
        """Read the index files afresh (after a restore replaced them)."""

    def search(self, query: str, scope: Scope, *, offset: int = 0, limit: int = 20,
               snippet_text: SnippetSource | None = None, filters: Filters | None = None,
               sort: str = "relevance", expand: int | None = None,
               facets: bool = False) -> Results:
        """Documents in `sort` order, `filters` and `scope` applied inside the search."""

    def matching_pages(self, query: str, scope: Scope, document_id: int) -> list[int]:
        """The page numbers of one document that match, within scope."""

    def page_scores(self, query: str, scope: Scope, document_id: int) -> dict[int, float]:
        """Each matching page of one document with its score, within scope."""

    def all_hits(self, query: str, scope: Scope, *, filters: Filters | None = None,
                 sort: str = "relevance", limit: int = 100_000
                 ) -> tuple[set[str], list[tuple[int, str, int, float]]]:
        """Terms to mark, and every matching page as (document id, URN, page, score)."""

    def more_like(self, text: str, scope: Scope, *, exclude: int, limit: int = 10,
                  snippet_text: SnippetSource | None = None) -> Results:
        """Other documents sharing this text's most telling words, within scope."""

    def terms_for(self, query: str) -> set[str]:
        """What to mark on a document's pages for `query`."""

    def tokenizer(self) -> Callable[[str], Iterable]:
        """Tokens of page text in the form `terms_for` gives, for marking in Python."""

    def clear(self) -> None: ...


class SnippetSource(Protocol):
    """The text of the shown pages, fetched together: {document id: page numbers} in,
    {(document id, page number): text} out."""

    def __call__(self, wanted: dict[int, list[int]]) -> dict[tuple[int, int], str]: ...
