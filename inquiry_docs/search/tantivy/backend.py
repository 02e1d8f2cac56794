"""The tantivy search backend: one tantivy record per page, in INDEX_DIR/tantivy.

Only the job side writes (files.py: our lock, then tantivy's, one commit per batch); web
processes share one Index object and reload it when meta.json changed. The user's reach
and the filters are clauses of the tantivy query itself; tags, coding and evidence links
are read from the database at search time (labels.py), so changing them writes nothing
here. Every tantivy call of a search runs in a bounded pool of worker threads, so a
search past SEARCH_TIME_LIMIT is answered with QueryTooBroad (tantivy cannot be
interrupted: the worker finishes it and is then free again).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import tantivy
from markupsafe import Markup
from tantivy import Occur, Query

from ...access.permissions import Scope
from .. import query as ql
from ..contract import DocumentHit, IndexPage, PageHit, Results, SnippetSource
from ..facets import FacetCounts, Filters
from ..query import QueryTooBroad
from ..snippets import snippet
from . import collect, labels
from .compile import Compiled, Labels, build, stems
from .files import (
    IndexDamaged,
    IndexOutdated,
    batch_writer,
    create_index,
    exists,
    open_index,
    write_lock,
)
from .marking import marking_tokenizer, snippet_spans
from .schema import record, urn_of

log = logging.getLogger(__name__)

FOLDER = "tantivy"  # the index's folder inside INDEX_DIR
EXPANDED = 50  # pages listed for a document whose "more pages" link was followed
SHOWN = 3
BIG_BATCH = 2_000  # pages from which a batch is written by every indexing thread
SEARCH_WORKERS = 4  # tantivy calls running at once; past the time limit one stays busy
MORE_LIKE_TERMS = 12  # telling words a "more like this" search is built from
MORE_LIKE_CANDIDATES = 40  # the source's most frequent words whose rarity is looked up
MORE_LIKE_CHARS = 20_000  # of a document's text, enough to find them
# Matching documents up to which facets are counted over all of them (the counting reads
# their rows from the database); past it, over the best FACET_LIMIT, and the page says so.
FACET_LIMIT = 1_000

T = TypeVar("T")
LABELS = Labels(tag_documents=lambda v: labels.tag_documents([v]),
                rec_pages=lambda v: labels.rec_pages([v]))


class TantivyBackend:
    """SearchBackend over a tantivy index (SEARCH_BACKEND=tantivy)."""

    transactional = False  # written by the index job, after the pages are committed
    labels_in_index = False  # tags, coding and links are read from their tables

    def __init__(self, index_dir: str, lock_timeout: float = 30.0,
                 time_limit: float = ql.TIME_LIMIT, memory_mb: int = 256,
                 exact_limit: int = collect.EXACT_LIMIT) -> None:
        self.directory = Path(index_dir) / FOLDER
        self.lock_timeout = lock_timeout
        self.time_limit = time_limit
        self.memory_mb = memory_mb
        self.exact_limit = exact_limit
        self.threads = min(2, os.cpu_count() or 1)
        self._index: tantivy.Index | None = None
        self._seen: tuple[int, int] | None = None  # meta.json's (mtime_ns, size) read
        self._open_lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(
            SEARCH_WORKERS, thread_name_prefix="tantivy-search")
        self._marker: Callable[[str], Iterable] | None = None

    # --- opening ------------------------------------------------------------------------

    def _ix(self) -> tantivy.Index:
        with self._open_lock:
            if self._index is None:
                if not exists(self.directory):
                    with write_lock(self.directory, self.lock_timeout):
                        if not exists(self.directory):
                            create_index(self.directory)
                self._index = open_index(self.directory)
                self._seen = self._meta()
            return self._index

    def _meta(self) -> tuple[int, int] | None:
        try:
            stat = os.stat(self.directory / "meta.json")
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _searcher(self) -> tantivy.Searcher:
        """A searcher of the last commit: the index is reloaded (cheap: new segments only)
        when meta.json has changed since it was last read."""
        index = self._ix()
        meta = self._meta()
        if meta != self._seen:
            with self._open_lock:
                if meta is None:
                    self._index = None
                    raise IndexDamaged("The search index's meta.json is missing.")
                try:
                    index.reload()
                except BaseException as error:  # a ValueError, or a panic on a bad file
                    if isinstance(error, KeyboardInterrupt | SystemExit):
                        raise
                    self._index = None  # opened afresh (and judged again) next time
                    raise IndexDamaged(f"The search index cannot be read: {error}") from None
                self._seen = meta
        return index.searcher()

    @property
    def schema(self) -> tantivy.Schema:
        return self._ix().schema

    # --- writing (jobs only) ------------------------------------------------------------

    @contextlib.contextmanager
    def _writer(self, pages: int = 0) -> Iterator[tantivy.IndexWriter]:
        # Each indexing thread writes a segment of its own: a small batch takes one.
        threads = self.threads if pages >= BIG_BATCH else 1
        index = self._ix()  # first: opening a new index takes the lock itself
        with write_lock(self.directory, self.lock_timeout), \
                batch_writer(index, self.memory_mb, threads, self.lock_timeout) as writer:
            yield writer

    def index_pages(self, document_ids: list[int], pages: list[IndexPage]) -> None:
        """Replace what is indexed for these documents with these pages, in one commit."""
        with self._writer(len(pages)) as writer:
            self._delete(writer, document_ids)
            for page in pages:
                writer.add_document(record(page))

    def delete_documents(self, document_ids: list[int]) -> None:
        with self._writer() as writer:
            self._delete(writer, document_ids)

    def _delete(self, writer: tantivy.IndexWriter, document_ids: list[int]) -> None:
        # By query, not delete_documents_by_term: that makes a Python int a signed term,
        # which matches nothing in an unsigned field.
        if document_ids:
            writer.delete_documents_by_query(Query.term_set_query(
                self.schema, "doc", sorted(set(document_ids))))

    def clear(self) -> None:
        """An empty index in place of whatever was there (damaged files included)."""
        with write_lock(self.directory, self.lock_timeout), self._open_lock:
            self._index = None
            create_index(self.directory)
            self._index = open_index(self.directory)
            self._seen = self._meta()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writer's lock (a backup copies the files meanwhile)."""
        with write_lock(self.directory, self.lock_timeout):
            yield

    def reopen(self) -> None:
        """Forget the open index, so files put in place by a restore are read afresh."""
        with self._open_lock:
            self._index = None
            self._seen = None

    def prepare(self) -> None:
        """Make the index folder and an empty index if there is none yet."""
        self._ix()

    def ping(self) -> int:
        """Open the index and read a page of it: raises if it cannot be read."""
        searcher = self._searcher()
        try:
            hits = searcher.search(Query.all_query(), 1).hits
            searcher.fast_field_values("doc", [address for _, address in hits])
            searcher.doc_freq("exact", "the")
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt | SystemExit):
                raise
            raise IndexDamaged(f"The search index cannot be read: {error}") from None
        return searcher.num_docs

    def indexed_page_counts(self) -> dict[int, int]:
        searcher = self._searcher()
        if not searcher.num_docs:
            return {}
        found = searcher.aggregate(Query.all_query(), {"d": {"terms": {
            "field": "doc", "size": searcher.num_docs}}})
        return {int(b["key"]): int(b["doc_count"]) for b in found["d"]["buckets"]}

    # --- reading ------------------------------------------------------------------------

    def _limited(self, work: Callable[[], T]) -> T:
        """Run `work` (tantivy calls only: no database) in the pool, within the limit."""
        start = time.monotonic()
        future = self._pool.submit(work)
        try:
            result = future.result(timeout=self.time_limit)
        except concurrent.futures.TimeoutError:
            raise _too_slow(self.time_limit) from None
        if time.monotonic() - start > self.time_limit:  # finished, but past the limit
            raise _too_slow(self.time_limit)
        return result

    def _compile(self, text: str, searcher: tantivy.Searcher) -> tuple[Compiled, str]:
        """The user's text as a tantivy query and any notice; raises only QueryTooBroad."""
        parsed = ql.parse(text)
        try:
            compiled = build(parsed.node, self.schema, searcher, LABELS)
        except QueryTooBroad:
            raise
        except Exception:  # valid syntax tantivy still refused: never let it reach the user
            log.warning("tantivy refused %r; searching its words instead", text, exc_info=True)
            parsed = ql.plain_words(text)
            compiled = build(parsed.node, self.schema, searcher, LABELS)
        return compiled, " ".join(n for n in (parsed.notice, *compiled.notices) if n)

    def _reach(self, scope: Scope) -> Query | None:
        """The user's reach as a query clause (None: nothing is within reach).

        Inquiries with the same grant share one clause, and value sets are ORs of term
        queries: a term_set_query reads every posting of its terms (all pages within
        reach) on each search, where term queries skip to the pages the words matched.
        """
        schema = self.schema
        grants: dict[tuple[tuple[str, ...], bool], list[int]] = {}
        for inquiry_id in scope.inquiry_ids:
            markings = tuple(sorted(scope.markings_for(inquiry_id)))
            if markings:
                key = (markings, scope.sees_restricted(inquiry_id))
                grants.setdefault(key, []).append(inquiry_id)
        allowed = []
        for (markings, restricted), inquiry_ids in grants.items():
            parts = [(Occur.Must, _any_term(schema, "inquiry", sorted(inquiry_ids))),
                     (Occur.Must, _any_term(schema, "marking", list(markings)))]
            if not restricted:
                parts.append((Occur.Must, Query.term_query(schema, "restricted", False)))
            allowed.append(Query.boolean_query(parts))
        if len(allowed) == 1:
            return allowed[0]
        return Query.boolean_query([(Occur.Should, q) for q in allowed]) if allowed else None

    def _within(self, query: Query, scope: Scope, filters: Filters | None,
                extra: list[tuple[Occur, Query]] = ()) -> Query | None:
        """`query` inside the user's reach and the filters (which score nothing)."""
        reach = self._reach(scope)
        if reach is None:
            return None
        return Query.boolean_query([
            (Occur.Must, query), (Occur.Must, Query.const_score_query(reach, 0.0)),
            *labels.filter_clauses(self.schema, filters), *extra])

    def _only(self, document_ids: Iterable[int]) -> list[tuple[Occur, Query]]:
        ids = sorted(set(document_ids))
        return [(Occur.Must, Query.const_score_query(
            Query.term_set_query(self.schema, "doc", ids), 0.0))]

    def search(self, query: str, scope: Scope, *, offset: int = 0, limit: int = 20,
               snippet_text: SnippetSource | None = None, filters: Filters | None = None,
               sort: str = "relevance", expand: int | None = None,
               facets: bool = False) -> Results:
        """Documents matching `query` within `scope`; raises QueryTooBroad past the limits.

        Each document lists its best 3 pages, or up to EXPANDED for the `expand` document;
        snippets are made only for the documents returned.
        """
        searcher = self._searcher()
        compiled, notice = self._compile(query, searcher)
        full = None if compiled.nothing else self._within(compiled.query, scope, filters)
        return self._results(searcher, full, query, notice, compiled.terms, offset, limit,
                             snippet_text, sort, expand, facets)

    def _results(self, searcher: tantivy.Searcher, full: Query | None, query: str,
                 notice: str, terms: set[str], offset: int, limit: int,
                 snippet_text: SnippetSource | None, sort: str, expand: int | None,
                 facets: bool) -> Results:
        counts = FacetCounts() if facets else None
        if full is None:
            return Results(query, [], 0, 0, notice, counts)
        sample = FACET_LIMIT if facets else 0
        found = self._limited(lambda: collect.find(searcher, full, sort, offset + limit,
                                                   self.exact_limit, sample))
        shown = found.groups[offset:offset + limit]
        if not found.scored and shown:
            self._fill(searcher, full, shown)
        counted, sampled = 0, False
        if counts is not None:
            ids, sampled = _facet_documents(found)
            labels.count_facets(counts, ids, lambda keys: self._limited(
                lambda: collect.matching_keys(searcher, self.schema, full, keys)))
            counted = len(ids)
        documents = []
        for group in shown:
            pages = EXPANDED if group.document_id == expand else SHOWN
            documents.append(DocumentHit(
                group.document_id, urn_of(group.urn_key), group.score,
                [PageHit(n, s, Markup("")) for n, s in group.pages[:pages]],
                len(group.pages)))
        self._snippets(searcher, documents, terms, snippet_text)
        return Results(query, documents, found.total_documents, found.total_pages, notice,
                       counts, estimated=found.estimated, facet_documents=counted,
                       facets_sampled=sampled)

    def _fill(self, searcher: tantivy.Searcher, full: Query, groups: list[collect.Group]
              ) -> None:
        """Every matching page of the shown documents, scored, best first."""
        only = Query.boolean_query([(Occur.Must, full),
                                    *self._only(g.document_id for g in groups)])
        hits = self._limited(lambda: collect.every_hit(searcher, only))
        pages: dict[int, list[tuple[int, float]]] = {}
        for doc, page, score in hits:
            pages.setdefault(doc, []).append((page, score))
        for group in groups:
            group.pages = sorted(pages.get(group.document_id, []), key=lambda p: (-p[1], p[0]))
            group.score = group.pages[0][1] if group.pages else 0.0

    def _snippets(self, searcher: tantivy.Searcher, documents: list[DocumentHit],
                  terms: set[str], snippet_text: SnippetSource | None) -> None:
        """Snippets of the shown pages only, analysing only where the words can be
        (snippet_spans); snippets.py escapes and marks them as for every backend."""
        if not (snippet_text and documents):
            for doc in documents:
                for page in doc.pages:
                    page.snippet = snippet("", terms, self.tokenizer())
            return
        texts = snippet_text({d.document_id: [p.number for p in d.pages] for d in documents})
        tokenize = snippet_spans(terms, self.tokenizer())
        for doc in documents:
            for page in doc.pages:
                page.snippet = snippet(texts.get((doc.document_id, page.number), ""), terms,
                                       tokenize)

    def _pages(self, query: str, scope: Scope, document_id: int) -> list[tuple[int, float]]:
        searcher = self._searcher()
        compiled, _ = self._compile(query, searcher)
        full = None if compiled.nothing else \
            self._within(compiled.query, scope, None, self._only([document_id]))
        if full is None:
            return []
        hits = self._limited(lambda: collect.every_hit(searcher, full))
        return [(page, score) for _, page, score in hits]

    def matching_pages(self, query: str, scope: Scope, document_id: int) -> list[int]:
        """The page numbers of one document that match `query` within `scope`, in order."""
        return sorted({page for page, _ in self._pages(query, scope, document_id)})

    def page_scores(self, query: str, scope: Scope, document_id: int) -> dict[int, float]:
        """Each matching page of one document with its score, within `scope`."""
        return dict(self._pages(query, scope, document_id))

    def all_hits(self, query: str, scope: Scope, *, filters: Filters | None = None,
                 sort: str = "relevance", limit: int = collect.MAX_HITS
                 ) -> tuple[set[str], list[tuple[int, str, int, float]]]:
        """The terms to mark, and every matching page as (document id, URN, page, score):
        documents in the order asked for, each document's pages best first."""
        searcher = self._searcher()
        compiled, _ = self._compile(query, searcher)
        full = None if compiled.nothing else self._within(compiled.query, scope, filters)
        if full is None:
            return compiled.terms, []

        def every() -> list[collect.Group]:
            hits = searcher.search(full, collect.MAX_HITS, count=False).hits
            return collect.group_all(searcher, hits, sort)

        rows: list[tuple[int, str, int, float]] = []
        for group in self._limited(every):
            urn = urn_of(group.urn_key)
            for number, score in group.pages[:limit - len(rows)]:
                rows.append((group.document_id, urn, number, score))
            if len(rows) >= limit:
                break
        return compiled.terms, rows

    def more_like(self, text: str, scope: Scope, *, exclude: int, limit: int = 10,
                  snippet_text: SnippetSource | None = None) -> Results:
        """Other documents whose pages share this text's most telling words: the most
        frequent in `text` (stems), weighted by how rare they are in the index; the access
        filter applies as in any search, and the document the text came from is left out.
        """
        searcher = self._searcher()
        if not text.strip() or not searcher.num_docs:
            return Results("", [], 0, 0)
        words = _telling_words(searcher, text[:MORE_LIKE_CHARS])
        if not words:
            return Results("", [], 0, 0)
        top = max(weight for _, weight in words)
        like = Query.boolean_query([
            (Occur.Should, Query.boost_query(Query.term_query(self.schema, "text", w),
                                             weight / top)) for w, weight in words])
        full = self._within(like, scope, None, [
            (Occur.MustNot, Query.term_query(self.schema, "doc", exclude))])
        results = self._results(searcher, full, " ".join(w for w, _ in words), "",
                                {w for w, _ in words}, 0, limit, snippet_text, "relevance",
                                None, False)
        return results

    def terms_for(self, query: str) -> set[str]:
        """What to mark on a document's pages for `query` (nothing if it is too broad)."""
        try:
            compiled, _ = self._compile(query, self._searcher())
        except QueryTooBroad:
            return set()
        return compiled.terms

    def tokenizer(self) -> Callable[[str], Iterable]:
        if self._marker is None:
            self._marker = marking_tokenizer()
        return self._marker


def _facet_documents(found: collect.Found) -> tuple[list[int], bool]:
    """The documents the facets count, and whether they are only the best of them."""
    if found.every:
        return [g.document_id for g in found.groups], False
    if found.documents is not None and len(found.documents) <= FACET_LIMIT:
        return found.documents, False
    return [g.document_id for g in found.groups[:FACET_LIMIT]], True


def _any_term(schema: tantivy.Schema, name: str, values: list) -> Query:
    if len(values) == 1:
        return Query.term_query(schema, name, values[0])
    return Query.boolean_query([(Occur.Should, Query.term_query(schema, name, v))
                                for v in values])


def _too_slow(seconds: float) -> QueryTooBroad:
    return QueryTooBroad(f"The search took longer than {seconds:g} seconds and was stopped.",
                         "Use more specific words, fewer * and ~ words, or an exact phrase.")


def _telling_words(searcher: tantivy.Searcher, text: str) -> list[tuple[str, float]]:
    """(stem, weight): frequency in `text` times rarity (idf) among the indexed pages."""
    frequency = Counter(w for w in stems(text) if len(w) > 2 and not w.isdigit())
    pages = max(1, searcher.num_docs)
    scored = []
    for word, count in frequency.most_common(MORE_LIKE_CANDIDATES):
        df = searcher.doc_freq("text", word)
        if df:
            scored.append((count * math.log(1 + pages / (1 + df)), word))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [(w, weight) for weight, w in scored[:MORE_LIKE_TERMS]]


__all__ = ["IndexDamaged", "IndexOutdated", "TantivyBackend"]
