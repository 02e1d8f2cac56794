"""The tantivy index's schema, its analysers, and a page's record.

Words are split as Whoosh splits them (`\\w+(\\.?\\w+)*`), lower-cased, and one-letter
tokens are never made (the expression needs two word characters), so positions run on
without gaps where Whoosh renumbers after dropping them. The stemmed field also drops
Whoosh's stop words and stems with the English (Porter2) stemmer; it keeps frequencies
only (index_option "freq"): phrases and proximity use the exact field, which keeps
positions. Custom analysers are not stored in the index: every Index object registers
them (`open_index`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import tantivy

from ..facets import normalise_source
from ..query import STOP_WORDS

if TYPE_CHECKING:
    from ..contract import IndexPage

WORDS = r"\w(?:\.?\w+)+"  # Whoosh's \w+(\.?\w+)* less its one-character tokens
STEM, EXACT = "id_stem", "id_exact"  # analyser names as the schema refers to them
SCHEMA_VERSION = "1"  # written beside the index; another value means "reindex"
PAGE_BITS = 24  # a page key is document id << PAGE_BITS | page number
URN_CHARS = 9


def stem_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(WORDS))
            .filter(tantivy.Filter.remove_long(100))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.custom_stopword(sorted(STOP_WORDS)))
            .filter(tantivy.Filter.stemmer("english"))
            .build())


def exact_analyzer() -> tantivy.TextAnalyzer:
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(WORDS))
            .filter(tantivy.Filter.remove_long(100))
            .filter(tantivy.Filter.lowercase())
            .build())


def make_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    # Access, grouping and sorting read fast fields (columns), never stored documents.
    sb.add_unsigned_field("doc", indexed=True, fast=True)
    sb.add_unsigned_field("page", fast=True)
    sb.add_unsigned_field("key", indexed=True, fast=True)  # page key, for `rec:` sets
    sb.add_text_field("urn", tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("urn_key", fast=True)  # the URN, packed, in URN order
    sb.add_unsigned_field("inquiry", indexed=True, fast=True)
    sb.add_text_field("marking", tokenizer_name="raw", index_option="basic")
    sb.add_boolean_field("restricted", indexed=True, fast=True)
    sb.add_text_field("type", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("source", tokenizer_name=EXACT, index_option="position")
    sb.add_text_field("src", tokenizer_name="raw", index_option="basic")
    # The date in seconds since 1970; absent when there is none (sorted last either way).
    sb.add_integer_field("when", indexed=True, fast=True)
    sb.add_unsigned_field("year", indexed=True)
    sb.add_text_field("title", tokenizer_name=STEM, index_option="position")
    sb.add_text_field("text", tokenizer_name=STEM, index_option="freq")
    sb.add_text_field("exact", tokenizer_name=EXACT, index_option="position")
    return sb.build()


def register(index: tantivy.Index) -> None:
    index.register_tokenizer(STEM, stem_analyzer())
    index.register_tokenizer(EXACT, exact_analyzer())


def page_key(document_id: int, number: int) -> int:
    return (document_id << PAGE_BITS) | (number & ((1 << PAGE_BITS) - 1))


def urn_key(urn: str) -> int:
    """The URN packed 7 bits a character (9 at most, ASCII): numbers compare as the URNs
    do, and `urn_of` reads the URN back without a stored document."""
    value = 0
    padded = (urn[:URN_CHARS] + "\0" * URN_CHARS)[:URN_CHARS]
    for char in padded:
        value = (value << 7) | min(ord(char), 127)
    return value


def urn_of(key: int) -> str:
    chars = []
    for shift in range(URN_CHARS - 1, -1, -1):
        code = (key >> (7 * shift)) & 127
        if code:
            chars.append(chr(code))
    return "".join(chars)


_SPACES = re.compile(r"\s+")


def record(page: IndexPage) -> tantivy.Document:
    """One page's record (labels are not indexed: they are read at search time)."""
    doc = tantivy.Document()
    doc.add_unsigned("doc", page.document_id)
    doc.add_unsigned("page", page.number)
    doc.add_unsigned("key", page_key(page.document_id, page.number))
    doc.add_text("urn", page.urn.upper())
    doc.add_unsigned("urn_key", urn_key(page.urn.upper()))
    doc.add_unsigned("inquiry", page.inquiry_id)
    doc.add_text("marking", page.marking)
    doc.add_boolean("restricted", bool(page.restricted))
    doc.add_text("type", page.doc_type)
    source = page.source or ""
    if source.strip():
        doc.add_text("source", _SPACES.sub(" ", source.lower()).strip())
        doc.add_text("src", normalise_source(source))
    if page.date is not None:
        doc.add_integer("when", int(as_utc(page.date).timestamp()))
        doc.add_unsigned("year", page.date.year)
    doc.add_text("title", page.title or "")
    doc.add_text("text", page.text)
    doc.add_text("exact", page.text)
    return doc


def as_utc(value: datetime) -> datetime:
    """Database dates are naive UTC; tantivy wants them aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
