"""The search language (query.py's tree) as PostgreSQL: tsqueries and SQL conditions.

Each page's search row has two vectors (see migrations 0009):
    terms  title words stemmed (english, weight A) and page words stemmed (weight B)
    words  title words as written (simple, weight A) and page words as written (weight D)
Plain words match `terms` (word forms, title or text, as the Whoosh backend's text OR
title); quoted phrases, proximity and fuzzy words match the page text in `words` (`:D`);
prefixes match `words` (title or text); `title:` is restricted to weight A. Field
filters (urn, type, source, tag, rec, date) are SQL conditions on the document, its tags
and its evidence links, so changing them needs no re-index.

Proximity `"a b c"~N`: PostgreSQL's `<N>` means exactly N positions apart, so each pair of
neighbouring words is written as every distance from 1 to N in either order, OR-ed; the
pairs are AND-ed. All words must be near their neighbour in the phrase (not all within one
window of N words, as in the Whoosh backend), which finds the same pages in practice.

Fuzzy words (`Shahid~1`) are not supported here: the word is searched exactly, with a
notice. Prefixes are not expanded into a word list (the index answers `abus:*` itself),
so the Whoosh backend's cap on expansions does not apply; the statement time limit does.
Every value reaches PostgreSQL as a bound parameter, tsqueries too (`CAST(:p AS tsquery)`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING

from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection

from .. import query as ql
from ..query import EXACT_MARK, STOP_WORDS, QueryTooBroad
from .filters import (
    REC_LINKS,
    REC_REF,
    filters_sql,
    scope_sql,
)

if TYPE_CHECKING:
    from ...access.permissions import Scope
    from ..facets import Filters

MAX_NEAR_TERMS = 400  # alternatives one proximity search may expand into
# Pages past which checking a condition on each page found costs more than asking the
# index for every page matching it (a stored vector read against an index entry read).
MANY_PAGES = 20_000
# A lexeme (or prefix) as PostgreSQL prints a tsquery: quoted, '' inside.
_OPERAND = re.compile(r"'((?:[^']|'')*)'(:[*A-D]+)?")
FUZZY_NOTICE = ("Spelling-tolerant searches (word~1) are not supported by this back end: "
                "the word was searched for exactly as written.")
COMMON_NOTICE = ("Your search has only very common words (like “the” or “and”), which are "
                 "not indexed on their own: add other words, or put them in a quoted phrase.")


@dataclass
class Ts:
    """A tsquery (as text) over one vector of the search row."""

    vector: str  # "terms" or "words"
    query: str


@dataclass
class Sql:
    """A boolean SQL condition over `s` (search row) and `d` (document)."""

    sql: str


Cond = Ts | Sql


@dataclass
class Compiled:
    where: str  # one SQL boolean expression
    params: dict[str, object]
    rank: dict[str, str]  # vector -> OR of the positive tsqueries on it, for ts_rank_cd
    headline: tuple[str, str] | None  # (configuration, tsquery) for ts_headline
    terms: MarkTerms
    notices: list[str] = field(default_factory=list)
    tsqueries: list[str] = field(default_factory=list)  # every tsquery parameter's name


class MarkTerms(set):
    """Terms to mark in page text (query.snippet_terms' form), and prefixes.

    The Python snippet and viewer code asks `token in terms`; prefixes are answered there
    rather than expanded into every word they match.
    """

    def __init__(self, terms: Iterable[str] = (), prefixes: Iterable[str] = ()) -> None:
        super().__init__(terms)
        self.prefixes = tuple(prefixes)

    def __contains__(self, token: object) -> bool:
        if set.__contains__(self, token):
            return True
        return isinstance(token, str) and token.startswith(EXACT_MARK) and \
            any(token.startswith(EXACT_MARK + p, 0) for p in self.prefixes)

    def __bool__(self) -> bool:
        return bool(len(self) or self.prefixes)


def quote(lexeme: str) -> str:
    """A lexeme as a tsquery operand."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def operands(tsquery: str) -> list[str]:
    """The lexemes of a tsquery as PostgreSQL prints it, in order."""
    return [m.group(1).replace("''", "'") for m in _OPERAND.finditer(tsquery)]


def weighted(tsquery: str, weight: str) -> str:
    """Every operand of a printed tsquery restricted to `weight` (keeping a prefix *)."""
    def one(m: re.Match) -> str:
        star = "*" if m.group(2) and "*" in m.group(2) else ""
        return f"'{m.group(1)}':{star}{weight}"
    return _OPERAND.sub(one, tsquery)


def _without_common(tsquery: str) -> str | None:
    """A phrase (`'a' <-> 'of' <-> 'b'`) with its very common words left out and the
    distances kept (`'a':D <2> 'b':D`); None unless it is a plain chain of words with
    some very common ones and at least two others (one word alone can be on many pages,
    each of which would then be checked for the phrase)."""
    words = operands(tsquery)
    if re.sub(_OPERAND, "", tsquery).replace("<->", "").strip():
        return None
    kept = [(n, w) for n, w in enumerate(words) if w not in STOP_WORDS]
    if len(kept) < 2 or len(kept) == len(words):
        return None
    parts = [quote(kept[0][1]) + ":D"]
    for (before, _), (n, word) in pairwise(kept):
        parts.append(f"<{n - before}> " + quote(word) + ":D")
    return " ".join(parts)


# --- compiling the tree ---------------------------------------------------------------------


class _Analysis:
    """Every piece of text the tree needs analysed, sent to PostgreSQL in one statement."""

    def __init__(self) -> None:
        self.wanted: list[tuple[str, str]] = []
        self.found: dict[tuple[str, str], str] = {}

    def want(self, config: str, text: str) -> None:
        if (config, text) not in self.found and (config, text) not in self.wanted:
            self.wanted.append((config, text))

    def run(self, conn: Connection) -> None:
        if not self.wanted:
            return
        rows = conn.execute(sql_text(
            "SELECT a.cfg, a.txt, CAST(phraseto_tsquery(CAST(a.cfg AS regconfig), a.txt) "
            "AS TEXT) FROM unnest(CAST(:cfgs AS TEXT[]), CAST(:txts AS TEXT[])) AS a(cfg, txt)"),
            {"cfgs": [c for c, _ in self.wanted], "txts": [t for _, t in self.wanted]})
        for config, text, tsquery in rows:
            self.found[(config, text)] = tsquery
        self.wanted = []

    def __call__(self, config: str, text: str) -> str:
        return self.found.get((config, text), "")


def _leaves(node: ql.Node | None) -> Iterator[ql.Leaf]:
    if node is None:
        return
    if isinstance(node, ql.And | ql.Or):
        for child in node.children:
            yield from _leaves(child)
    elif isinstance(node, ql.Not):
        yield from _leaves(node.child)
    else:
        yield node


def compile_tree(node: ql.Node | None, conn: Connection, scope: Scope,
                 filters: Filters | None, extra: str = "TRUE",
                 extra_params: dict | None = None) -> Compiled:
    """The parsed search as one SQL condition (access and filters included) and the
    tsqueries to rank and mark with; raises QueryTooBroad for an oversized proximity."""
    analysis = _Analysis()
    for leaf in _leaves(node):
        if isinstance(leaf, ql.Phrase) and leaf.field is None:
            ql.refuse_common_phrase(leaf.text, re.findall(r"\w+", leaf.text.lower()))
        if isinstance(leaf, ql.Word | ql.Phrase | ql.Fuzzy) and leaf.field in (None, "title"):
            analysis.want("english", leaf.text)  # for headlines and marking, always
            analysis.want("simple", leaf.text)
        elif isinstance(leaf, ql.Word | ql.Phrase | ql.Fuzzy) and leaf.field == "source":
            analysis.want("simple", leaf.text)
    analysis.run(conn)
    compiler = _Compiler(analysis, dict(extra_params or {}), conn)
    cond = compiler.node(node) if node is not None else None
    if cond is None and compiler.dropped:
        compiler.notice(COMMON_NOTICE)
    params = compiler.params
    where = " AND ".join((scope_sql(scope, params), filters_sql(filters, params), extra,
                          compiler.sql(cond) if cond is not None else "FALSE"))
    rank = {v: " | ".join(f"({q})" for q in qs) for v, qs in compiler.positive.items() if qs}
    return Compiled(where, params, rank, compiler.headline(), compiler.mark_terms(),
                    compiler.notices, compiler.tsqueries)


def custom(scope: Scope, condition: str, params: dict[str, object], tsquery: str,
           words: Iterable[str]) -> Compiled:
    """A search that is not the user's text (more like this): `condition` on `s`, ranked
    and marked by the OR-ed `tsquery` over the stemmed vector, within `scope`."""
    params = dict(params)
    where = f"{scope_sql(scope, params)} AND {condition}"
    return Compiled(where, params, {"terms": tsquery}, ("english", tsquery),
                    MarkTerms(words))


class _Compiler:
    def __init__(self, analysis: _Analysis, params: dict[str, object],
                 conn: Connection) -> None:
        self.analysis = analysis
        self.conn = conn
        self.params = params
        self.notices: list[str] = []
        self.dropped = False
        self.negated = 0
        self.positive: dict[str, list[str]] = {"terms": [], "words": []}
        self.stems: set[str] = set()  # english lexemes to mark (and headline in english)
        self.exact: set[str] = set()  # words as written to mark
        self.prefixes: set[str] = set()
        self.any_stemmed = False
        self.headline_stems: set[str] = set()
        self.tsqueries: list[str] = []

    def notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    def param(self, value: object) -> str:
        name = f"q{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def sql(self, cond: Cond) -> str:
        if isinstance(cond, Ts):
            name = self.param(cond.query)
            self.tsqueries.append(name[1:])
            return f"(s.{cond.vector} @@ CAST({name} AS tsquery))"
        return cond.sql

    # -- the tree

    def node(self, node: ql.Node) -> Cond | None:
        if isinstance(node, ql.And | ql.Or):
            parts = [c for c in (self.node(child) for child in node.children) if c is not None]
            if not parts:
                return None
            if len(parts) == 1:
                return parts[0]
            joiner = " & " if isinstance(node, ql.And) else " | "
            vectors = {p.vector for p in parts if isinstance(p, Ts)}
            if len(vectors) == 1 and all(isinstance(p, Ts) for p in parts):
                # One tsquery: one index scan rather than a combination of them.
                return Ts(vectors.pop(), joiner.join(f"({p.query})" for p in parts))  # type: ignore[union-attr]
            if isinstance(node, ql.And):
                return Sql(self.all_of(parts))
            return Sql("(" + " OR ".join(self.sql(p) for p in parts) + ")")
        if isinstance(node, ql.Not):
            self.negated += 1
            inner = self.node(node.child)
            self.negated -= 1
            if inner is None:
                return None
            if isinstance(inner, Ts):
                return Ts(inner.vector, f"!({inner.query})")
            return Sql(f"(NOT {inner.sql})")
        return self.leaf(node)

    def all_of(self, parts: list[Cond]) -> str:
        """Conditions AND-ed, those on one vector as one tsquery.

        Words on both vectors (`recomm* council`), each on many pages: the second is a
        key lookup into the pages matching it, so that each is answered by its own
        index. As a plain condition the planner would check it on every page the first
        finds: it costs a text match as cheap, but each reads a stored vector. When
        either is on few pages, that check is the cheaper, and is kept."""
        by_vector: dict[str, str] = {}
        others = []
        for part in parts:
            if isinstance(part, Ts):
                joined = by_vector.get(part.vector)
                by_vector[part.vector] = f"({part.query})" if joined is None else \
                    f"{joined} & ({part.query})"
            else:
                others.append(self.sql(part))
        texts = [Ts(vector, query) for vector, query in by_vector.items()]
        if len(texts) > 1 and all(self.on_many_pages(t) for t in texts):
            conditions = [self.sql(texts[0]), "((s.document_id, s.number) IN (SELECT "
                          f"document_id, number FROM search_pages s WHERE {self.sql(texts[1])}))"]
        else:
            conditions = [self.sql(t) for t in texts]
        return "(" + " AND ".join(conditions + others) + ")"

    def on_many_pages(self, condition: Ts) -> bool:
        """Whether the planner expects MANY_PAGES or more pages to match (its estimate,
        from the statistics: nothing is read)."""
        plan = self.conn.execute(sql_text(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM search_pages s WHERE s.{condition.vector} "
            "@@ CAST(:q AS tsquery)"), {"q": condition.query}).scalar_one()
        if isinstance(plan, str):
            plan = json.loads(plan)
        return plan[0]["Plan"]["Plan Rows"] >= MANY_PAGES

    def leaf(self, node: ql.Leaf) -> Cond | None:
        if isinstance(node, ql.Dates):
            start, end = ql.date_bounds(node)
            parts = []
            if start is not None:
                parts.append(f"d.document_date >= {self.param(start)}")
            if end is not None:
                parts.append(f"d.document_date <= {self.param(end)}")
            return Sql("COALESCE(" + " AND ".join(parts) + ", FALSE)")
        if isinstance(node, ql.Fuzzy):
            self.notice(FUZZY_NOTICE)
            if node.field is None:  # the word as written, in the title or the text
                tsquery = self.analysis("simple", node.text)
                if not tsquery:
                    self.dropped = True
                    return None
                self.exact.update(operands(tsquery))
                self.stems_for_headline(node.text)
                return self.ts("words", tsquery)
            node = ql.Word(node.text, node.field)
        if node.field == "tag":
            self.notice(f"tag: matches nothing yet: {ql.NOT_YET['tag']} are not searchable "
                        "until that feature arrives.")
            return Sql("EXISTS (SELECT 1 FROM document_tags dt WHERE dt.document_id = d.id "
                       f"AND CAST(dt.tag_id AS TEXT) = {self.param(node.text.lower())})")
        if node.field == "rec":
            return Sql(f"EXISTS ({REC_LINKS} AND {REC_REF} = "
                       f"{self.param(node.text.strip().lower())})")
        if node.field == "type":
            return Sql(f"d.doc_type = {self.param(self.doc_type(node))}")
        if node.field == "urn":
            if isinstance(node, ql.Prefix):
                like = re.sub(r"([\\%_])", r"\\\1", node.text.strip().upper()) + "%"
                return Sql(f"d.urn LIKE {self.param(like)}")
            return Sql(f"d.urn = {self.param(node.text.strip().upper())}")
        if node.field == "source":
            if isinstance(node, ql.Prefix):
                tsquery = quote(node.text.lower()) + ":*"
            else:
                tsquery = self.analysis("simple", node.text)
            if not tsquery:
                self.dropped = True
                return None
            name = self.param(tsquery)
            self.tsqueries.append(name[1:])
            # The matching sources listed first: estimating a source's words as if
            # independent, the planner expected a fraction of the documents that share
            # one source, and checked their pages one by one instead of by the index.
            return Sql("d.source = ANY(ARRAY(SELECT DISTINCT x.source FROM documents x "
                       f"WHERE to_tsvector('simple', x.source) @@ CAST({name} AS tsquery)))")
        if isinstance(node, ql.Prefix):
            prefix = node.text.lower()
            self.prefixes.add(prefix)
            tsquery = quote(prefix) + (":*A" if node.field == "title" else ":*")
            return self.ts("words", tsquery)
        if node.field == "title" or isinstance(node, ql.Word):
            tsquery = self.analysis("english", node.text)
            if all(len(w) < 2 for w in operands(tsquery)):
                # Like the Whoosh backend, a lone letter or digit is not searched for.
                self.dropped = True
                return None
            self.stems.update(operands(tsquery))
            self.any_stemmed = True
            return self.ts("terms", weighted(tsquery, "A") if node.field == "title" else tsquery)
        # A quoted phrase (or an exact word): the page text as written.
        tsquery = self.analysis("simple", node.text)
        if not tsquery:
            self.dropped = True
            return None
        words = operands(tsquery)
        self.exact.update(words)
        self.stems_for_headline(node.text)
        if node.slop and len(words) > 1:
            if not self.negated:
                # Ranked by the words alone: cover density already scores them higher
                # the closer they are, and the 2 x slop alternatives cost more to rank
                # with than to find.
                self.positive["words"].append(" & ".join(quote(w) + ":D" for w in words))
            return Ts("words", self.near(words, node.slop))
        phrase = self.ts("words", weighted(tsquery, "D"))
        gapped = _without_common(tsquery)
        if gapped is None:
            return phrase
        # The index is asked for the other words at their distances (reading a very
        # common word's entries, on nearly every page, cost more than all the rest);
        # the exact phrase is then checked on those pages only, by the function behind
        # @@, which the planner cannot send to the index.
        exact = self.param(phrase.query)
        self.tsqueries.append(exact[1:])
        return Sql(f"({self.sql(Ts('words', gapped))} AND "
                   f"ts_match_vq(s.words, CAST({exact} AS tsquery)))")

    def ts(self, vector: str, tsquery: str) -> Ts:
        if not self.negated:
            self.positive[vector].append(tsquery)
        return Ts(vector, tsquery)

    def stems_for_headline(self, text: str) -> None:
        self.headline_stems.update(operands(self.analysis("english", text)))

    def near(self, words: list[str], slop: int) -> str:
        if (len(words) - 1) * 2 * slop > MAX_NEAR_TERMS:
            raise QueryTooBroad(
                f"This proximity search would be checked {MAX_NEAR_TERMS:,}+ ways.",
                "Use fewer words in the quotes, or a smaller number after the ~.")
        # Every word first, plainly: the planner then sees a rare conjunction (a disjunction
        # of 2 x slop phrases looked common enough for a full scan), and the text index
        # narrows to pages with all the words before any position is compared.
        pairs = [" & ".join(sorted({quote(w) + ":D" for w in words}))]
        for a, b in pairwise(words):
            qa, qb = quote(a) + ":D", quote(b) + ":D"
            pairs.append("(" + " | ".join(f"{x} <{n}> {y}" for n in range(1, slop + 1)
                                          for x, y in ((qa, qb), (qb, qa))) + ")")
        return " & ".join(pairs)

    def doc_type(self, node: ql.Word | ql.Phrase | ql.Prefix) -> str:
        value = " ".join(re.split(r"[\s_-]+", node.text.strip().lower()))
        for key, label in ql.DOC_TYPES.items():
            if value in (key.replace("_", " "), label.lower()):
                return key
        self.notice(f"There is no document type “{node.text}”; the types are "
                    + ", ".join(ql.DOC_TYPES) + ".")
        return value

    # -- what to mark

    def headline(self) -> tuple[str, str] | None:
        """ts_headline's configuration and query: english when any word is stemmed (exact
        words then count by their stems), else simple; operands OR-ed, no weights."""
        if self.any_stemmed:
            lexemes = self.stems | self.headline_stems
            parts = [quote(x) for x in sorted(lexemes)] + \
                [quote(p) + ":*" for p in sorted(self.prefixes)]
            return ("english", " | ".join(parts)) if parts else None
        parts = [quote(x) for x in sorted(self.exact)] + \
            [quote(p) + ":*" for p in sorted(self.prefixes)]
        return ("simple", " | ".join(parts)) if parts else None

    def mark_terms(self) -> MarkTerms:
        return MarkTerms(self.stems | {EXACT_MARK + w for w in self.exact}, self.prefixes)
