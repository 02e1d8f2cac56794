"""CSV export of a whole result set: one row per matching page, plain text only.

Cells that a spreadsheet would run as a formula (leading = + - @, tab or carriage return)
are neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select

from ..access import permissions
from ..db import db
from ..models import Document, Page
from . import backend
from .facets import Filters
from .snippets import best_window, match_spans

MAX_ROWS = 100_000
BATCH = 500
HEADER = ("URN", "Title", "Date", "Type", "Page", "Score", "Snippet")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as text a spreadsheet shows as text, never runs."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def plain_snippet(text: str, terms: set[str], tokenize) -> str:
    """The ~200 characters around the matches, as plain text (no marks, no markup)."""
    text = " ".join(text.split())
    begin, end = best_window(text, match_spans(text, terms, tokenize))
    return ("…" if begin > 0 else "") + text[begin:end] + ("…" if end < len(text) else "")


def result_rows(user, query: str, filters: Filters | None = None, sort: str = "relevance",
                limit: int = MAX_ROWS) -> tuple[int, Iterator[list[str]]]:
    """How many rows, and the rows (header first) for every page matching within reach."""
    search = backend()
    terms, hits = search.all_hits(query, permissions.scope_for(user), filters=filters,
                                  sort=sort, limit=limit)
    tokenize = search.tokenizer()

    def rows() -> Iterator[list[str]]:
        yield list(HEADER)
        for start in range(0, len(hits), BATCH):
            chunk = hits[start:start + BATCH]
            ids = {document_id for document_id, _, _, _ in chunk}
            numbers = {number for _, _, number, _ in chunk}
            documents = {d.id: d for d in db.session.execute(
                select(Document).where(Document.id.in_(ids))).scalars()}
            texts = {(d, n): t for d, n, t in db.session.execute(
                select(Page.document_id, Page.number, Page.text)
                .where(Page.document_id.in_(ids), Page.number.in_(numbers)))}
            for document_id, urn, number, score in chunk:
                document = documents.get(document_id)
                date = document.document_date if document else None
                yield [safe_cell(v) for v in (
                    urn, document.title if document else "",
                    date.date().isoformat() if date else "",
                    document.type_label if document else "", number, f"{score:.3f}",
                    plain_snippet(texts.get((document_id, number), ""), terms, tokenize),
                )]

    return len(hits), rows()


def csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
