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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import columns as wcolumns
from whoosh import index
from whoosh import query as wq
from whoosh.analysis import StandardAnalyzer, StemmingAnalyzer
from whoosh.collectors import FilterCollector, TimeLimit, WrappingCollector
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.idsets import BitSet
from whoosh.searching import Searcher

from .. import faults
from ..permissions import Scope
from . import DocumentHit, IndexPage, PageHit, Results, SnippetSource
from . import query as ql
from .facets import (
    POSTING_FACETS,
    YEAR_MAX,
    YEAR_MIN,
    FacetCounts,
    Filters,
    normalise_source,
)
from .query import QueryTooBroad
from .snippets import snippet

log = logging.getLogger(__name__)

MAX_HITS = 100_000
NO_DATE = 2**63  # untranslated date column values this large mean "no date"
EXPANDED = 50  # pages listed for a document whose "more pages" link was followed
ALLOWED_CACHED = 64  # access-and-filter page sets kept per searcher
MORE_LIKE_TERMS = 12  # telling words a "more like this" search is built from
MORE_LIKE_CHARS = 20_000  # of a document's text, enough to find them


class IndexLocked(Exception):
    """Another process holds the index writer lock; the job will be retried."""


class IndexOutdated(Exception):
    """The index on disk was built with an older schema: `inquiry-docs reindex` rebuilds it."""


def make_schema() -> Schema:
    stem = StemmingAnalyzer()
    words = StandardAnalyzer(stoplist=None)  # lower-cased words, every one kept, no stems
    return Schema(
        key=ID(unique=True),  # "<document id>:<page>"
        # Columns (sortable) let a search group, sort and count every hit without reading
        # stored fields.
        doc=NUMERIC(int, bits=64, stored=True, signed=False, sortable=True),
        urn=ID(stored=True, sortable=True),
        page=NUMERIC(int, stored=True, sortable=True),
        text=TEXT(analyzer=stem, phrase=True),  # unquoted words match word forms
        exact=TEXT(analyzer=words, phrase=True),  # quoted phrases, prefixes, fuzzy: as written
        title=TEXT(analyzer=stem, field_boost=2.0),
        inquiry=NUMERIC(int, stored=True, sortable=True),
        type=ID(sortable=True),
        source=TEXT(analyzer=words, phrase=True),  # source:police matches any word of it
        src=ID(sortable=True),  # the whole source, for the source filter and its counts
        tag=KEYWORD(lowercase=True, commas=True),  # tag ids
        rec=KEYWORD(lowercase=True, commas=True),  # recommendations the page is linked to
        marking=ID(),
        restricted=ID(),  # "yes" under a restriction order, else "no"
        # Review coding, for filters only (document-level, the same on every page).
        relevance=ID(),
        privilege=ID(),
        review=ID(),
        reviewer=ID(),  # the assigned reviewer's user id, or "none"
        redaction=ID(),  # "yes" when pages need redacting
        date=DATETIME(sortable=True),
        year=NUMERIC(int, sortable=True),  # the year of `date`, for the year filter and counts
    )


class WhooshBackend:
    transactional = False  # written by the index job, after the pages are committed

    def __init__(self, directory: str, lock_timeout: float = 30.0,
                 time_limit: float = ql.TIME_LIMIT, memory_mb: int = 256) -> None:
        self.directory = Path(directory)
        self.memory_mb = memory_mb
        self.lock_timeout = lock_timeout
        self.time_limit = time_limit
        self._local = threading.local()
        self._open_lock = threading.Lock()
        self._index: index.Index | None = None

    # --- opening ------------------------------------------------------------------------

    def _ix(self) -> index.Index:
        with self._open_lock:
            if self._index is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                if index.exists_in(str(self.directory)):
                    self._index = index.open_dir(str(self.directory))
                    if set(self._index.schema.names()) != set(make_schema().names()):
                        self._index = None
                        raise IndexOutdated("The search index was built by an older version: "
                                            "run `inquiry-docs reindex` to rebuild it.")
                else:
                    self._index = index.create_in(str(self.directory), make_schema())
            return self._index

    def _searcher(self) -> Searcher:
        """This thread's searcher, reopened only when the index has changed since."""
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None and searcher.up_to_date():
            return searcher
        if searcher is not None:
            # Not refresh(): it fails on a reader of an empty index (no segments to reuse).
            searcher.close()
        searcher = self._local.searcher = self._ix().searcher()
        self._local.allowed = {}
        self._local.columns = {}
        return searcher

    def _column(self, name: str, translate: bool = True) -> list:
        """One column of this thread's searcher as a list, read once per searcher.

        Reading a column value through Whoosh's multi-segment reader costs a segment lookup
        per hit; grouping and counting every hit of a broad search does tens of thousands.
        """
        cache: dict[tuple[str, bool], list] = self._local.columns
        values = cache.get((name, translate))
        if values is None:
            reader = self._local.searcher.reader()
            values = cache[(name, translate)] = list(_column_reader(reader, name, translate))
        return values

    def _allowed(self, searcher: Searcher, allow: wq.Query) -> BitSet:
        """The pages `allow` lets through, remembered for as long as this searcher lives.

        Working the access filter out means walking every page of the user's inquiries;
        the same user (or anyone with the same reach) searches again with the same filter.
        """
        cache: dict[wq.Query, BitSet] = self._local.allowed
        pages = cache.get(allow)
        if pages is None:
            if len(cache) >= ALLOWED_CACHED:
                del cache[next(iter(cache))]  # the oldest
            pages = cache[allow] = BitSet(searcher.docs_for_query(allow),
                                          size=searcher.doc_count_all())
        return pages

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
                _abandon(writer)
                raise
            _fsync_tree(self.directory)

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
            self._index = index.create_in(str(self.directory), make_schema())
            self._local = threading.local()

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
            compiled = ql.build(parsed.node, searcher.schema, searcher.reader())
        except QueryTooBroad:
            raise
        except Exception:  # valid syntax Whoosh still refused: never let it reach the user
            parsed = ql.plain_words(text)
            compiled = ql.build(parsed.node, searcher.schema, searcher.reader())
        return compiled.query, " ".join(n for n in (parsed.notice, *compiled.notices) if n)

    def _hits(self, query: str, scope: Scope, filters: Filters | None,
              document_id: int | None = None):
        """(searcher, parsed query, notice, hits): every page matching within reach."""
        searcher = self._searcher()
        parsed, notice = self._parse(query, searcher)
        allowed = [wq.Term("doc", document_id)] if document_id is not None else []
        return searcher, parsed, notice, self._collect(searcher, parsed, scope, filters,
                                                       allowed)

    def _collect(self, searcher: Searcher, parsed: wq.Query, scope: Scope,
                 filters: Filters | None, extra: list[wq.Query]):
        """Every page matching `parsed` within reach, best first.

        The access filter, the user's filters and `extra` are one Whoosh filter, applied
        inside the search; nothing is removed afterwards.
        """
        parts = [_scope_filter(scope)]
        narrowed = filters.query() if filters else None
        if narrowed is not None:
            parts.append(narrowed)
        parts.extend(extra)
        allowed = self._allowed(searcher, parts[0] if len(parts) == 1 else wq.And(parts))
        if not allowed:
            # Nothing within reach. Whoosh reads an empty allow-set as "no filter at all",
            # so the search must not run with it: it runs a query that matches nothing.
            parsed = wq.NullQuery
        # What searcher.search(filter=allowed) builds, with the clock between the two:
        # the access filter must be outermost (Whoosh's TimeLimitCollector wrapped around a
        # FilterCollector would bypass the filter), and the clock sees every candidate page.
        collector = FilterCollector(_Deadline(searcher.collector(limit=MAX_HITS),
                                              self.time_limit), allow=allowed)
        try:
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
        reader = searcher.reader()
        doc_col = self._column("doc")
        page_col = self._column("page")
        grouped: dict[int, _Group] = {}
        for docnum, score in hits.items():  # best score first
            document_id = doc_col[docnum]
            group = grouped.get(document_id)
            if group is None:
                group = grouped[document_id] = _Group(document_id, docnum, score)
            group.pages.append((page_col[docnum], score))
            group.docnums.append(docnum)
        groups = list(grouped.values())
        total_pages = sum(len(g.pages) for g in groups)
        if facets is not None:
            _count(reader, self._column, groups, facets)
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
                                    ql.snippet_terms(parsed), snippet_text)
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
        hits = self._collect(searcher, parsed, scope, None,
                             [wq.Not(wq.Term("doc", exclude))])
        groups, total_pages = self._group(searcher, hits, "relevance", None)
        documents = self._documents(searcher, groups[:limit], None, ql.snippet_terms(parsed),
                                    snippet_text)
        return Results(" ".join(term for term, _ in keys), documents, len(groups),
                       total_pages)

    def _documents(self, searcher: Searcher, groups: list[_Group], expand: int | None,
                   terms: set[str], snippet_text: SnippetSource | None) -> list[DocumentHit]:
        """The shown documents with their best pages and, for those pages only, snippets."""
        urn_col = self._column("urn") if groups else {}
        documents = []
        for group in groups:
            shown = EXPANDED if group.document_id == expand else 3
            documents.append(DocumentHit(
                group.document_id, urn_col[group.first], group.score,
                [PageHit(n, s, snippet=None) for n, s in group.pages[:shown]],  # type: ignore[arg-type]
                len(group.pages)))
        tokenize = self.tokenizer()
        for doc in documents:
            texts = snippet_text(doc.document_id, [p.number for p in doc.pages]) \
                if snippet_text else {}
            for page in doc.pages:
                page.snippet = snippet(texts.get(page.number, ""), terms, tokenize)
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
        return ql.snippet_terms(parsed), rows

    def terms_for(self, query: str) -> set[str]:
        """What to mark on a document's pages for `query` (nothing if it is too broad)."""
        try:
            parsed, _ = self._parse(query, self._searcher())
        except QueryTooBroad:
            return set()
        return ql.snippet_terms(parsed)

    def tokenizer(self):
        schema = self._ix().schema
        return ql.marking_tokenizer(schema["text"].analyzer, schema["exact"].analyzer)


@dataclass
class _Group:
    """One document's matching pages while grouping: `first` is its best page's docnum."""

    document_id: int
    first: int
    score: float
    pages: list[tuple[int, float]] = field(default_factory=list)
    docnums: list[int] = field(default_factory=list)


def _count(reader, column, groups: list[_Group], facets: FacetCounts) -> None:
    """Documents per facet value: one column read per document and facet (document-level
    values are the same on every page); tags and links from their postings."""
    columns = {name: column(field)
               for name, field in (("inquiry", "inquiry"), ("type", "type"),
                                    ("source", "src"), ("year", "year"))}
    for group in groups:
        for name in ("inquiry", "type", "source"):
            value = columns[name][group.first]
            if value not in ("", None):
                facets.add(name, value)
        year = columns["year"][group.first]
        if not YEAR_MIN <= year <= YEAR_MAX:  # a missing year reads as 2**31-1
            facets.undated += 1
        else:
            facets.add("year", year)
    doc_col = column("doc")
    matched: set[int] | None = None
    for name in POSTING_FACETS:
        for term in reader.lexicon(name):
            if matched is None:  # every page of every matching document, filtered already
                matched = {docnum for g in groups for docnum in g.docnums}
            documents = {doc_col[d] for d in reader.postings(name, term).all_ids()
                         if d in matched}
            if documents:
                facets.values[name][term.decode("utf-8")] = len(documents)


class _Deadline(WrappingCollector):
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


def _column_reader(reader, fieldname: str, translate: bool = True):
    """reader.column_reader, also when some segments have no values for the column.

    Whoosh's MultiReader leaves such segments out of its multi-column reader, which then
    misplaces every later document (an IndexError, or another document's value); each
    segment's own reader answers the column's default value instead.
    """
    readers = getattr(reader, "readers", None)
    if readers is None or all(r.has_column(fieldname) for r in readers):
        return reader.column_reader(fieldname, translate=translate)
    return wcolumns.MultiColumnReader(
        [r.column_reader(fieldname, translate=translate) for r in readers],
        list(reader.doc_offsets))


def _scope_filter(scope: Scope) -> wq.Query:
    """The user's reach as a Whoosh filter, applied inside the search."""
    allowed = []
    for inquiry_id in scope.inquiry_ids:
        parts = [wq.Term("inquiry", inquiry_id),
                 wq.Or([wq.Term("marking", m) for m in scope.markings_for(inquiry_id)])]
        if not scope.sees_restricted(inquiry_id):
            parts.append(wq.Term("restricted", "no"))
        allowed.append(wq.And(parts))
    return wq.Or(allowed) if allowed else wq.NullQuery


def _abandon(writer) -> None:
    """Give up a writer whose work or commit failed (e.g. the disk filled up).

    Whoosh keeps its own WRITELOCK after a failed commit, which would refuse every later
    writer in this process; release it even when cancelling fails too.
    """
    try:
        writer.cancel()
    except Exception:
        log.warning("cancelling a failed index writer also failed", exc_info=True)
    finally:
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", None) is not None:
            lock.release()


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        if path.is_file() and not path.name.endswith(".lock"):
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
