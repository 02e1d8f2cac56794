"""The embedded search backend: one Whoosh record per page.

Only the job side writes (under a file lock, one commit per batch); web processes read
through a per-thread searcher that is refreshed rather than reopened.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path

from whoosh import index
from whoosh import query as wq
from whoosh.collectors import FilterCollector, TimeLimit
from whoosh.searching import Searcher

from ... import faults
from ...access.permissions import Scope
from .. import query as ql
from ..contract import DocumentHit, IndexLocked, IndexPage, PageHit, Results, SnippetSource
from ..facets import POSTING_FACETS, YEAR_MAX, YEAR_MIN, FacetCounts, Filters, normalise_source
from ..query import QueryTooBroad
from ..snippets import snippet
from . import postings, segments
from .collect import Deadline, Found, Group, scope_filter
from .compile import build, snippet_terms
from .files import IndexOutdated, abandon, fsync_tree, make_schema
from .files import storage as open_folder
from .marking import marking_tokenizer

log = logging.getLogger(__name__)

MAX_HITS = 100_000
NO_DATE = ql.UNDATED
EXPANDED = 50  # pages listed for a document whose "more pages" link was followed
ALLOW_KEPT = 128  # page sets of access-and-filter combinations (per segment, and joined)
POSTINGS_KEPT = 20_000  # word postings per segment (a common word's: ~30,000 pages)
PAGE_FACETS = ("rec",)  # linked page by page; the other posting facets are per document
MORE_LIKE_TERMS = 12  # telling words a "more like this" search is built from
MORE_LIKE_CHARS = 20_000  # of a document's text, enough to find them


class WhooshBackend:
    transactional = False  # written by the index job, after the pages are committed
    labels_in_index = True  # tags, coding and links are terms of each page

    def __init__(self, directory: str, lock_timeout: float = 30.0,
                 time_limit: float = ql.TIME_LIMIT, memory_mb: int = 256) -> None:
        self.directory = Path(directory)
        self.memory_mb = memory_mb
        self.lock_timeout = lock_timeout
        self.time_limit = time_limit
        self._local = threading.local()
        self._open_lock = threading.Lock()
        self._index: index.Index | None = None
        # Shared by every thread's searcher; filter combinations and postings are bounded.
        self._memo = segments.Memo({"allow": ALLOW_KEPT, "postings": POSTINGS_KEPT})
        self._marker: Callable[[str], Iterable] | None = None

    # --- opening ------------------------------------------------------------------------

    def _ix(self) -> index.Index:
        with self._open_lock:
            if self._index is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                storage = open_folder(self.directory)
                if storage.index_exists():
                    self._index = storage.open_index()
                    if set(self._index.schema.names()) != set(make_schema().names()):
                        self._index = None
                        raise IndexOutdated("The search index was built by an older version: "
                                            "run `inquiry-docs reindex` to rebuild it.")
                else:
                    self._index = storage.create_index(make_schema())
            return self._index

    def _searcher(self) -> Searcher:
        """This thread's searcher, opened again when the index has changed since.

        Opening is cheap (the files are read, not copied: see files.storage); what was worked
        out per segment stays in the shared memo, so only new segments cost anything.
        """
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and searcher.up_to_date():
            return searcher
        if searcher is not None:
            # Not refresh(): Whoosh's keeps readers of segments that have been merged away
            # and misses deletions in the ones it reuses.
            searcher.close()
        searcher = self._ix().searcher(weighting=segments.Weighting(self._memo))
        self._local.searcher = searcher
        self._local.leaves = segments.leaves(searcher)
        self._local.segids = tuple(segid for segid, _, _ in self._local.leaves)
        self._memo.retain(self._local.segids)
        return searcher

    def _column(self, name: str, translate: bool = True) -> tuple:
        """One column of this thread's searcher as a list indexed by docnum.

        Reading a column value through Whoosh's multi-segment reader costs a segment lookup
        per hit; grouping and counting every hit of a broad search does tens of thousands.
        """
        leaves = self._local.leaves

        def join() -> tuple:
            return tuple(chain.from_iterable(
                segments.column(self._memo, leaf, name, translate) for leaf in leaves))

        return self._memo.get((self._local.segids, "column", name, translate), join)

    def _terms(self, name: str) -> tuple[tuple[str, ...], ...]:
        """The terms of field `name` on each page (docnum), for counting facets."""
        leaves = self._local.leaves

        def join() -> tuple:
            return tuple(chain.from_iterable(
                segments.term_lists(self._memo, leaf, name) for leaf in leaves))

        return self._memo.get((self._local.segids, "terms", name), join)

    def _lexicons(self, fieldname: str) -> list[tuple[str, ...]]:
        """Each segment's words of a field, sorted, remembered (see segments.lexicon)."""
        if fieldname not in self._local.searcher.schema:
            return []
        return [segments.lexicon(self._memo, leaf, fieldname) for leaf in self._local.leaves]

    def _allowed(self, allow: wq.Query) -> segments.Pages:
        """The pages `allow` lets through (global docnums), worked out once per segment.

        Working the access filter out means walking every page of the user's inquiries;
        the same user (or anyone with the same reach) searches again with the same filter.
        """
        leaves = self._local.leaves
        size = self._local.searcher.doc_count_all()
        return self._memo.get(
            (self._local.segids, "allow", allow),
            lambda: segments.Pages(size, (leaf[2] + docnum for leaf in leaves
                                          for docnum in segments.allowed(self._memo, leaf,
                                                                         allow))))

    # --- writing (jobs only) ------------------------------------------------------------

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / "write.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + self.lock_timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise IndexLocked("The search index is busy.") from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    @contextlib.contextmanager
    def _writer(self) -> Iterator:
        with self._write_lock():
            # Below its memory limit the writer sorts postings in memory; above it, it
            # pickles sorted runs to disk and merges them, which costs a third more time.
            writer = self._ix().writer(timeout=self.lock_timeout, limitmb=self.memory_mb)
            # Segment files are written by now; the crash lands before the table of contents.
            faults.around(writer, "_commit_toc", "index_commit")
            try:
                yield writer
                writer.commit()
            except BaseException:
                abandon(writer)
                raise
            fsync_tree(self.directory)

    def index_pages(self, document_ids: list[int], pages: list[IndexPage]) -> None:
        with self._writer() as writer:
            for document_id in document_ids:
                writer.delete_by_term("doc", document_id)
            for page in pages:
                writer.add_document(
                    key=f"{page.document_id}:{page.number}", doc=page.document_id, urn=page.urn,
                    page=page.number, text=page.text, exact=page.text, title=page.title,
                    inquiry=page.inquiry_id, type=page.doc_type,
                    source=" ".join((page.source or "").lower().split()),
                    src=normalise_source(page.source),
                    marking=page.marking, restricted="yes" if page.restricted else "no",
                    date=page.date, year=page.date.year if page.date else None,
                    **({"rec": ",".join(page.recs)} if page.recs else {}),
                    tag=",".join(str(t) for t in page.tags), relevance=page.relevance,
                    privilege=page.privilege, review=page.review,
                    reviewer=str(page.reviewer) if page.reviewer else "none",
                    redaction="yes" if page.redaction else "no",
                )

    def delete_documents(self, document_ids: list[int]) -> None:
        with self._writer() as writer:
            for document_id in document_ids:
                writer.delete_by_term("doc", document_id)

    def clear(self) -> None:
        with self._write_lock(), self._open_lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Start from an empty folder: files of a damaged index may not be Whoosh's to
            # clean up. Readers with a file open keep reading it until they close it.
            for path in self.directory.iterdir():
                if path.is_file() and not path.name.endswith(".lock"):
                    path.unlink()
            self._index = open_folder(self.directory).create_index(make_schema())
            self._local = threading.local()
            self._memo.clear()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the writer's lock (e.g. to copy the files for a backup: no commit lands
        half-way through the copy)."""
        with self._write_lock():
            yield

    def reopen(self) -> None:
        """Forget the open index, so files put in place by a restore are read afresh."""
        with self._open_lock:
            self._index = None
            self._local = threading.local()
            self._memo.clear()

    def prepare(self) -> None:
        """Nothing to do: the index is made on first use."""

    def ping(self) -> int:
        """Open the index and count its pages: raises if it cannot be read."""
        with self._ix().searcher() as searcher:
            return searcher.doc_count()

    def indexed_page_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        with self._ix().searcher() as searcher:
            for fields in searcher.all_stored_fields():
                counts[fields["doc"]] = counts.get(fields["doc"], 0) + 1
        return counts

    # --- reading ------------------------------------------------------------------------

    def _parse(self, text: str, searcher: Searcher) -> tuple[wq.Query, str]:
        """The user's text as a Whoosh query and any notice; raises only QueryTooBroad."""
        parsed = ql.parse(text)
        try:
            compiled = build(parsed.node, searcher.schema, searcher.reader(), self._memo,
                                self._lexicons)
        except QueryTooBroad:
            raise
        except Exception:  # valid syntax Whoosh still refused: never let it reach the user
            parsed = ql.plain_words(text)
            compiled = build(parsed.node, searcher.schema, searcher.reader(), self._memo,
                                self._lexicons)
        return compiled.query, " ".join(n for n in (parsed.notice, *compiled.notices) if n)

    def _hits(self, query: str, scope: Scope, filters: Filters | None,
              document_id: int | None = None):
        """(searcher, parsed query, notice, hits): every page matching within reach."""
        searcher = self._searcher()
        parsed, notice = self._parse(query, searcher)
        if document_id is not None:
            # In the query, not the filter: a remembered filter per document would pile up.
            parsed = wq.And([parsed, wq.Term("doc", document_id)])
        return searcher, parsed, notice, self._collect(searcher, parsed, scope, filters)

    def _collect(self, searcher: Searcher, parsed: wq.Query, scope: Scope,
                 filters: Filters | None):
        """Every page matching `parsed` within reach, best first.

        The access filter and the user's filters are one filter, applied inside the search;
        nothing is removed afterwards. Queries of words (no phrases) are answered from the
        remembered postings (postings.py), the rest by Whoosh.
        """
        narrowed = filters.query() if filters else None
        scope_query = scope_filter(scope)
        allowed = self._allowed(scope_query if narrowed is None
                                else wq.And([scope_query, narrowed]))
        if not allowed:
            # Nothing within reach. Whoosh reads an empty allow-set as "no filter at all",
            # so the search must not run with it: it runs a query that matches nothing.
            parsed = wq.NullQuery
        try:
            if postings.supported(parsed):
                return Found(postings.search(self._memo, searcher, self._local.leaves, parsed,
                                              allowed, self.time_limit, MAX_HITS))
            # What searcher.search(filter=allowed) builds, with the clock between the two:
            # the access filter must be outermost (Whoosh's TimeLimitCollector around a
            # FilterCollector would bypass the filter), and the clock sees every candidate.
            collector = FilterCollector(Deadline(searcher.collector(limit=MAX_HITS),
                                                  self.time_limit), allow=allowed)
            searcher.search_with_collector(parsed, collector)
        except TimeLimit:
            raise QueryTooBroad(
                f"The search took longer than {self.time_limit:g} seconds and was stopped.",
                "Use more specific words, fewer * and ~ words, or an exact phrase.") from None
        return collector.results()

    def _group(self, searcher: Searcher, hits, sort: str, facets: FacetCounts | None):
        """Hits grouped by document, in the order asked for, read from columns only."""
        if not hits.scored_length():  # also: an empty index has no columns to read
            return [], 0
        doc_col = self._column("doc")
        page_col = self._column("page")
        grouped: dict[int, list[tuple[int, float]]] = {}
        add = grouped.setdefault
        for hit in hits.items():  # (docnum, score), best score first
            add(doc_col[hit[0]], []).append(hit)
        groups = [Group(document_id, found, page_col)
                  for document_id, found in grouped.items()]
        total_pages = sum(len(found) for found in grouped.values())
        if facets is not None:
            self._count(groups, facets)
        if sort == "relevance":
            # Equal scores in document order, so the order stays put when a document is
            # re-indexed after coding (previous/next through results relies on it).
            groups.sort(key=lambda g: (-g.score, g.document_id))
        elif sort == "urn":
            urn_col = self._column("urn")
            groups.sort(key=lambda g: urn_col[g.first])
        elif sort in ("date_asc", "date_desc"):
            date_col = self._column("date", translate=False)  # a missing date: 2**64-1
            dated = [g for g in groups if date_col[g.first] < NO_DATE]
            dated.sort(key=lambda g: date_col[g.first], reverse=sort == "date_desc")
            groups = dated + [g for g in groups if date_col[g.first] >= NO_DATE]
        return groups, total_pages

    def _count(self, groups: list[Group], facets: FacetCounts) -> None:
        """Documents per facet value. Document-level values (the same on every page) are
        read at each document's best page; recommendation links on any matching page."""
        firsts = [group.first for group in groups]
        for name, fieldname in (("inquiry", "inquiry"), ("type", "type"), ("source", "src")):
            counts = Counter(map(self._column(fieldname).__getitem__, firsts))
            facets.values[name].update((v, n) for v, n in counts.items() if v not in ("", None))
        for year, n in Counter(map(self._column("year").__getitem__, firsts)).items():
            if YEAR_MIN <= year <= YEAR_MAX:
                facets.values["year"][year] = n
            else:  # a missing year reads as 2**31-1
                facets.undated += n
        for name in POSTING_FACETS:
            terms = self._terms(name).__getitem__
            if name in PAGE_FACETS:
                found = chain.from_iterable(set(chain.from_iterable(map(terms, g.docnums)))
                                            for g in groups)
            else:
                found = chain.from_iterable(map(terms, firsts))
            facets.values[name].update(Counter(found))

    def search(self, query: str, scope: Scope, *, offset: int = 0, limit: int = 20,
               snippet_text: SnippetSource | None = None, filters: Filters | None = None,
               sort: str = "relevance", expand: int | None = None,
               facets: bool = False) -> Results:
        """Documents matching `query` within `scope`; raises QueryTooBroad past the limits.

        Each document lists its best 3 pages, or up to EXPANDED for the `expand` document;
        snippets are made only for the documents returned.
        """
        searcher, parsed, notice, hits = self._hits(query, scope, filters)
        counts = FacetCounts() if facets else None
        groups, total_pages = self._group(searcher, hits, sort, counts)
        documents = self._documents(searcher, groups[offset:offset + limit], expand,
                                    snippet_terms(parsed), snippet_text)
        return Results(query, documents, len(groups), total_pages, notice, counts)

    def more_like(self, text: str, scope: Scope, *, exclude: int, limit: int = 10,
                  snippet_text: SnippetSource | None = None) -> Results:
        """Other documents whose pages share this text's most telling words.

        The words are the ones most frequent in `text` and rarest in the index; the access
        filter applies as in any search, and the document the text came from is left out.
        """
        searcher = self._searcher()
        if not text.strip() or not searcher.doc_count():
            return Results("", [], 0, 0)
        keys = searcher.key_terms_from_text("text", text[:MORE_LIKE_CHARS],
                                            numterms=MORE_LIKE_TERMS)
        if not keys:
            return Results("", [], 0, 0)
        top = max(weight for _, weight in keys)
        parsed = wq.Or([wq.Term("text", term, boost=weight / top) for term, weight in keys])
        hits = self._collect(searcher, wq.And([parsed, wq.Not(wq.Term("doc", exclude))]),
                             scope, None)
        groups, total_pages = self._group(searcher, hits, "relevance", None)
        documents = self._documents(searcher, groups[:limit], None, snippet_terms(parsed),
                                    snippet_text)
        return Results(" ".join(term for term, _ in keys), documents, len(groups),
                       total_pages)

    def _documents(self, searcher: Searcher, groups: list[Group], expand: int | None,
                   terms: set[str], snippet_text: SnippetSource | None) -> list[DocumentHit]:
        """The shown documents with their best pages and, for those pages only, snippets."""
        urn_col = self._column("urn") if groups else {}
        documents = []
        for group in groups:
            shown = EXPANDED if group.document_id == expand else 3
            documents.append(DocumentHit(
                group.document_id, urn_col[group.first], group.score,
                [PageHit(n, s, snippet=None) for n, s in group.pages[:shown]],  # type: ignore[arg-type]
                len(group.hits)))
        tokenize = self.tokenizer()
        texts = snippet_text({d.document_id: [p.number for p in d.pages] for d in documents}) \
            if snippet_text and documents else {}
        for doc in documents:
            for page in doc.pages:
                page.snippet = snippet(texts.get((doc.document_id, page.number), ""), terms,
                                       tokenize)
        return documents

    def matching_pages(self, query: str, scope: Scope, document_id: int) -> list[int]:
        """The page numbers of one document that match `query` within `scope`, in order."""
        _, _, _, hits = self._hits(query, scope, None, document_id)
        if not hits.scored_length():
            return []
        page_col = self._column("page")
        return sorted({page_col[docnum] for docnum, _ in hits.items()})

    def page_scores(self, query: str, scope: Scope, document_id: int) -> dict[int, float]:
        """Each matching page of one document with its score, within `scope`."""
        _, _, _, hits = self._hits(query, scope, None, document_id)
        if not hits.scored_length():
            return {}
        page_col = self._column("page")
        return {page_col[docnum]: score for docnum, score in hits.items()}

    def all_hits(self, query: str, scope: Scope, *, filters: Filters | None = None,
                 sort: str = "relevance", limit: int = MAX_HITS
                 ) -> tuple[set[str], list[tuple[int, str, int, float]]]:
        """The terms to mark, and every matching page as (document id, URN, page, score):
        documents in the order asked for, each document's pages best first."""
        searcher, parsed, _, hits = self._hits(query, scope, filters)
        groups, _ = self._group(searcher, hits, sort, None)
        urn_col = self._column("urn") if groups else {}

        rows: list[tuple[int, str, int, float]] = []
        for group in groups:
            urn = urn_col[group.first]
            for number, score in group.pages[:limit - len(rows)]:
                rows.append((group.document_id, urn, number, score))
            if len(rows) >= limit:
                break
        return snippet_terms(parsed), rows

    def terms_for(self, query: str) -> set[str]:
        """What to mark on a document's pages for `query` (nothing if it is too broad)."""
        try:
            parsed, _ = self._parse(query, self._searcher())
        except QueryTooBroad:
            return set()
        return snippet_terms(parsed)

    def tokenizer(self):
        # One for the backend's life: every index this code makes has the same analysers,
        # and the tokenizer remembers which words it has marked for a search's terms.
        if self._marker is None:
            schema = make_schema()
            self._marker = marking_tokenizer(schema["text"].analyzer,
                                                schema["exact"].analyzer)
        return self._marker


