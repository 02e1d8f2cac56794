"""Where a page of a document is shown: the document page lists PAGES_PER_VIEW pages at a
time (?page= is the view), each page anchored as #page-N."""

from __future__ import annotations

from flask import url_for

PAGES_PER_VIEW = 20


def view_of(number: int) -> int:
    """The view (?page=) of the document page that shows page `number`."""
    return (number - 1) // PAGES_PER_VIEW + 1


def page_url(document_id: int, number: int) -> str:
    return url_for("documents.show", document_id=document_id,
                   page=view_of(number)) + f"#page-{number}"
