"""Marking searched words in page text as the tantivy index reads it: the tokens come from
the index's own analysers (schema.py), run in Rust, so a mark agrees with what matched."""

from __future__ import annotations

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
