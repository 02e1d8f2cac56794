"""The timeline (documents by month, filtered like a search, and as CSV) and the
comparison of two versions of a document; the charts the search page shows."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import login_required
from sqlalchemy import func, select

from ..access import audit, permissions
from ..db import db, to_int_or_none
from ..evidence.dates import source_label
from ..insight import compare as comparing
from ..insight import overview, timeline, versions
from ..models import Document, Page
from ..review import tags
from ..search import export
from ..search.facets import parse_filters
from ..search.find import find
from ..search.query import QueryTooBroad
from . import guard
from .overview import result_charts
from .search import MAX_QUERY, _facet_panel

bp = Blueprint("insight", __name__)


@bp.app_template_filter("date_source")
def _date_source(source: str | None) -> str:
    return source_label(source)


def _words() -> str:
    return request.args.get("q", "").strip()[:MAX_QUERY]


@bp.route("/timeline")
@login_required
def timeline_page():
    who = guard.user()
    query = _words()
    filters = parse_filters(request.args)
    inquiries = permissions.inquiries_where(who, "read")
    tag_names = {str(t.id): t.name for t in tags.for_inquiries([i.id for i in inquiries])}
    line = results = too_broad = None
    try:
        found = overview.matching(who, query, filters)
        # Facet counts for the filter panel, from the same search (nothing listed).
        results = find(who, overview.search_text(query), None, 0, 0, filters=filters,
                       facets=True)
        line = timeline.build(who, query, filters, found)
    except QueryTooBroad as error:
        too_broad = error
    audit.record("timeline_viewed", user=who, object_type="search", query=query,
                 filters=filters.args(), documents=line.documents if line else 0)
    db.session.commit()
    args = {"q": query or None, **filters.args()}
    return render_template(
        "insight/timeline.html", query=query, filters=filters, line=line, args=args,
        too_broad=too_broad, results=results, inquiries=inquiries,
        facets=_facet_panel(results, filters, inquiries, tag_names),
        charts=result_charts(line, "timeline") if line else None,
        filter_endpoint="insight.timeline_page")


@bp.route("/timeline.csv")
@login_required
def timeline_csv():
    who = guard.user()
    query = _words()
    filters = parse_filters(request.args)
    try:
        line = timeline.build(who, query, filters)
    except QueryTooBroad as error:
        return Response(f"{error.message} {error.advice}\n", status=400, mimetype="text/plain")
    audit.record("timeline_exported", user=who, object_type="search", query=query,
                 filters=filters.args(), documents=line.documents)
    db.session.commit()
    response = Response(stream_with_context(export.csv_lines(iter(timeline.csv_rows(line)))),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="timeline.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _other(who, value: str) -> Document | None:
    """The document to compare with, by id or URN, if the user may see it."""
    value = value.strip()
    number = to_int_or_none(value)
    if number is not None:
        return permissions.get_visible_document(who, number)
    found = db.session.execute(permissions.visible_documents(who).where(
        func.upper(Document.urn) == value.upper()[:20])).scalar_one_or_none()
    return found


def _pages(document: Document) -> list[tuple[int, str]]:
    return [(number, text) for number, text in db.session.execute(
        select(Page.number, Page.text).where(Page.document_id == document.id)
        .order_by(Page.number))]


@bp.route("/documents/<int:document_id>/compare")
@login_required
def compare(document_id: int):
    """Two versions side by side; without `with`, a choice of which to compare with."""
    document = guard.document_or_404(document_id)
    who = guard.user()
    near = versions.near_duplicates(who, document)
    wanted = request.args.get("with", "")
    error = comparison = other = None
    if wanted.strip():
        other = _other(who, wanted)
        if other is None or other.id == document.id:
            error = ("Enter the URN of another document you can see, like OLD000123"
                     if other is None else "Choose a different document to compare with")
    if other is not None and error is None:
        try:
            comparison = comparing.compare(_pages(document), _pages(other))
        except comparing.TooLong as too_long:
            error = str(too_long)
        for seen in (document, other):
            audit.record("document_compared", user=who, object_type="document",
                         object_id=seen.id, inquiry_id=seen.inquiry_id, urn=seen.urn,
                         compared_with=(other if seen is document else document).urn)
        db.session.commit()
    every = request.args.get("pages") == "all"
    status = 400 if error else 200
    return render_template("insight/compare.html", document=document, other=other,
                           comparison=comparison, near=near, error=error, wanted=wanted,
                           every=every), status
