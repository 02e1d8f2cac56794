"""The PostgreSQL search backend: one `search_pages` row per page, in the app's database.

Rows are written in the transaction that writes the pages (`index_pages` runs in the
caller's session and the caller commits), so a committed page is searchable at once and a
rolled-back extraction leaves nothing behind. Access, filters, tags, coding and evidence
links are read from their own tables at search time (joined, never copied), so changing
them needs no re-index; only a new title rewrites a document's rows (`refresh`).

Ranking is ts_rank_cd over the matching pages. When a search matches more than
RANK_ALL pages, only RANK_LIMIT candidates are ranked: with a RUM index, the best ones
by the index's own ranking; without, the first ones found (a notice says so). Counts and
facets always cover every match. Each search runs under a statement timeout.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Iterator

from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ...access.permissions import Scope
from ...db import db
from .. import query as ql
from ..contract import DocumentHit, PageHit, Results, SnippetSource
from ..facets import FacetCounts, Filters
from ..query import QueryTooBroad
from . import facets as pg_facets
from .compile import Compiled, compile_tree, custom, quote
from .marking import START, STOP, escaped, marked, marking_tokenizer
from .rows import SearchRows, text_indexes

log = logging.getLogger(__name__)

RANK_LIMIT = 2_000  # pages ranked per search, at most
# Up to this many matching pages, every one is ranked, from the evaluation that counts
# them: cheaper than a second, index-ordered one, which also reads past every match a
# filter turns away.
RANK_ALL = 5_000
# Up to this many matching pages, a RUM index picks the RANK_LIMIT best; it orders every
# match to do so, so past it (a word on a large share of all pages) the first found are
# ranked instead, as with GIN, and the results say so.
RUM_ORDER_LIMIT = 50_000
EXPANDED = 50  # pages listed for a document whose "more pages" link was followed
SHOWN = 3
MAX_HITS = 100_000
MORE_LIKE_TERMS = 12
MORE_LIKE_CANDIDATES = 40  # the source's most frequent words whose rarity is looked up
MORE_LIKE_CHARS = 20_000
DF_CAP = 5_000  # pages counted per word when judging how rare it is
# ts_rank_cd weights for D, C, B, A: title (A) above page text (B stems, D as written).
WEIGHTS = [0.4, 0.2, 0.4, 0.7]
# One passage of 15-35 words around the best cover of the query (about Whoosh's 200
# characters); fragment mode would drop what follows a passage's last word.
HEADLINE = f"StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, ShortWord=2"
SAMPLED = ("This search matches {pages:,} pages: the best ones were chosen among the first "
           "{limit:,} found. Add words to rank them all.")

FROM = "search_pages s JOIN documents d ON d.id = s.document_id"


class PostgresBackend(SearchRows):
    """SearchBackend over PostgreSQL full-text search (SEARCH_BACKEND=postgres)."""

    transactional = True  # rows are written with the pages, in the same transaction
    labels_in_index = False  # tags, coding and links are joined from their tables

    def __init__(self, time_limit: float = ql.TIME_LIMIT, rank_limit: int = RANK_LIMIT,
                 text_index: str = "gin") -> None:
        if text_index not in ("gin", "rum"):
            raise ValueError(f"PG_TEXT_INDEX={text_index!r}: use gin or rum.")
        self.text_index = text_index
        self.time_limit = time_limit
        self.rank_limit = rank_limit
        self.rank_all = RANK_ALL
        self.rum_order_limit = RUM_ORDER_LIMIT
        self._rum: bool | None = None

    # --- reading ------------------------------------------------------------------------

    def uses_rum(self) -> bool:
        """Whether the text indexes are RUM (ranked inside the index) rather than GIN."""
        if self._rum is None:
            self._rum = any(" rum " in d for _, d in text_indexes(db.session.connection()))
        return self._rum

    @contextlib.contextmanager
    def _limited(self) -> Iterator[Connection]:
        """A savepoint with the statement timeout set to the search time limit; a search
        past the limit (or stopped by it) raises QueryTooBroad and leaves the caller's
        transaction usable."""
        savepoint = db.session.begin_nested()
        conn = db.session.connection()
        ms = str(max(1, int(self.time_limit * 1000)))
        previous = conn.execute(text(
            "SELECT current_setting('statement_timeout'), current_setting('enable_seqscan')"
        )).one()
        # The planner costs a text match as cheap, so for a common word it reads every
        # row's vector from the table rather than asking the index: it may not here.
        conn.execute(text("SELECT set_config('statement_timeout', :ms, true), "
                          "set_config('enable_seqscan', 'off', true)"), {"ms": ms})
        start = time.monotonic()
        try:
            yield conn
            conn.execute(text("SELECT set_config('statement_timeout', :ms, true), "
                              "set_config('enable_seqscan', :seq, true)"),
                         {"ms": previous[0], "seq": previous[1]})
        except DBAPIError as error:
            savepoint.rollback()
            if getattr(error.orig, "sqlstate", "") == "57014":  # query_canceled
                raise _too_slow(self.time_limit) from None
            raise
        except BaseException:
            savepoint.rollback()
            raise
        savepoint.commit()
        if time.monotonic() - start > self.time_limit:
            raise _too_slow(self.time_limit)

    def _compile(self, query: str, conn: Connection, scope: Scope, filters: Filters | None,
                 extra: str = "TRUE", extra_params: dict | None = None
                 ) -> tuple[Compiled, str]:
        """The query compiled, and the parser's notice; text PostgreSQL still refuses
        (a tsquery it cannot read) falls back to plain words, as malformed text does."""
        parsed = ql.parse(query)
        try:
            with db.session.begin_nested():
                compiled = compile_tree(parsed.node, conn, scope, filters, extra, extra_params)
                conn.execute(text("SELECT CAST(q AS tsquery) FROM unnest(CAST(:qs AS TEXT[])) q"),
                             {"qs": [compiled.params[n] for n in compiled.tsqueries]})
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", "") == "57014":
                raise
            parsed = ql.plain_words(query)
            compiled = compile_tree(parsed.node, conn, scope, filters, extra, extra_params)
        return compiled, parsed.notice

    def search(self, query: str, scope: Scope, *, offset: int = 0, limit: int = 20,
               snippet_text: SnippetSource | None = None, filters: Filters | None = None,
               sort: str = "relevance", expand: int | None = None,
               facets: bool = False) -> Results:
        """Documents matching `query` within `scope`, like WhooshBackend.search."""
        with self._limited() as conn:
            compiled, notice = self._compile(query, conn, scope, filters)
            return self._results(conn, compiled, query, notice, offset, limit, snippet_text,
                                 sort, expand, facets)

    def _results(self, conn: Connection, compiled: Compiled, query: str, notice: str,
                 offset: int, limit: int, snippet_text: SnippetSource | None, sort: str,
                 expand: int | None, facets: bool) -> Results:
        counts = FacetCounts() if facets else None
        notices = [n for n in (notice, *compiled.notices) if n]
        ranking = None
        if sort == "relevance" and compiled.rank:
            ranking = self._ranking(compiled, offset, limit)
        total_pages, total_documents, ranked = pg_facets.count(conn, compiled, counts, ranking)
        order, sampled = None, False
        if ranking is not None:
            order, sampled = self._ranked_order(compiled, total_pages, total_documents,
                                                ranked, limit)
        if order is None and total_pages:
            order, sampled = self._order(conn, compiled, sort, offset, limit, total_pages,
                                         total_documents)
        if sampled:
            notices.append(SAMPLED.format(pages=total_pages, limit=self.rank_limit))
        documents = self._documents(conn, compiled, order or [], expand)
        if snippet_text is not None:
            self._snippets(conn, compiled, documents)
        else:
            for doc in documents:
                for page in doc.pages:
                    page.snippet = Markup("")
        return Results(query, documents, total_documents, total_pages, " ".join(notices),
                       counts)

    def _rank(self, compiled: Compiled) -> str:
        parts = [f"ts_rank_cd(CAST(:weights AS real[]), s.{vector}, "
                 f"CAST(:rank_{vector} AS tsquery))" for vector in compiled.rank]
        for vector, tsquery in compiled.rank.items():
            compiled.params[f"rank_{vector}"] = tsquery
        compiled.params["weights"] = WEIGHTS
        return " + ".join(parts) or "0"

    def _order(self, conn: Connection, compiled: Compiled, sort: str, offset: int, limit: int,
               total_pages: int, total_documents: int
               ) -> tuple[list[tuple[int, float]], bool]:
        """The documents of the asked-for slice, in order, with a provisional score."""
        params = dict(compiled.params, offset=offset, limit=limit)
        where = compiled.where
        if sort in ("urn", "date_asc", "date_desc"):
            key = {"urn": "d.urn", "date_asc": "d.document_date ASC NULLS LAST",
                   "date_desc": "d.document_date DESC NULLS LAST"}[sort]
            rows = conn.execute(text(
                f"SELECT s.document_id FROM {FROM} WHERE {where} "
                "GROUP BY s.document_id, d.urn, d.document_date "
                f"ORDER BY {key}, s.document_id LIMIT :limit OFFSET :offset"), params)
            return [(doc, 0.0) for (doc,) in rows], False
        if not compiled.rank:  # only fields: nothing to rank by, documents in order
            rows = conn.execute(text(
                f"SELECT DISTINCT s.document_id FROM {FROM} WHERE {where} ORDER BY 1 "
                "LIMIT :limit OFFSET :offset"), params)
            return [(doc, 0.0) for (doc,) in rows], False
        rank = self._rank(compiled)
        params = dict(compiled.params, offset=offset, limit=limit, k=self.rank_limit)
        sampled = total_pages > self.rank_all
        candidates = f"SELECT s.document_id AS doc, {rank} AS score FROM {FROM} WHERE {where}"
        if sampled:
            if self._index_picks(compiled, total_pages):
                # The index ranks by itself: only its best K pages are read and re-ranked.
                # (Not for phrases alone: RUM checks positions of every match to order them.)
                candidates += " ORDER BY s.terms <=> CAST(:rank_terms AS tsquery)"
                sampled = False  # the best pages, not a sample
            candidates += " LIMIT :k"
        rows = conn.execute(text(
            f"WITH c AS MATERIALIZED ({candidates}) "
            "SELECT doc, max(score) AS best, count(*) OVER () FROM c GROUP BY doc "
            "ORDER BY best DESC, doc LIMIT :limit OFFSET :offset"), params).all()
        order = [(doc, float(best)) for doc, best, _ in rows]
        ranked = rows[0][2] if rows else self._ranked_documents(conn, candidates, params)
        if total_pages > self.rank_all and len(order) < limit and \
                total_documents > ranked:
            # Past the ranked documents: the rest in document order.
            rest = conn.execute(text(
                f"WITH c AS MATERIALIZED ({candidates}) "
                f"SELECT DISTINCT s.document_id FROM {FROM} WHERE {where} "
                "AND s.document_id NOT IN (SELECT doc FROM c) ORDER BY 1 "
                "LIMIT :n OFFSET :o"),
                dict(params, n=limit - len(order), o=max(0, offset - ranked))).scalars()
            order += [(doc, 0.0) for doc in rest]
        return order, sampled

    def _index_picks(self, compiled: Compiled, total_pages: int) -> bool:
        """Whether, past the pages ranked all, the RUM index picks the best itself."""
        return self._index_ranks(compiled) and total_pages <= self.rum_order_limit

    def _index_ranks(self, compiled: Compiled) -> bool:
        """Whether a RUM index may pick the best candidates itself (see _order): when
        the ranking is on the stemmed words alone (ordering by them alone, the index
        would read past every page the other words turn away)."""
        return list(compiled.rank) == ["terms"] and self.uses_rum()

    def _ranking(self, compiled: Compiled, offset: int, limit: int) -> tuple[str, dict]:
        """The statements (over pg_facets.count's `hits`, the matching pages, and `n`,
        their number) that rank them in the same evaluation that counts them: counting
        and ranking apart evaluated a phrase or a filter twice. `best_docs` is the
        asked-for slice of documents, best first.

        The matches are ranked by reading them again by key: all of them up to
        `rank_all`; past that, the first `rank_limit` found (a sample), except where a
        RUM index picks the best itself (_order), up to RUM_ORDER_LIMIT matches."""
        rank = self._rank(compiled)
        sql = (f"c AS MATERIALIZED (SELECT h.doc, {rank} AS score FROM (SELECT doc, page "
               "FROM hits LIMIT (SELECT CASE WHEN pages <= :all THEN pages "
               "WHEN pages > :sample_above THEN :k ELSE 0 END FROM n)) h "
               "JOIN search_pages s ON s.document_id = h.doc AND s.number = h.page), "
               "best_docs AS (SELECT doc, max(score) AS best, count(*) OVER () AS ranked "
               "FROM c GROUP BY doc ORDER BY best DESC, doc LIMIT :limit OFFSET :offset)")
        sample_above = self.rum_order_limit if self._index_ranks(compiled) else self.rank_all
        return sql, dict(compiled.params, all=self.rank_all, k=self.rank_limit,
                         sample_above=sample_above, limit=limit, offset=offset)

    def _ranked_order(self, compiled: Compiled, total_pages: int, total_documents: int,
                      ranked: list[tuple[int, float, int]], limit: int
                      ) -> tuple[list[tuple[int, float]] | None, bool]:
        """The slice `_ranking` ranked, and whether from a sample; None when the index
        picks the candidates (_order), or the slice is past the ranked documents."""
        sampled = total_pages > self.rank_all
        documents = ranked[0][2] if ranked else 0
        if sampled and self._index_picks(compiled, total_pages):
            return None, False
        if sampled and len(ranked) < limit and total_documents > documents:
            return None, False
        return [(doc, best) for doc, best, _ in ranked], sampled

    def _ranked_documents(self, conn: Connection, candidates: str, params: dict) -> int:
        return conn.execute(text(f"SELECT count(DISTINCT doc) FROM ({candidates}) c"),
                            params).scalar_one()

    def _documents(self, conn: Connection, compiled: Compiled,
                   order: list[tuple[int, float]], expand: int | None) -> list[DocumentHit]:
        """The shown documents with every matching page scored, best first."""
        if not order:
            return []
        rank = self._rank(compiled)
        # The shown documents' pages first (by key), then the query checked on those only:
        # the planner would otherwise read every match from the text index and filter.
        rows = conn.execute(text(
            "WITH shown AS MATERIALIZED (SELECT * FROM search_pages "
            "WHERE document_id = ANY(:shown)) "
            f"SELECT s.document_id, d.urn, s.number, {rank} FROM shown s "
            f"JOIN documents d ON d.id = s.document_id WHERE {compiled.where}"),
            dict(compiled.params, shown=[doc for doc, _ in order])).all()
        pages: dict[int, list[tuple[int, float]]] = {}
        urns: dict[int, str] = {}
        for doc, urn, number, score in rows:
            pages.setdefault(doc, []).append((number, float(score)))
            urns[doc] = urn
        documents = []
        for doc, _ in order:
            found = sorted(pages.get(doc, []), key=lambda p: (-p[1], p[0]))
            shown = EXPANDED if doc == expand else SHOWN
            best = found[0][1] if found else 0.0
            documents.append(DocumentHit(
                doc, urns.get(doc, ""), best,
                [PageHit(n, s, Markup("")) for n, s in found[:shown]], len(found)))
        return documents

    def _snippets(self, conn: Connection, compiled: Compiled,
                  documents: list[DocumentHit]) -> None:
        """ts_headline for the shown pages only, escaped before <mark> goes in."""
        wanted = [(d.document_id, p.number) for d in documents for p in d.pages]
        if not wanted:
            return
        params: dict[str, object] = {"docs": [d for d, _ in wanted],
                                     "nums": [n for _, n in wanted],
                                     "sentinels": START + STOP}
        if compiled.headline is not None:
            params.update(cfg=compiled.headline[0], hq=compiled.headline[1], opts=HEADLINE)
            made = (f"ts_headline(CAST(:cfg AS regconfig), {escaped('t.norm')}, "
                    "CAST(:hq AS tsquery), :opts)")
        else:
            made = escaped("left(t.norm, 200)")
        rows = conn.execute(text(
            f"SELECT t.document_id, t.number, {made}, length(t.norm) FROM (SELECT "
            "p.document_id, p.number, regexp_replace(translate(p.text, :sentinels, ''), "
            "'\\s+', ' ', 'g') AS norm FROM pages p JOIN unnest(CAST(:docs AS INTEGER[]), "
            "CAST(:nums AS INTEGER[])) AS w(doc, num) ON p.document_id = w.doc "
            "AND p.number = w.num) AS t"), params).all()
        made_for = {(doc, number): (headline, length) for doc, number, headline, length in rows}
        for doc in documents:
            for page in doc.pages:
                headline, length = made_for.get((doc.document_id, page.number), ("", 0))
                page.snippet = marked(headline or "", length or 0)

    # --- the other readers ---------------------------------------------------------------

    def _pages(self, query: str, scope: Scope, document_id: int, with_scores: bool
               ) -> list[tuple[int, float]]:
        with self._limited() as conn:
            compiled, _ = self._compile(query, conn, scope, None, "s.document_id = :only",
                                        {"only": document_id})
            rank = self._rank(compiled) if with_scores else "0"
            rows = conn.execute(text(
                f"SELECT s.number, {rank} FROM {FROM} WHERE {compiled.where} "
                "ORDER BY s.number"), compiled.params).all()
        return [(number, float(score)) for number, score in rows]

    def matching_pages(self, query: str, scope: Scope, document_id: int) -> list[int]:
        return [number for number, _ in self._pages(query, scope, document_id, False)]

    def page_scores(self, query: str, scope: Scope, document_id: int) -> dict[int, float]:
        return dict(self._pages(query, scope, document_id, True))

    def all_hits(self, query: str, scope: Scope, *, filters: Filters | None = None,
                 sort: str = "relevance", limit: int = MAX_HITS
                 ) -> tuple[set[str], list[tuple[int, str, int, float]]]:
        """Every matching page (all ranked): documents in the asked-for order, each
        document's pages best first."""
        with self._limited() as conn:
            compiled, _ = self._compile(query, conn, scope, filters)
            rank = self._rank(compiled)
            key = {"urn": "urn, doc", "date_asc": "date ASC NULLS LAST, doc",
                   "date_desc": "date DESC NULLS LAST, doc"}.get(sort, "best DESC, doc")
            rows = conn.execute(text(
                f"WITH h AS MATERIALIZED (SELECT s.document_id AS doc, d.urn, "
                f"d.document_date AS date, s.number, {rank} AS score FROM {FROM} "
                f"WHERE {compiled.where}), "
                "b AS (SELECT doc, max(score) AS best FROM h GROUP BY doc) "
                f"SELECT h.doc, h.urn, h.number, h.score FROM h JOIN b USING (doc) "
                f"ORDER BY {key}, h.score DESC, h.number LIMIT :limit"),
                dict(compiled.params, limit=limit)).all()
        return compiled.terms, [(doc, urn, number, float(score))
                                for doc, urn, number, score in rows]

    def more_like(self, text_: str, scope: Scope, *, exclude: int, limit: int = 10,
                  snippet_text: SnippetSource | None = None) -> Results:
        """Other documents sharing this text's most telling words: frequent in the text,
        rare in the index (counted up to DF_CAP pages each), OR-ed."""
        if not text_.strip():
            return Results("", [], 0, 0)
        with self._limited() as conn:
            words = _telling_words(conn, text_[:MORE_LIKE_CHARS])
            if not words:
                return Results("", [], 0, 0)
            tsquery = " | ".join(quote(w) for w in words)
            compiled = custom(scope, "s.terms @@ CAST(:like AS tsquery) AND "
                              "s.document_id <> :exclude", {"like": tsquery, "exclude": exclude},
                              tsquery, words)
            results = self._results(conn, compiled, " ".join(words), "", 0, limit,
                                    snippet_text, "relevance", None, False)
        results.notice = ""
        return results

    def terms_for(self, query: str) -> set[str]:
        """What to mark on a document's pages for `query` (nothing if it is too broad)."""
        try:
            with self._limited() as conn:
                compiled, _ = self._compile(query, conn, Scope({}), None)
        except QueryTooBroad:
            return set()
        return compiled.terms

    def tokenizer(self):
        return marking_tokenizer


def _too_slow(seconds: float) -> QueryTooBroad:
    return QueryTooBroad(f"The search took longer than {seconds:g} seconds and was stopped.",
                         "Use more specific words, fewer * words, or an exact phrase.")


def _telling_words(conn: Connection, source: str) -> list[str]:
    rows = conn.execute(text(
        "SELECT lexeme, cardinality(positions) FROM unnest(to_tsvector('english', :t)) "
        "WHERE length(lexeme) > 2 AND lexeme !~ '^[0-9]+$' "
        "ORDER BY cardinality(positions) DESC, lexeme LIMIT :n"),
        {"t": source, "n": MORE_LIKE_CANDIDATES}).all()
    if not rows:
        return []
    frequency = dict(rows)
    pages = max(1, int(conn.execute(text(
        "SELECT GREATEST(reltuples, 1) FROM pg_class WHERE oid = "
        "CAST('search_pages' AS regclass)")).scalar_one()))
    found = dict(conn.execute(text(
        "SELECT w, (SELECT count(*) FROM (SELECT 1 FROM search_pages s WHERE s.terms @@ "
        "CAST(quote_literal(w) AS tsquery) LIMIT :cap) x) FROM unnest(CAST(:ws AS TEXT[])) w"),
        {"ws": list(frequency), "cap": DF_CAP}).all())
    scored = sorted(((frequency[w] * math.log(1 + max(pages, df) / (1 + df)), w)
                     for w, df in found.items() if df), reverse=True)
    return [w for _, w in scored[:MORE_LIKE_TERMS]]


