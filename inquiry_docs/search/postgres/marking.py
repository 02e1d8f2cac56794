"""Marks in PostgreSQL's results: ts_headline's passages escaped in SQL and marked after,
and the words of page text as PostgreSQL's english and simple configurations read them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache

from markupsafe import Markup

from ..query import EXACT_MARK
from ..snippets import Mark

START, STOP = "\x02", "\x03"  # ts_headline's marks, replaced by <mark> after escaping


def escaped(expression: str) -> str:
    """SQL escaping `expression` for HTML before ts_headline sees it: with no `<` left,
    its parser finds no tags to drop, and its output needs no escaping afterwards."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                         ("''", "&#39;")):
        expression = f"replace({expression}, '{char}', '{entity}')"
    return expression


def marked(headline: str, length: int) -> Markup:
    """ts_headline's output of escaped text, with its marks made <mark>; … where cut."""
    # The input had no < > " ' left; make sure of it whatever ts_headline did.
    body = headline.translate({ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
                               ord("'"): "&#39;"})
    body = body.replace(START, "<mark>").replace(STOP, "</mark>")
    plain = html.unescape(headline.replace(START, "").replace(STOP, ""))
    tail = "…" if len(plain) < length and not plain.endswith("…") else ""
    return Markup(body + tail)  # noqa: S704 - escaped in SQL; only our marks were added


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """The English (Porter2) stem, as PostgreSQL's english_stem dictionary makes it."""
    return _stemmer().stem(word)


@lru_cache(maxsize=1)
def _stemmer():
    from whoosh.lang.snowball.english import EnglishStemmer

    return EnglishStemmer()


def marking_tokenizer(text_: str) -> Iterator[Mark]:
    """Each word's English stem and its exact lower-cased form, in text order, for
    marking words in Python (the viewer, exports, suggestions)."""
    for match in re.finditer(r"\w+", text_):
        word = match.group().lower()
        yield Mark(stem(word), match.start(), match.end())
        yield Mark(EXACT_MARK + word, match.start(), match.end())
