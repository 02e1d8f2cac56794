"""The query tree (search/query.py) compiled to a Whoosh query, with prefix and fuzzy words
expanded from the index's word lists and capped."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from whoosh import query as wq
from whoosh.query.spans import SpanNear2
from whoosh.support.levenshtein import distance as edit_distance

from ..query import (
    DOC_TYPES,
    EXACT_MARK,
    MAX_EXPANSIONS,
    MAX_TOTAL_EXPANSIONS,
    NOT_YET,
    UNDATED,
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
from .segments import ColumnRange, Memo


@dataclass
class Compiled:
    query: wq.Query
    notices: list[str] = field(default_factory=list)


Lexicons = Callable[[str], Sequence[Sequence[str]]]  # a field's words, sorted, per segment


def build(node: Node | None, schema, reader, memo: Memo | None = None,
          lexicons: Lexicons | None = None) -> Compiled:
    """The tree as a Whoosh query; prefix and fuzzy words are expanded (and capped) here.

    With a `memo`, date ranges are answered from the date column (see segments.py); with
    `lexicons`, * and ~ words are expanded from remembered word lists, not the index files.
    """
    compiler = _Compiler(schema, reader, memo, lexicons)
    result = compiler.node(node) if node is not None else None
    if result is None and compiler.dropped:
        compiler.notice("Your search has only very common words (like “the” or “and”), "
                        "which are not indexed on their own: add other words, or put them "
                        "in a quoted phrase.")
    return Compiled(result if result is not None else wq.NullQuery, compiler.notices)


class _Compiler:
    def __init__(self, schema, reader, memo: Memo | None = None,
                 lexicons: Lexicons | None = None) -> None:
        self.schema = schema
        self.reader = reader
        self.memo = memo
        self.lexicons = lexicons
        self.notices: list[str] = []
        self.expanded = 0
        self.dropped = False  # a word had only stop words in it

    def analyse(self, fieldname: str, text: str) -> list[str]:
        words = [t.text for t in self.schema[fieldname].analyzer(text, mode="query")]
        self.dropped = self.dropped or not words
        return words

    def node(self, node: Node) -> wq.Query | None:
        if isinstance(node, And | Or):
            parts = [q for q in (self.node(c) for c in node.children) if q is not None]
            if not parts:
                return None
            return parts[0] if len(parts) == 1 else (wq.And if isinstance(node, And)
                                                     else wq.Or)(parts)
        if isinstance(node, Not):
            inner = self.node(node.child)
            if inner is None:
                return None
            return wq.Every() if inner is wq.NullQuery else wq.Not(inner)
        if isinstance(node, Dates):
            return self.dates(node)
        if node.field in NOT_YET:
            self.notice(f"{node.field}: matches nothing yet: {NOT_YET[node.field]} are not "
                        "searchable until that feature arrives.")
            return wq.Term(node.field, node.text.lower())
        if node.field == "rec":
            return wq.Term("rec", node.text.strip().lower())
        if node.field == "type":
            return self.doc_type(node)
        if node.field == "urn":
            if isinstance(node, Prefix | Fuzzy):
                return self.expand(node, "urn", node.text.upper())
            return wq.Term("urn", node.text.strip().upper())
        if isinstance(node, Prefix | Fuzzy):
            if node.field:
                return self.expand(node, node.field, node.text.lower())
            return _any([self.expand(node, "exact", node.text.lower()),
                         self.expand(node, "title", node.text.lower())])
        if isinstance(node, Phrase) and node.field is None:
            words = self.analyse("exact", node.text)
            refuse_common_phrase(node.text, words)
            return _near("exact", words, node.slop)
        if node.field:  # title, source: word forms as that field analyses them
            return _near(node.field, self.analyse(node.field, node.text), 0)
        stems = self.analyse("text", node.text)
        return _any([_near("text", stems, 0), _near("title", stems, 0)])

    def dates(self, node: Dates) -> wq.Query:
        start, end = date_bounds(node)
        if self.memo is None:
            return wq.DateRange("date", start, end)
        field = self.schema["date"]
        # Raw column values; pages without a date hold the largest value and stay out.
        low = field.to_column_value(start) if start else 0
        high = field.to_column_value(end) if end else UNDATED - 1
        return ColumnRange(self.memo, "date", low, high)

    def doc_type(self, node: Leaf) -> wq.Query:
        value = " ".join(re.split(r"[\s_-]+", node.text.strip().lower()))
        for key, label in DOC_TYPES.items():
            if value in (key.replace("_", " "), label.lower()):
                return wq.Term("type", key)
        self.notice(f"There is no document type “{node.text}”; the types are "
                    + ", ".join(DOC_TYPES) + ".")
        return wq.Term("type", value)

    def expand(self, node: Prefix | Fuzzy, fieldname: str, text: str) -> wq.Query | None:
        if self.lexicons is not None:
            found = _expand(self.lexicons(fieldname), text,
                            None if isinstance(node, Prefix) else node.distance)
        elif isinstance(node, Prefix):
            found = self.reader.expand_prefix(fieldname, text)
        else:
            found = self.reader.terms_within(fieldname, text, node.distance, prefix=1)
        words: list[str] = []
        for word in found:
            words.append(word.decode("utf-8") if isinstance(word, bytes) else word)
            if len(words) > MAX_EXPANSIONS:
                raise QueryTooBroad(
                    f"“{to_text(node)}” matches more than {MAX_EXPANSIONS} different words.",
                    "Type more letters before the *, or search for the words themselves "
                    "joined with OR." if isinstance(node, Prefix) else
                    "Use ~1 rather than ~2, or a longer word.")
        self.expanded += len(words)
        if self.expanded > MAX_TOTAL_EXPANSIONS:
            raise QueryTooBroad(
                f"The * and ~ words in your search match more than {MAX_TOTAL_EXPANSIONS} "
                "different words together.", "Use fewer * and ~ words, or longer ones.")
        return _any([wq.Term(fieldname, w) for w in sorted(set(words))]) or wq.NullQuery

    def notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)


def _expand(lexicons: Sequence[Sequence[str]], text: str, distance: int | None
            ) -> Iterator[str]:
    """Words starting with `text` (distance None), or within `distance` edits of it with
    the same first letter, as Whoosh's reader finds them; each word once."""
    seen: set[str] = set()
    start = text if distance is None else text[:1]
    for words in lexicons:
        i = bisect_left(words, start)
        while i < len(words) and words[i].startswith(start):
            word = words[i]
            i += 1
            if word in seen:
                continue
            if distance is None or (abs(len(word) - len(text)) <= distance
                                    and edit_distance(word, text, limit=distance) <= distance):
                seen.add(word)
                yield word


def _any(queries: list[wq.Query | None]) -> wq.Query | None:
    queries = [q for q in queries if q is not None and q is not wq.NullQuery]
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.Or(queries)


def _near(fieldname: str, words: list[str], slop: int) -> wq.Query | None:
    if not words:
        return None  # only stop words: nothing to match on
    if len(words) == 1:
        return wq.Term(fieldname, words[0])
    if slop:
        return SpanNear2([wq.Term(fieldname, w) for w in words], slop=slop, ordered=False)
    return wq.Phrase(fieldname, words)


def snippet_terms(query: wq.Query) -> set[str]:
    """What to mark in page text: stems from text/title, marked words from exact."""
    terms: set[str] = set()
    for fieldname, text in query.iter_all_terms():
        word = text.decode("utf-8") if isinstance(text, bytes) else text
        if fieldname in ("text", "title"):
            terms.add(word)
        elif fieldname == "exact":
            terms.add(EXACT_MARK + word)
    return terms
