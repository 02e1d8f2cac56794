"""The search language: user text -> a small query tree -> a Whoosh query, within limits.

Syntax (the help page at /search/help says the same for users):

    abuse report          every word must match (word forms: abuse, abused, abuses)
    abuse OR neglect      either; OR binds tighter than the implied AND, so
                          `school abuse OR neglect` is school AND (abuse OR neglect)
    NOT neglect, -neglect without
    "mandatory reporting" the exact words, in this order (no word forms)
    "police school"~5     both words within 5 words of each other, in either order
    abus*                 words starting with "abus" (3 or more characters before the *)
    Shahid~1              words 1 (or ~2: 2) letters away; the first letter must be right
    ( )                   grouping, up to MAX_DEPTH deep
    urn:OLD000123         one document (case-insensitive)
    title:statement       words (word forms) of the title; title:"a phrase" too
    type:exhibit          a document type, by key or label: type:"witness statement"
    source:police         words of the source, any case: source:"greater manchester police"
    date:2012             a year, a month (2012-05), a day (2012-05-03) or a range:
                          date:2010-01-01..2015-12-31, date:..2015-12-31, date:2010..
    rec:13                pages linked to a recommendation (rec:<set code>-<number> for
                          sets other than the IICSA final report's)
    tag:                  accepted; tags are not indexed yet, so it matches nothing until
                          that feature arrives

Malformed input never raises: the words are searched for instead, with a notice. Queries
that would be too costly raise QueryTooBroad (message + advice) before anything runs:
too long, too many clauses, a prefix or fuzzy word that expands to too many words.
This module knows nothing of Flask; the Whoosh backend calls parse() then build().
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from heapq import merge
from typing import NamedTuple

from whoosh import query as wq
from whoosh.analysis import STOP_WORDS, StemFilter, StopFilter
from whoosh.query.spans import SpanNear2
from whoosh.support.levenshtein import distance as edit_distance

from .whoosh.segments import ColumnRange, Memo

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 50
MAX_DEPTH = 20
MAX_EXPANSIONS = 200  # words one prefix or fuzzy term may stand for
MAX_TOTAL_EXPANSIONS = 500  # and all of them in one query together
MIN_PREFIX = 3
MAX_FUZZY = 2
MAX_FUZZY_CHARS = 40
MAX_SLOP = 50
TIME_LIMIT = 5.0  # seconds a search may run (the backend applies it)

# The document types (keys as stored, labels as shown); kept equal to models.DOC_TYPES by
# a test, so this module needs neither the database nor Flask.
DOC_TYPES = {
    "witness_statement": "Witness statement",
    "exhibit": "Exhibit",
    "transcript": "Transcript",
    "submission": "Submission",
    "report": "Report",
    "correspondence": "Correspondence",
    "other": "Other",
}

FIELDS = ("urn", "title", "type", "source", "tag", "rec", "date")
EXPANDABLE = (None, "urn", "title", "source")  # fields where * and ~ make sense
NOT_YET = {"tag": "tags"}
EXACT_MARK = "\x1f"  # snippet terms from the exact field carry this in front
UNDATED = 2**63  # raw date column values from here up mean "no date"


class QueryTooBroad(Exception):
    """The search would cost too much to run; `advice` tells the user what to change."""

    def __init__(self, message: str, advice: str) -> None:
        super().__init__(message)
        self.message = message
        self.advice = advice


class Malformed(Exception):
    """The text does not follow the syntax; parse() falls back to plain words."""


# --- the tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Phrase:
    text: str  # the words between the quotes, single-spaced
    field: str | None = None
    slop: int = 0  # 0: exact phrase; n: all words within n words, any order


@dataclass(frozen=True)
class Prefix:
    text: str  # without the *
    field: str | None = None


@dataclass(frozen=True)
class Fuzzy:
    text: str
    distance: int = 1
    field: str | None = None


@dataclass(frozen=True)
class Dates:
    low: str  # "", "2012", "2012-05" or "2012-05-03"
    high: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Leaf = Word | Phrase | Prefix | Fuzzy | Dates
Node = Leaf | Not | And | Or


@dataclass
class Parsed:
    node: Node | None  # None: nothing to search for
    notice: str = ""
    fallback: bool = False  # the text was malformed and searched as plain words


# --- printing -------------------------------------------------------------------------


def to_text(node: Node | None) -> str:
    """The query written back in the syntax; parse(to_text(n)) gives n again."""
    if node is None:
        return ""
    if isinstance(node, And | Or):
        parts = [f"({to_text(c)})" if isinstance(c, And | Or) else to_text(c)
                 for c in node.children]
        return (" " if isinstance(node, And) else " OR ").join(parts)
    if isinstance(node, Not):
        inner = to_text(node.child)
        return f"-({inner})" if isinstance(node.child, And | Or) else f"-{inner}"
    if isinstance(node, Dates):
        return f"date:{node.low}" if node.low == node.high else f"date:{node.low}..{node.high}"
    prefix = f"{node.field}:" if node.field else ""
    if isinstance(node, Phrase):
        return f'{prefix}"{node.text}"' + (f"~{node.slop}" if node.slop else "")
    if isinstance(node, Prefix):
        return f"{prefix}{node.text}*"
    if isinstance(node, Fuzzy):
        return f"{prefix}{node.text}~{node.distance}"
    return f"{prefix}{node.text}"


# --- reading the text -----------------------------------------------------------------


class Token(NamedTuple):
    kind: str  # "(", ")", "AND", "OR", "NOT", "LEAF"
    leaf: Leaf | None = None


OPERATORS = {"AND", "OR", "NOT"}
_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)
_FUZZY = re.compile(r"(\w+)~(\d*)")
_DATE_PART = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_STOP = set(' \t\r\n\f\v()"')


def parse(text: str) -> Parsed:
    """Read the user's text. Raises only QueryTooBroad; malformed text becomes words."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooBroad(
            f"Your search is {len(text):,} characters long; the limit is "
            f"{MAX_QUERY_CHARS:,}.",
            "Search for the few words that matter most, or an exact phrase in quotes.")
    if not text.strip():
        return Parsed(None)
    try:
        node = _Parser(_lex(text)).parse()
        parsed = Parsed(node)
    except Malformed as problem:
        parsed = plain_words(text, f" ({problem})")
    clauses = count_clauses(parsed.node)
    if clauses > MAX_CLAUSES:
        raise QueryTooBroad(
            f"Your search has {clauses} parts; the limit is {MAX_CLAUSES}.",
            "Use fewer words, or split it into several searches.")
    return parsed


def plain_words(text: str, why: str = "") -> Parsed:
    """The fallback: every word of the text, all required, with a notice saying so."""
    words = tuple(Word(w) for w in re.findall(r"\w+", text))
    node = None if not words else words[0] if len(words) == 1 else And(words)
    return Parsed(node, f"The search could not be read as written{why}, so its words were "
                        "searched for instead. See the search help for how to write searches.",
                  fallback=True)


def count_clauses(node: Node | None) -> int:
    if node is None:
        return 0
    if isinstance(node, And | Or):
        return sum(count_clauses(c) for c in node.children)
    if isinstance(node, Not):
        return count_clauses(node.child)
    return 1


def _lex(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(Token(ch))
            i += 1
        elif ch == "-":
            if i + 1 < n and not text[i + 1].isspace():
                tokens.append(Token("NOT"))
            i += 1  # a lone hyphen means nothing
        elif ch == '"':
            phrase, i = _read_phrase(text, i, None)
            tokens.append(Token("LEAF", phrase))
        else:
            start = i
            while i < n and text[i] not in _STOP:
                i += 1
            raw = text[start:i]
            if raw in OPERATORS:
                tokens.append(Token(raw))
                continue
            named = _FIELD.fullmatch(raw)
            name = named.group(1).lower() if named else ""
            if name not in FIELDS:
                tokens.append(Token("LEAF", _leaf(raw, None)))
            elif named.group(2):
                tokens.append(Token("LEAF", _leaf(named.group(2), name)))
            elif i < n and text[i] == '"' and name != "date":
                phrase, i = _read_phrase(text, i, name)
                tokens.append(Token("LEAF", phrase))
            else:
                raise Malformed(f"{name}: needs something straight after it, "
                                f"like {name}:{_EXAMPLES[name]}")
    return tokens


_EXAMPLES = {"urn": "OLD000123", "title": "statement", "type": "exhibit",
             "source": "police", "tag": "privileged", "rec": "3",
             "date": "2010-01-01..2015-12-31"}


def _read_phrase(text: str, i: int, name: str | None) -> tuple[Phrase, int]:
    end = text.find('"', i + 1)
    if end == -1:
        raise Malformed("a quotation mark is not closed")
    inner = " ".join(text[i + 1:end].split())
    i = end + 1
    slop = 0
    if i < len(text) and text[i] == "~":
        digits = re.match(r"\d*", text[i + 1:i + 8]).group()
        if not digits or not 1 <= int(digits) <= MAX_SLOP:
            raise Malformed(f'write a proximity search as "word1 word2"~5 (1 to {MAX_SLOP})')
        if name is not None:
            raise Malformed("proximity works on the document text only, not in a field")
        slop, i = int(digits), i + 1 + len(digits)
    if i < len(text) and text[i] not in _STOP:
        raise Malformed("something is stuck to a closing quotation mark")
    return Phrase(inner, name, slop), i


def _leaf(raw: str, name: str | None) -> Leaf:
    if name == "date":
        return _dates(raw)
    if any(c in raw for c in "[]{}"):
        raise Malformed("ranges work on dates only, written date:2010-01-01..2015-12-31")
    if raw.endswith("*"):
        base = raw.rstrip("*")
        if "*" in base:
            raise Malformed("* works only at the end of a word")
        if len(base) < MIN_PREFIX:
            raise QueryTooBroad(
                f"“{raw}” would match too many words.",
                f"Type at least {MIN_PREFIX} letters before the *, for example abus*.")
        if name not in EXPANDABLE or not re.fullmatch(r"[\w-]+", base):
            raise Malformed(f"{raw} cannot be used as a prefix search")
        return Prefix(base, name)
    if "*" in raw:
        raise Malformed("* works only at the end of a word")
    fuzzy = _FUZZY.fullmatch(raw)
    if fuzzy:
        base, distance = fuzzy.group(1), int(fuzzy.group(2) or 1)
        if name not in EXPANDABLE or not 1 <= distance <= MAX_FUZZY:
            raise Malformed("write a spelling-tolerant search as Shahid~1 or Shahid~2")
        if len(base) < MIN_PREFIX:
            raise QueryTooBroad(
                f"“{raw}” would match too many words.",
                f"Use ~ only on words of {MIN_PREFIX} letters or more.")
        if len(base) > MAX_FUZZY_CHARS:
            raise Malformed(f"~ works on words of up to {MAX_FUZZY_CHARS} letters")
        return Fuzzy(base, distance, name)
    return Word(raw, name)


def _dates(raw: str) -> Dates:
    low, dots, high = raw.partition("..")
    if not dots:
        high = low
    for part in (low, high):
        if part and not _DATE_PART.fullmatch(part):
            raise Malformed("write dates as 2012, 2012-05 or 2012-05-03, and a range "
                            "as date:2010-01-01..2015-12-31")
    if not low and not high:
        raise Malformed("a date range needs a start, an end or both")
    start, end = date_bounds(Dates(low, high))
    if start and end and start > end:
        raise Malformed("the date range ends before it starts")
    return Dates(low, high)


def _period(part: str) -> tuple[datetime, datetime]:
    year, month, day = _DATE_PART.fullmatch(part).groups()
    try:
        if day:
            start = datetime(int(year), int(month), int(day))
            return start, start + timedelta(days=1)
        if month:
            start = datetime(int(year), int(month), 1)
            nxt = datetime(int(year) + (month == "12"), int(month) % 12 + 1, 1)
            return start, nxt
        return datetime(int(year), 1, 1), datetime(int(year) + 1, 1, 1)
    except (ValueError, OverflowError):
        raise Malformed(f"{part} is not a date") from None


def date_bounds(node: Dates) -> tuple[datetime | None, datetime | None]:
    """First and last moment covered, inclusive; None for an open end."""
    start = _period(node.low)[0] if node.low else None
    end = _period(node.high)[1] - timedelta(microseconds=1) if node.high else None
    return start, end


class _Parser:
    """and := or (AND? or)* ; or := unary (OR unary)* ; unary := NOT* (leaf | ( and ))."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.i].kind if self.i < len(self.tokens) else None

    def parse(self) -> Node:
        node = self.and_()
        if self.peek() is not None:
            raise Malformed("a ) has no matching (")
        return node

    def and_(self) -> Node:
        items: list[Node] = []
        while self.peek() not in (None, ")"):
            if self.peek() == "AND":
                self.i += 1
                if not items or self.peek() in (None, ")", "AND", "OR"):
                    raise Malformed("AND needs something to search for on both sides")
                continue
            items.append(self.or_())
        if not items:
            raise Malformed("there is nothing to search for" if self.depth == 0
                            else "there is nothing between ( and )")
        return items[0] if len(items) == 1 else And(tuple(items))

    def or_(self) -> Node:
        items = [self.unary("OR")]
        while self.peek() == "OR":
            self.i += 1
            items.append(self.unary("OR"))
        return items[0] if len(items) == 1 else Or(tuple(items))

    def unary(self, context: str) -> Node:
        negations = 0
        while self.peek() == "NOT":
            negations += 1
            self.i += 1
        kind = self.peek()
        if kind == "LEAF":
            node: Node = self.tokens[self.i].leaf  # type: ignore[assignment]
            self.i += 1
        elif kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise Malformed(f"brackets are nested more than {MAX_DEPTH} deep")
            self.i += 1
            node = self.and_()
            if self.peek() != ")":
                raise Malformed("a ( has no matching )")
            self.i += 1
            self.depth -= 1
        elif negations:
            raise Malformed("NOT needs something to search for after it")
        else:
            raise Malformed(f"{kind or context} needs something to search for on both sides")
        return Not(node) if negations % 2 else node


# --- to Whoosh --------------------------------------------------------------------------


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


def refuse_common_phrase(text: str, words: list[str]) -> None:
    """A quoted phrase of only very common words ("of the") is too broad on any back end:
    it is on nearly every page, many times, and matching it reads every position."""
    if words and all(w in STOP_WORDS for w in words):
        raise QueryTooBroad(
            f"“{text}” has only very common words, found on nearly every page.",
            "Add a less common word inside the quotes, for example "
            "“in the care of the council”.")


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


# --- highlighting -----------------------------------------------------------------------


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


class Mark(NamedTuple):
    text: str
    startchar: int
    endchar: int


@lru_cache(maxsize=8)
def _cached_stemmer(stemfn: Callable[[str], str]) -> Callable[[str], str]:
    """One remembering stemmer per stemming function, kept across searches."""
    return lru_cache(maxsize=100_000)(stemfn)


KEPT_WORDS = 200_000  # words whose analysed forms a marking tokenizer keeps (~40 MB)


def marking_tokenizer(stem, exact) -> Callable[[str], Iterable[Mark]]:
    """Tokens for snippets: each word's stem and its exact form, in text order.

    The same words and stems the two analysers give, read in one pass with a cached
    stemmer: running both analysers over every shown page was most of a search's time.
    """
    tokenizer, *filters = stem.items
    stops = next(f for f in filters if isinstance(f, StopFilter))
    stem_word = _cached_stemmer(next(f for f in filters if isinstance(f, StemFilter)).stemfn)
    exact_stops = next((f for f in exact.items if isinstance(f, StopFilter)), None)
    exact_min = exact_stops.min if exact_stops else 0  # no stop filter: every word kept
    # Both analysers split words alike (tests/test_query_fuzz.py checks it on random text).
    pattern = tokenizer.expression

    def tokens(s: str) -> Iterator[Mark]:
        for match in pattern.finditer(s):
            word = match.group(0).lower()
            start, end = match.span()
            if len(word) >= stops.min and word not in stops.stops:
                yield Mark(stem_word(word), start, end)
            if len(word) >= exact_min:
                yield Mark(EXACT_MARK + word, start, end)

    # Each word as written, with its two index forms (stem, exact), worked out once and
    # kept across searches, and the other way round: the written words of each form.
    # Bounded: past KEPT_WORDS written words, new ones are analysed each time instead.
    forms: dict[str, tuple[str | None, str | None]] = {}
    written: dict[str, set[str]] = {}

    def analyse(word: str) -> tuple[str | None, str | None]:
        lower = word.lower()
        stem = stem_word(lower) if len(lower) >= stops.min and lower not in stops.stops \
            else None
        exact = EXACT_MARK + lower if len(lower) >= exact_min else None
        if len(forms) < KEPT_WORDS:
            forms[word] = (stem, exact)
            for form in (stem, exact):
                if form is not None:
                    written.setdefault(form, set()).add(word)
        return stem, exact

    finder = _whole_tokens(pattern)

    def spans(s: str, terms: set[str]) -> list[tuple[int, int]]:
        """Where tokens(s) has one of `terms`. The regular expression engine lists the
        page's words, set operations pick the wanted ones (a word not seen before is
        analysed once), and only those are found again: a Python loop over every word
        was most of a snippet's time."""
        if finder is None:
            return [m.span() for m in pattern.finditer(s)
                    if not terms.isdisjoint(forms.get(m.group(0)) or analyse(m.group(0)))]
        words = set(finder.words.findall(s))
        # difference() with a dict looks each word up; `- forms.keys()` walks the dict.
        wanted = {word for word in words.difference(forms)
                  if not terms.isdisjoint(analyse(word))}
        wanted |= words & set().union(*(written.get(t, ()) for t in terms))
        return [m.span() for m in finder.only(list(wanted)).finditer(s)] if wanted else []

    tokens.spans = spans  # type: ignore[attr-defined]
    return tokens


# The tokenizer's expression when it is "C+(\.?C+)*" for a character class C (Whoosh's own).
_TOKEN_SHAPE = re.compile(r"^(\[[^\]]+\]|\\w)\+\(\\\.\?\1\+\)\*$")


class _TokenFinder(NamedTuple):
    words: re.Pattern  # every token, as findall lists it
    char: str
    flags: int

    def only(self, wanted: list[str]) -> re.Pattern:
        """Whole tokens equal to one of `wanted`: a token starts where the character
        before is neither C nor a dot after C, and ends where the next is neither C nor
        a dot before C, exactly where the tokenizer's greedy scan starts and stops."""
        c = self.char
        either = "|".join(map(re.escape, wanted))
        return re.compile(f"(?<!{c})(?<!{c}\\.)(?:{either})(?!{c})(?!\\.{c})", self.flags)


def _whole_tokens(pattern: re.Pattern) -> _TokenFinder | None:
    shape = _TOKEN_SHAPE.match(pattern.pattern)
    if shape is None:
        return None
    c = shape.group(1)
    return _TokenFinder(re.compile(f"{c}+(?:\\.?{c}+)*", pattern.flags), c, pattern.flags)


def analysed_marks(stem, exact) -> Callable[[str], Iterable[Mark]]:
    """What marking_tokenizer must give: both analysers run in full (for tests)."""

    def stems(s: str) -> Iterator[Mark]:
        for t in stem(s, chars=True, mode="index"):
            yield Mark(t.text, t.startchar, t.endchar)

    def words(s: str) -> Iterator[Mark]:
        for t in exact(s, chars=True, mode="index"):
            yield Mark(EXACT_MARK + t.text, t.startchar, t.endchar)

    return lambda s: merge(stems(s), words(s), key=lambda m: m.startchar)
