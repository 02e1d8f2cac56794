"""Search results for a reader of a redacted release: snippets, exported rows and the
passages quoted on a recommendation page are made from the redacted text, never from the
words under a box.

The index itself holds the stored text, so such a document can still be found by a word
under a box (a limit the README states); what the reader is shown of it is redacted.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select

from ..access import permissions
from ..db import db
from ..models import Document, EvidenceLink, User
from ..search import backend
from ..search.export import plain_snippet, safe_cell
from ..search.snippets import snippet
from .redacted import texts_for

URN_COLUMN, PAGE_COLUMN, SNIPPET_COLUMN = 0, 4, 6  # of search/export.py's HEADER


def _redacted_only(user: User | None, document_ids: set[int]) -> dict[int, Document]:
    """Of these documents, those released redacted that this user may not see whole."""
    if not document_ids:
        return {}
    rows = db.session.execute(select(Document).where(
        Document.id.in_(sorted(document_ids)), Document.redacted_release.is_(True))).scalars()
    return {d.id: d for d in rows if not permissions.sees_original(user, d)}


def redact_snippets(user: User | None, results, query: str) -> None:
    """Replace, in place, the snippets of pages with redactions that this user may see only
    redacted."""
    if results is None or not results.documents:
        return
    hidden = _redacted_only(user, {d.document_id for d in results.documents})
    if not hidden:
        return
    search = backend()
    terms, tokenize = search.terms_for(query), search.tokenizer()
    for hit in results.documents:
        document = hidden.get(hit.document_id)
        if document is None:
            continue
        texts = texts_for(user, document, [p.number for p in hit.pages])
        for page in hit.pages:
            if page.number in texts:
                page.snippet = snippet(texts[page.number], terms, tokenize)


def redact_rows(user: User | None, rows: Iterator[list[str]], query: str
                ) -> Iterator[list[str]]:
    """The rows of a search export (header first), with the snippet of each page with
    redactions taken from the redacted text for a reader of a redacted release."""
    header = next(rows, None)
    if header is None:
        return
    yield header
    search = backend()
    terms, tokenize = search.terms_for(query), search.tokenizer()
    urns: dict[str, Document | None] = {}
    for row in rows:
        urn = row[URN_COLUMN]
        if urn not in urns:
            document = db.session.execute(select(Document).where(Document.urn == urn)
                                          ).scalar_one_or_none()
            urns[urn] = document if document is not None and document.redacted_release \
                and not permissions.sees_original(user, document) else None
        document = urns[urn]
        if document is not None and str(row[PAGE_COLUMN]).isdigit():
            number = int(row[PAGE_COLUMN])
            text = texts_for(user, document, [number]).get(number)
            if text is not None:
                row = [*row]
                row[SNIPPET_COLUMN] = safe_cell(plain_snippet(text, terms, tokenize))
        yield row


EXCERPT = 300  # like a recommendation page's excerpt of a linked page


def passage(user: User | None, link: EvidenceLink) -> str | None:
    """What a recommendation page shows of a link to a page with redactions, for a reader
    of a redacted release: the start of the redacted text (a quote chosen from the page
    may hold hidden words, so it is not shown). None: show the usual passage."""
    text = texts_for(user, link.document, [link.page]).get(link.page)
    if text is None:
        return None
    text = " ".join(text.split())
    return text[:EXCERPT] + ("…" if len(text) > EXCERPT else "")
