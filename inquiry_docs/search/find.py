"""Searching as a user: their reach applied inside the search, the shown pages' text read
in one query, and the shown documents' rows. Web pages, the API and the CLI all call this."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from ..access import permissions
from ..db import db
from ..models import Document, Page
from . import backend
from .facets import Filters

PER_PAGE = 20


def page_texts(wanted: dict[int, list[int]]) -> dict[tuple[int, int], str]:
    """The text of the shown pages in one query (one per document cost a results page
    twenty round trips)."""
    # One (document = ? AND number IN ...) per document: both engines answer each from the
    # (document_id, number) key, where SQLite scans the table for a tuple IN list.
    wanted = {d: numbers for d, numbers in wanted.items() if numbers}
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Page.document_id, Page.number, Page.text)
        .where(or_(*(and_(Page.document_id == d, Page.number.in_(numbers))
                     for d, numbers in wanted.items()))))
    return {(d, n): text for d, n, text in rows}


def find(user, query: str, inquiry_id: int | None = None, offset: int = 0,
         limit: int = PER_PAGE, *, filters: Filters | None = None, sort: str = "relevance",
         expand: int | None = None, facets: bool = False):
    """Search within the user's reach, optionally narrowed to one inquiry and filtered."""
    scope = permissions.scope_for(user).only(inquiry_id)
    return backend().search(query, scope, offset=offset, limit=limit,
                            snippet_text=page_texts, filters=filters, sort=sort,
                            expand=expand, facets=facets)


def shown_documents(results) -> dict[int, Document]:
    """The Document rows of a page of results. Load them after the search's audit commit:
    a commit expires loaded rows, and each would then be read again one by one."""
    ids = [d.document_id for d in results.documents] if results else []
    return {d.id: d for d in db.session.execute(
        select(Document).where(Document.id.in_(ids))).scalars()} if ids else {}


def run_search(user, query: str, inquiry_id: int | None = None, offset: int = 0,
               limit: int = PER_PAGE, **options):
    """`find` and the shown documents' rows together, for callers that write nothing."""
    results = find(user, query, inquiry_id, offset, limit, **options)
    return results, shown_documents(results)
