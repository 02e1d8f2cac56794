"""The embedded search backend: one Whoosh record per page.

Only the job side writes (under a file lock, one commit per batch); web processes read
through a per-thread searcher that is refreshed rather than reopened.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from whoosh import index
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import DATETIME, ID, NUMERIC, TEXT, Schema
from whoosh.qparser import MultifieldParser, plugins
from whoosh.searching import Searcher

from .. import faults
from ..permissions import Scope
from . import DocumentHit, IndexPage, PageHit, Results, SnippetSource
from .snippets import snippet

MAX_QUERY_CHARS = 1000
MAX_DEPTH = 20
MAX_HITS = 100_000


class IndexLocked(Exception):
    """Another process holds the index writer lock; the job will be retried."""


def make_schema() -> Schema:
    stem = StemmingAnalyzer()
    return Schema(
        key=ID(unique=True),  # "<document id>:<page>"
        doc=NUMERIC(int, bits=64, stored=True, signed=False),
        urn=ID(stored=True),
        page=NUMERIC(int, stored=True),
        text=TEXT(analyzer=stem, phrase=True),
        title=TEXT(analyzer=stem, field_boost=2.0),
        inquiry=NUMERIC(int, stored=True),
        type=ID(),
        source=ID(),
        marking=ID(),
        restricted=ID(),  # "yes" under a restriction order, else "no"
        date=DATETIME(),
    )


class WhooshBackend:
    def __init__(self, directory: str, lock_timeout: float = 30.0) -> None:
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout
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
                else:
                    self._index = index.create_in(str(self.directory), make_schema())
            return self._index

    def _searcher(self) -> Searcher:
        searcher = getattr(self._local, "searcher", None)
        searcher = self._ix().searcher() if searcher is None else searcher.refresh()
        self._local.searcher = searcher
        return searcher

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
            writer = self._ix().writer(timeout=self.lock_timeout)
            # Segment files are written by now; the crash lands before the table of contents.
            faults.around(writer, "_commit_toc", "index_commit")
            try:
                yield writer
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
            _fsync_tree(self.directory)

    def index_pages(self, document_ids: list[int], pages: list[IndexPage]) -> None:
        with self._writer() as writer:
            for document_id in document_ids:
                writer.delete_by_term("doc", document_id)
            for page in pages:
                writer.add_document(
                    key=f"{page.document_id}:{page.number}", doc=page.document_id, urn=page.urn,
                    page=page.number, text=page.text, title=page.title,
                    inquiry=page.inquiry_id, type=page.doc_type, source=page.source or "-",
                    marking=page.marking, restricted="yes" if page.restricted else "no",
                    date=page.date,
                )

    def delete_documents(self, document_ids: list[int]) -> None:
        with self._writer() as writer:
            for document_id in document_ids:
                writer.delete_by_term("doc", document_id)

    def clear(self) -> None:
        with self._write_lock(), self._open_lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._index = index.create_in(str(self.directory), make_schema())
            self._local = threading.local()

    def indexed_page_counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        with self._ix().searcher() as searcher:
            for fields in searcher.all_stored_fields():
                counts[fields["doc"]] = counts.get(fields["doc"], 0) + 1
        return counts

    # --- reading ------------------------------------------------------------------------

    def _parse(self, text: str) -> tuple[wq.Query, str]:
        schema = self._ix().schema
        parser = MultifieldParser(["text", "title"], schema)
        for plugin in (plugins.WildcardPlugin, plugins.FuzzyTermPlugin, plugins.RangePlugin,
                       plugins.GtLtPlugin, plugins.BoostPlugin, plugins.FieldsPlugin):
            parser.remove_plugin_class(plugin)
        notice = ""
        if len(text) > MAX_QUERY_CHARS:
            text, notice = text[:MAX_QUERY_CHARS], f"Only the first {MAX_QUERY_CHARS} " \
                "characters of the search were used."
        if _depth(text) > MAX_DEPTH:
            text = re.sub(r"[()]", " ", text)
            notice = "Brackets nested too deeply were ignored; the words were searched for."
        try:
            return parser.parse(text), notice
        except Exception:
            plain = " ".join(re.findall(r"\w+", text))
            return parser.parse(plain), "The search could not be read as written; " \
                "its words were searched for instead."

    def search(self, query: str, scope: Scope, *, offset: int = 0, limit: int = 20,
               snippet_text: SnippetSource | None = None) -> Results:
        parsed, notice = self._parse(query)
        allowed = _scope_filter(scope)
        searcher = self._searcher()
        hits = searcher.search(parsed, filter=allowed, limit=MAX_HITS)
        grouped: dict[int, DocumentHit] = {}
        for hit in hits:
            doc = grouped.get(hit["doc"])
            if doc is None:
                doc = grouped[hit["doc"]] = DocumentHit(hit["doc"], hit["urn"], hit.score)
            doc.total_pages += 1
            if len(doc.pages) < 3:
                doc.pages.append(PageHit(hit["page"], hit.score, snippet=None))  # type: ignore[arg-type]
        documents = list(grouped.values())[offset:offset + limit]
        terms = {t.decode() if isinstance(t, bytes) else t
                 for field, t in parsed.iter_all_terms() if field in ("text", "title")}
        analyzer = searcher.schema["text"].analyzer
        tokenize = lambda s: analyzer(s, chars=True, mode="index")  # noqa: E731
        for doc in documents:
            texts = snippet_text(doc.document_id, [p.number for p in doc.pages]) \
                if snippet_text else {}
            for page in doc.pages:
                page.snippet = snippet(texts.get(page.number, ""), terms, tokenize)
        return Results(query, documents, len(grouped), len(hits), notice)

    def terms_for(self, query: str) -> set[str]:
        parsed, _ = self._parse(query)
        return {t.decode() if isinstance(t, bytes) else t
                for field, t in parsed.iter_all_terms() if field in ("text", "title")}

    def tokenizer(self):
        analyzer = self._ix().schema["text"].analyzer
        return lambda s: analyzer(s, chars=True, mode="index")


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


def _depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif ch == ")":
            depth = max(0, depth - 1)
    return deepest


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
