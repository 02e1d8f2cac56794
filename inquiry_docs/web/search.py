"""The search page: results by document, best pages with marked snippets."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from .. import audit, permissions
from ..db import db
from ..models import Document, Page
from ..search import backend
from ..search.query import QueryTooBroad
from . import guard

bp = Blueprint("search", __name__)
PER_PAGE = 20


def page_texts(document_id: int, numbers: list[int]) -> dict[int, str]:
    return dict(db.session.execute(
        select(Page.number, Page.text).where(Page.document_id == document_id,
                                              Page.number.in_(numbers))
    ).all())


def run_search(user, query: str, inquiry_id: int | None = None, offset: int = 0,
               limit: int = PER_PAGE):
    """Search within the user's reach, optionally narrowed to one inquiry."""
    scope = permissions.scope_for(user).only(inquiry_id)
    results = backend().search(query, scope, offset=offset, limit=limit,
                               snippet_text=page_texts)
    ids = [d.document_id for d in results.documents]
    rows = {d.id: d for d in db.session.execute(
        select(Document).where(Document.id.in_(ids))).scalars()}
    return results, rows


@bp.route("/")
@login_required
def search():
    who = guard.user()
    query = request.args.get("q", "").strip()
    inquiry_id = request.args.get("inquiry", type=int)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    results = rows = too_broad = None
    if query:
        try:
            results, rows = run_search(who, query, inquiry_id, (page - 1) * PER_PAGE)
        except QueryTooBroad as error:
            too_broad = error
        audit.record("search", user=who, object_type="search", query=query[:1000],
                     inquiry=inquiry_id, documents=results.total_documents if results else 0)
        db.session.commit()
    return render_template(
        "search/index.html", query=query, results=results, rows=rows, page=page,
        per_page=PER_PAGE, inquiries=permissions.inquiries_where(who, "read"),
        inquiry_id=inquiry_id, too_broad=too_broad,
    )


@bp.route("/search/help")
@login_required
def help_page():
    return render_template("search/help.html")
