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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from whoosh.analysis import STOP_WORDS

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


def refuse_common_phrase(text: str, words: list[str]) -> None:
    """A quoted phrase of only very common words ("of the") is too broad on any back end:
    it is on nearly every page, many times, and matching it reads every position."""
    if words and all(w in STOP_WORDS for w in words):
        raise QueryTooBroad(
            f"“{text}” has only very common words, found on nearly every page.",
            "Add a less common word inside the quotes, for example "
            "“in the care of the council”.")
