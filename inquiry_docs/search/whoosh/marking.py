"""Marking the searched words in page text as Whoosh's analysers read it: each word's stem
and its exact form, worked out once per word and kept across searches."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from heapq import merge
from typing import NamedTuple

from whoosh.analysis import StemFilter, StopFilter

from ..query import EXACT_MARK
from ..snippets import Mark


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
