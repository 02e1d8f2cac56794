"""The search page: results by document, best pages with marked snippets, filters with
counts, sorting, and a CSV export of the whole result set."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_login import login_required
from sqlalchemy import select

from .. import recommendations
from ..access import audit, permissions
from ..db import db, to_int
from ..insight.overview import search_text
from ..models import DOC_TYPES, PRIVILEGE, RELEVANCE, REVIEW_STATUS, TAG_COLOURS, Page, User
from ..review import released, tags
from ..search import export
from ..search.facets import SORTS, Filters, parse_filters, parse_sort
from ..search.find import PER_PAGE, find, shown_documents
from ..search.query import QueryTooBroad
from . import guard
from . import overview as result_overview

bp = Blueprint("search", __name__)
MAX_QUERY = 1000


def ocr_pages(results) -> set[tuple[int, int]]:
    """(document id, page number) of the shown hits whose text was read by OCR."""
    if results is None or not results.documents:
        return set()
    wanted = {(d.document_id, p.number) for d in results.documents for p in d.pages}
    rows = db.session.execute(
        select(Page.document_id, Page.number).where(
            Page.document_id.in_({d for d, _ in wanted}), Page.ocr.is_(True),
            Page.number.in_({n for _, n in wanted}))
    ).all()
    return {(d, n) for d, n in rows if (d, n) in wanted}


def _rec_label(value: object) -> str:
    """`13` as "13. Mandatory reporting of child sexual abuse" (with the set's code for
    other sets); an unknown value as itself."""
    rec = recommendations.by_ref(str(value))
    if rec is None:
        return str(value)
    prefix = "" if rec.set.code == recommendations.DEFAULT_SET else f"{rec.set.code} "
    return prefix + recommendations.label(rec)


YES_NO = {"yes": "Yes", "no": "No"}


def _reviewer_names(results) -> dict[str, str]:
    """Emails of the reviewers counted in the (already access-filtered) results."""
    ids = [int(v) for v in (results.facets.values["reviewer"] if results and results.facets
                            else {}) if str(v).isdigit()]
    names = {"none": "Nobody"}
    names.update((str(i), e) for i, e in db.session.execute(
        select(User.id, User.email).where(User.id.in_(ids))))
    return names


def _facet_panel(results, filters: Filters, inquiries, tag_names: dict[str, str]
                 ) -> list[dict]:
    """Each facet with its values, labels, counts and whether it is chosen.

    Values come only from the filtered, access-restricted results; a chosen value that now
    matches nothing is still listed (with 0) so it can be unticked.
    """
    counts = results.facets if results else None
    names = {i.id: f"{i.code} \u2013 {i.name}" for i in inquiries}
    reviewers = _reviewer_names(results)
    specs = [
        ("inquiry", "Inquiry", lambda v: names.get(v, str(v))),
        ("type", "Document type", lambda v: DOC_TYPES.get(v, v)),
        ("source", "Source", str),
        ("tag", "Tag", lambda v: tag_names.get(v, v)),
        ("rec", "Linked recommendation", _rec_label),
        ("relevance", "Relevance", lambda v: RELEVANCE.get(v, v)),
        ("privilege", "Privilege", lambda v: PRIVILEGE.get(v, v)),
        ("review", "Review status", lambda v: REVIEW_STATUS.get(v, v)),
        ("reviewer", "Assigned reviewer", lambda v: reviewers.get(v, v)),
        ("redaction", "Redaction needed", lambda v: YES_NO.get(v, v)),
        ("restricted", "Under a restriction order", lambda v: YES_NO.get(v, v)),
    ]
    panel = []
    for name, legend, label in specs:
        found = dict(counts.sorted(name)) if counts else {}
        chosen = getattr(filters, name)
        if name == "inquiry":
            chosen = tuple(v for v in chosen if v in names)  # never name an unknown inquiry
        if name == "tag":
            chosen = tuple(v for v in chosen if v in tag_names)  # nor another inquiry's tag
        if name == "reviewer":
            chosen = tuple(v for v in chosen if v in reviewers)  # nor an unknown person
        items = [(v, label(v), c, v in chosen) for v, c in found.items()]
        items += [(v, label(v), 0, True) for v in chosen if v not in found]
        if items:
            panel.append({"name": name, "legend": legend, "items": items})
    return panel


@bp.route("/")
@login_required
def search():
    who = guard.user()
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    filters = parse_filters(request.args)
    sort = parse_sort(request.args.get("sort"))
    expand = request.args.get("expand", type=to_int)
    try:
        page = max(1, to_int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    results = rows = too_broad = extras = None
    collapse = request.args.get("collapse") == "yes"
    if query or filters:  # filters alone list every document they let through
        try:
            results = find(who, search_text(query), None, (page - 1) * PER_PAGE,
                           filters=filters, sort=sort, expand=expand, facets=True)
            results, extras = result_overview.for_results(
                who, query, filters, sort, results, (page - 1) * PER_PAGE, PER_PAGE,
                collapse, expand)
        except QueryTooBroad as error:
            too_broad = error
        audit.record("search", user=who, object_type="search", query=query,
                     filters=filters.args(), sort=sort, collapse=collapse,
                     inquiry=filters.inquiry[0] if len(filters.inquiry) == 1 else None,
                     documents=results.total_documents if results else 0)
        db.session.commit()
        released.redact_snippets(who, results, query)
        rows = shown_documents(results)
    inquiries = permissions.inquiries_where(who, "read")
    # Tag names only from the user's own inquiries; counts come from the scoped search.
    inquiry_tags = tags.for_inquiries([i.id for i in inquiries])
    tag_names = {str(t.id): t.name for t in inquiry_tags}
    taggable = {i.id for i in permissions.inquiries_where(who, "tag")}
    tags_by_inquiry: dict[int, list] = {i: [] for i in taggable}
    for t in inquiry_tags:
        if t.inquiry_id in taggable:
            tags_by_inquiry[t.inquiry_id].append(t)
    args = {"q": query, **filters.args(), "sort": sort if sort != "relevance" else None,
            "collapse": "yes" if collapse else None}
    if request.headers.get("HX-Request") and expand and results is not None:
        hit = next((h for h in results.documents if h.document_id == expand), None)
        if hit is not None:
            return render_template("search/_pages.html", hit=hit, d=rows[hit.document_id],
                                   query=query, args=args, page=page, expanded=True,
                                   ocr=ocr_pages(results))
    return render_template(
        "search/index.html", query=query, results=results, rows=rows, page=page,
        per_page=PER_PAGE, inquiries=inquiries, filters=filters, sort=sort, sorts=SORTS,
        expand=expand, args=args, too_broad=too_broad, extras=extras,
        facets=_facet_panel(results, filters, inquiries, tag_names),
        tags_of=tags.of_documents(list(rows)) if rows else {}, ocr=ocr_pages(results),
        tags_by_inquiry=tags_by_inquiry, TAG_COLOURS=TAG_COLOURS,
    )


@bp.route("/search/export.csv")
@login_required
def export_csv():
    who = guard.user()
    query = request.args.get("q", "").strip()[:MAX_QUERY]
    filters = parse_filters(request.args)
    sort = parse_sort(request.args.get("sort"))
    if not query and not filters:  # no search, no results: the header alone
        return _csv(iter([list(export.HEADER)]))
    try:
        count, rows = export.result_rows(who, search_text(query), filters, sort)
    except QueryTooBroad as error:
        return Response(f"{error.message} {error.advice}\n", status=400, mimetype="text/plain")
    audit.record("search_exported", user=who, object_type="search", query=query,
                 filters=filters.args(), sort=sort, rows=count)
    db.session.commit()
    return _csv(released.redact_rows(who, rows, query))


def _csv(rows) -> Response:
    response = Response(stream_with_context(export.csv_lines(rows)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="search-results.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/search/help")
@login_required
def help_page():
    return render_template("search/help.html")
