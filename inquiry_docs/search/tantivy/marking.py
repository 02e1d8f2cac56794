"""Marking searched words in page text as the tantivy index reads it: the tokens come from
the index's own analysers (schema.py), run in Rust, so a mark agrees with what matched."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from heapq import merge

from ..query import EXACT_MARK
from ..snippets import Mark
from .schema import exact_analyzer, stem_analyzer


def marking_tokenizer() -> Callable[[str], Iterable[Mark]]:
    """Tokens for snippets and the viewer: each word's stem (stop words have none) and its
    exact form with EXACT_MARK in front, in text order, with character offsets."""
    stem, exact = stem_analyzer(), exact_analyzer()

    def stems(s: str) -> Iterator[Mark]:
        for t in stem.pre_tokenize(s).tokens:
            yield Mark(t.text, t.char_offset_from, t.char_offset_to)

    def words(s: str) -> Iterator[Mark]:
        for t in exact.pre_tokenize(s).tokens:
            yield Mark(EXACT_MARK + t.text, t.char_offset_from, t.char_offset_to)

    def tokens(s: str) -> Iterator[Mark]:
        return merge(stems(s), words(s), key=lambda m: m.startchar)

    def spans(s: str, terms: set[str]) -> list[tuple[int, int]]:
        """Where tokens(s) has one of `terms`, each word once, in text order."""
        found: set[tuple[int, int]] = set()
        if any(not t.startswith(EXACT_MARK) for t in terms):
            found.update((t.char_offset_from, t.char_offset_to)
                         for t in stem.pre_tokenize(s).tokens if t.text in terms)
        if any(t.startswith(EXACT_MARK) for t in terms):
            found.update((t.char_offset_from, t.char_offset_to)
                         for t in exact.pre_tokenize(s).tokens
                         if EXACT_MARK + t.text in terms)
        return sorted(found)

    tokens.spans = spans  # type: ignore[attr-defined]
    return tokens



def snippet_spans(terms: set[str], tokens: Callable[[str], Iterable[Mark]]
                  ) -> Callable[[str], Iterable[Mark]]:
    """`tokens` (a `marking_tokenizer`) for one search's snippets, analysing only the
    parts of a page that can hold one of `terms`: analysing a whole page costs about
    0.3 ms, and a results page shows sixty.

    A C-speed regular expression finds where a word could begin with one of the terms
    (a stem's letters but the last two, two at least, `i` also as `y`: Porter2 changes
    at most a stem's last two letters and adds an `e`, as `biliti` -> `ble`, `hoping` ->
    `hope`, `dying` -> `die`; an exact word in full). Only the runs of non-space characters around
    those places are analysed: no token spans a space, so each is analysed as in the
    whole page. The spans are the same; the window and the escaping stay snippets.py's.
    """
    candidates = _candidates(terms)

    def spans(s: str, wanted: set[str]) -> list[tuple[int, int]]:
        if wanted != terms or candidates is None:  # other words: the whole page
            return tokens.spans(s, wanted)  # type: ignore[attr-defined]
        runs: list[tuple[int, int]] = []
        for hit in candidates.finditer(s):
            if runs and hit.start() < runs[-1][1]:
                continue  # inside the run already taken
            begin = s.rfind(" ", 0, hit.start()) + 1
            end = s.find(" ", hit.end())
            runs.append((begin, len(s) if end == -1 else end))
        if not runs:
            return []
        # The runs joined by spaces and analysed in one call, then put back in place.
        starts, pieces, at = [], [], 0
        for begin, end in runs:
            starts.append((at, begin))
            pieces.append(s[begin:end])
            at += end - begin + 1
        found = []
        for a, b in tokens.spans(" ".join(pieces), wanted):  # type: ignore[attr-defined]
            joined, begin = starts[bisect_right(starts, (a, len(s))) - 1]
            found.append((begin + a - joined, begin + b - joined))
        return found

    def tokenize(s: str) -> Iterable[Mark]:
        return tokens(s)

    tokenize.spans = spans  # type: ignore[attr-defined]
    return tokenize


def _candidates(terms: set[str]) -> re.Pattern | None:
    """Where a token that analyses to one of `terms` can start (None: anywhere)."""
    parts = []
    for term in sorted(terms):
        if term.startswith(EXACT_MARK):
            word = term[len(EXACT_MARK):]
        else:
            word = term[:max(min(2, len(term)), len(term) - 2)]
        if not word:
            return None
        parts.append("".join("[iy]" if c == "i" else re.escape(c) for c in word))
    if not parts:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.IGNORECASE)
