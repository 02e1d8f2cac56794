"""The query tree (search/query.py) compiled to a tantivy query, node by node as the Whoosh
backend compiles it (search/whoosh/compile.py).

Words are analysed with the index's own analysers (schema.py). Unquoted words match
their stems in the page text or the title (the title counts double); quoted phrases and
proximity match the exact words of the page text; * and ~ words are expanded from the
term dictionary and capped (MAX_EXPANSIONS each, MAX_TOTAL_EXPANSIONS together, with the
Whoosh backend's messages). `tag:` and `rec:` are sets of documents (or pages) read from
the database by `labels`, not terms of the index.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise

import tantivy
from tantivy import Occur, Query
from whoosh.support.levenshtein import distance as edit_distance

from ..query import (
    DOC_TYPES,
    EXACT_MARK,
    MAX_EXPANSIONS,
    MAX_TOTAL_EXPANSIONS,
    NOT_YET,
    And,
    Dates,
    Fuzzy,
    Leaf,
    Node,
    Not,
    Or,
    Phrase,
    Prefix,
    QueryTooBroad,
    date_bounds,
    refuse_common_phrase,
    to_text,
)
from .schema import as_utc, exact_analyzer, stem_analyzer

TITLE_BOOST = 2.0  # as the Whoosh schema's field_boost on the title
COMMON_NOTICE = ("Your search has only very common words (like “the” or “and”), which are "
                 "not indexed on their own: add other words, or put them in a quoted phrase.")


@dataclass
class Compiled:
    query: Query  # matches nothing when the search has nothing to match
    notices: list[str] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)  # marks, in snippet_terms' form
    nothing: bool = False  # nothing to search for (stop words only, or no words)


@dataclass
class Labels:
    """Label lookups in the database: `tag:` documents and `rec:` page keys."""

    tag_documents: Callable[[str], list[int]]
    rec_pages: Callable[[str], list[int]]


_STEM = stem_analyzer()
_EXACT = exact_analyzer()


def stems(text: str) -> list[str]:
    return _STEM.analyze(text)


def exact_words(text: str) -> list[str]:
    return _EXACT.analyze(text)


def nothing() -> Query:
    return Query.empty_query()


def build(node: Node | None, schema: tantivy.Schema, searcher: tantivy.Searcher,
          labels: Labels) -> Compiled:
    """The tree as a tantivy query; * and ~ words are expanded (and capped) here."""
    compiler = _Compiler(schema, searcher, labels)
    result = compiler.node(node, False) if node is not None else None
    if result is None and compiler.dropped:
        compiler.notice(COMMON_NOTICE)
    return Compiled(result if result is not None else nothing(), compiler.notices,
                    compiler.terms, nothing=result is None)


class _Compiler:
    def __init__(self, schema: tantivy.Schema, searcher: tantivy.Searcher,
                 labels: Labels) -> None:
        self.schema = schema
        self.searcher = searcher
        self.labels = labels
        self.notices: list[str] = []
        self.terms: set[str] = set()
        self.expanded = 0
        self.dropped = False  # a word had only stop words in it

    def analyse(self, words: list[str]) -> list[str]:
        self.dropped = self.dropped or not words
        return words

    def mark(self, negated: bool, *terms: str) -> None:
        if not negated:  # a word searched *without* is not marked on the pages
            self.terms.update(terms)

    def term(self, name: str, value: object) -> Query:
        return Query.term_query(self.schema, name, value)

    # --- the tree -----------------------------------------------------------------------

    def node(self, node: Node, negated: bool) -> Query | None:
        if isinstance(node, And):
            parts = [(c, self.node(c.child if isinstance(c, Not) else c,
                                   negated ^ isinstance(c, Not))) for c in node.children]
            clauses = [(Occur.MustNot if isinstance(c, Not) else Occur.Must, q)
                       for c, q in parts if q is not None]
            if not clauses:
                return None
            if len(clauses) == 1 and clauses[0][0] == Occur.Must:
                return clauses[0][1]
            if all(occur == Occur.MustNot for occur, _ in clauses):
                clauses.insert(0, (Occur.Must, Query.all_query()))
            return Query.boolean_query(clauses)
        if isinstance(node, Or):
            queries = [q for q in (self.node(c, negated) for c in node.children)
                       if q is not None]
            if not queries:
                return None
            return queries[0] if len(queries) == 1 else \
                Query.boolean_query([(Occur.Should, q) for q in queries])
        if isinstance(node, Not):
            inner = self.node(node.child, not negated)
            if inner is None:
                return None
            return Query.boolean_query([(Occur.Must, Query.all_query()),
                                        (Occur.MustNot, inner)])
        return self.leaf(node, negated)

    def leaf(self, node: Leaf, negated: bool) -> Query | None:
        if isinstance(node, Dates):
            return self.dates(node)
        if node.field in NOT_YET:
            self.notice(f"{node.field}: matches nothing yet: {NOT_YET[node.field]} are not "
                        "searchable until that feature arrives.")
            return _ids(self.schema, "doc", self.labels.tag_documents(node.text.lower()))
        if node.field == "rec":
            return _ids(self.schema, "key", self.labels.rec_pages(node.text.strip().lower()))
        if node.field == "type":
            return self.doc_type(node)
        if node.field == "urn":
            if isinstance(node, Prefix | Fuzzy):
                return self.expand(node, "urn", node.text.upper(), negated)
            return self.term("urn", node.text.strip().upper())
        if isinstance(node, Prefix | Fuzzy):
            if node.field:
                return self.expand(node, node.field, node.text.lower(), negated)
            return _any([self.expand(node, "exact", node.text.lower(), negated),
                         self.expand(node, "title", node.text.lower(), negated)])
        if isinstance(node, Phrase) and node.field is None:
            words = self.analyse(exact_words(node.text))
            refuse_common_phrase(node.text, words)
            self.mark(negated, *(EXACT_MARK + w for w in words))
            return self.near("exact", words, node.slop)
        if node.field == "source":
            return self.near("source", self.analyse(exact_words(node.text)), 0)
        found = self.analyse(stems(node.text))
        if node.field == "title":
            self.mark(negated, *found)
            return self.near("title", found, 0)
        if len(found) > 1:
            # One written word that analyses to several (child-abuse): the page text keeps
            # no positions for stems, so its words are found as an exact phrase there.
            words = exact_words(node.text)
            self.mark(negated, *(EXACT_MARK + w for w in words), *found)
            return _any([self.near("exact", words, 0),
                         _boost(self.near("title", found, 0))])
        if not found:
            return None
        self.mark(negated, found[0])
        return _any([self.term("text", found[0]), _boost(self.term("title", found[0]))])

    def near(self, name: str, words: list[str], slop: int) -> Query | None:
        if not words:
            return None  # only stop words: nothing to match on
        if len(words) == 1:  # tantivy refuses (panics on) a phrase of one word
            return self.term(name, words[0])
        if not slop:
            return Query.phrase_query(self.schema, name, words)
        # `"a b"~N`: within N words of each other, in either order, as Whoosh's SpanNear2.
        # tantivy's slop counts the words between, in the order given: each neighbouring
        # pair is asked both ways round with slop N-1 (and all the pairs together).
        pairs = []
        for a, b in dict.fromkeys(pairwise(words)):
            if a == b:
                pairs.append(Query.phrase_query(self.schema, name, [a, b], slop=slop - 1))
                continue
            pairs.append(Query.boolean_query([
                (Occur.Should, Query.phrase_query(self.schema, name, [a, b], slop=slop - 1)),
                (Occur.Should, Query.phrase_query(self.schema, name, [b, a], slop=slop - 1))]))
        return pairs[0] if len(pairs) == 1 else \
            Query.boolean_query([(Occur.Must, q) for q in pairs])

    def dates(self, node: Dates) -> Query:
        start, end = date_bounds(node)
        # Pages without a date have no `when` at all, so no range takes them in.
        low = int(as_utc(start).timestamp()) if start else None
        high = int(as_utc(end).timestamp()) if end else None
        return Query.range_query(self.schema, "when", tantivy.FieldType.Integer, low, high)

    def doc_type(self, node: Leaf) -> Query:
        value = " ".join(re.split(r"[\s_-]+", node.text.strip().lower()))
        for key, label in DOC_TYPES.items():
            if value in (key.replace("_", " "), label.lower()):
                return self.term("type", key)
        self.notice(f"There is no document type “{node.text}”; the types are "
                    + ", ".join(DOC_TYPES) + ".")
        return self.term("type", value)

    def expand(self, node: Prefix | Fuzzy, name: str, text: str, negated: bool
               ) -> Query | None:
        if isinstance(node, Prefix):
            found = [t for t, _ in self.searcher.terms_with_prefix(
                name, text, limit=MAX_EXPANSIONS + 1)]
        else:
            found = sorted(_within(self.searcher.terms_with_prefix(name, text[:1]), text,
                                   node.distance))
        if len(found) > MAX_EXPANSIONS:
            raise QueryTooBroad(
                f"“{to_text(node)}” matches more than {MAX_EXPANSIONS} different words.",
                "Type more letters before the *, or search for the words themselves "
                "joined with OR." if isinstance(node, Prefix) else
                "Use ~1 rather than ~2, or a longer word.")
        self.expanded += len(found)
        if self.expanded > MAX_TOTAL_EXPANSIONS:
            raise QueryTooBroad(
                f"The * and ~ words in your search match more than {MAX_TOTAL_EXPANSIONS} "
                "different words together.", "Use fewer * and ~ words, or longer ones.")
        words = sorted(set(found))
        if name == "exact":
            self.mark(negated, *(EXACT_MARK + w for w in words))
        elif name == "title":
            self.mark(negated, *words)
        if not words:
            return nothing()
        return _any([_boost(self.term(name, w)) if name == "title" else self.term(name, w)
                     for w in words])

    def notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)


def _within(terms: list[tuple[str, int]], text: str, distance: int) -> list[str]:
    """Words within `distance` edits of `text` (the first letter is the same already)."""
    return [word for word, _ in terms
            if abs(len(word) - len(text)) <= distance
            and edit_distance(word, text, limit=distance) <= distance]


def _ids(schema: tantivy.Schema, name: str, values: list[int]) -> Query:
    if not values:
        return nothing()
    return Query.const_score_query(Query.term_set_query(schema, name, sorted(set(values))),
                                   1.0)


def _boost(query: Query | None) -> Query | None:
    return None if query is None else Query.boost_query(query, TITLE_BOOST)


def _any(queries: list[Query | None]) -> Query | None:
    found = [q for q in queries if q is not None]
    if not found:
        return None
    return found[0] if len(found) == 1 else \
        Query.boolean_query([(Occur.Should, q) for q in found])
