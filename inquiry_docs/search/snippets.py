"""Snippets built from escaped text, with <mark> added only after escaping."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from markupsafe import Markup, escape

WIDTH = 200
LEAD = 60

Span = tuple[int, int]


class Mark(NamedTuple):
    """A word of page text in an analysed form, with where it stands."""

    text: str
    startchar: int
    endchar: int


def match_spans(text: str, terms: set[str], tokenize: Callable[[str], Iterable]) -> list[Span]:
    """Character spans of tokens whose analysed form is one of the query's terms."""
    if not terms:
        return []
    spans = getattr(tokenize, "spans", None)  # the one-pass tokenizer's shortcut
    if spans is not None:
        return spans(text, terms)
    return [(t.startchar, t.endchar) for t in tokenize(text) if t.text in terms]


def best_window(text: str, spans: list[Span], width: int = WIDTH) -> Span:
    """The window of about `width` characters holding the most matches."""
    if not spans:
        return 0, min(len(text), width)
    best, best_count = spans[0][0], 0
    for start, _ in spans:
        count = sum(1 for s, e in spans if start <= s and e <= start + width - LEAD)
        if count > best_count:
            best, best_count = start, count
    begin = max(0, best - LEAD)
    # Start and end at word boundaries so the snippet reads cleanly.
    if begin > 0:
        space = text.find(" ", begin, best)
        begin = space + 1 if space != -1 else begin
    end = min(len(text), begin + width)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > best else end
    return begin, end


def highlight(text: str, spans: list[Span], window: Span | None = None,
              ids: str | None = None) -> Markup:
    """Escape every piece of text, then wrap the matches in <mark>; with `ids`, each mark
    gets the id `<ids><n>` (n from 1) so a link can go to it."""
    begin, end = window or (0, len(text))
    out: list[str] = ["…" if begin > 0 else ""]
    cursor = begin
    count = 0
    for start, stop in spans:
        if start < cursor or stop > end:
            continue
        out.append(str(escape(text[cursor:start])))
        count += 1
        attribute = f' id="{escape(ids)}{count}"' if ids is not None else ""
        out.append(f"<mark{attribute}>{escape(text[start:stop])}</mark>")
        cursor = stop
    out.append(str(escape(text[cursor:end])))
    out.append("…" if end < len(text) else "")
    return Markup("".join(out))  # noqa: S704 - every piece above was escaped


def snippet(text: str, terms: set[str], tokenize: Callable[[str], Iterable]) -> Markup:
    """A ~200-character snippet around the densest cluster of matches, safe to render."""
    text = " ".join(text.split())  # page text is multi-line; a snippet reads as one line
    spans = match_spans(text, terms, tokenize)
    return highlight(text, spans, best_window(text, spans))
