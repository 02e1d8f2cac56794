"""Recommendations: dashboard, recommendation pages, evidence links, suggestions, tracking,
coverage matrix and dossiers (the admin's import and edit pages: recommendation_sets.py).

Every access question goes to permissions.py: a set is seen by those it belongs to, links
and counts only ever include documents the user may see.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterable
from functools import partial

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from sqlalchemy import select

from ..access import audit, permissions
from ..db import db, to_int, to_int_or_none
from ..evidence import metadata
from ..models import (
    DOC_TYPES,
    RAG,
    RESPONSES,
    STANCES,
    Document,
    Inquiry,
    Recommendation,
    RecommendationSet,
)
from ..recommendations import (
    DEFAULT_SET,
    coverage,
    dossier,
    label,
    links,
    ref,
    suggestions,
    tracking,
)
from ..review import released
from ..search.export import safe_cell
from . import guard
from .overview import stance_chart

bp = Blueprint("recommendations", __name__, url_prefix="/recommendations")


# --- lookups --------------------------------------------------------------------------


def set_or_404(set_id: int) -> RecommendationSet:
    rset = db.session.get(RecommendationSet, set_id)
    if rset is None or not permissions.can_see_set(guard.user(), rset):
        abort(404)
    return rset


def rec_or_404(rec_id: int) -> Recommendation:
    rec = db.session.get(Recommendation, rec_id)
    if rec is None or not permissions.can_see_set(guard.user(), rec.set):
        abort(404)
    return rec


def _link_or_404(link_id: int):
    return guard.found(links.get_visible(guard.user(), link_id))


def _require_for_set(action: str, rset: RecommendationSet):
    who = guard.user()
    if not permissions.can_for_set(who, action, rset):
        abort(403)
    return who


def _current_set() -> RecommendationSet | None:
    sets = permissions.visible_sets(guard.user())
    wanted = request.args.get("set", type=to_int)
    chosen = next((s for s in sets if s.id == wanted), None)
    return chosen or next((s for s in sets if s.code == DEFAULT_SET), None) or \
        (sets[0] if sets else None)


def form_int(value: str | None) -> int | None:
    return to_int_or_none(value or "")


def _link_input(form) -> links.LinkInput:
    return links.LinkInput(form_int(form.get("page")), form.get("stance", ""),
                           form.get("note", "")[:links.MAX_NOTE + 1],
                           form.get("quote", "")[:links.MAX_QUOTE + 1])


def _redacted(who) -> dossier.Redacted:
    """What a reader of a redacted release is shown of a link's page instead of its quote."""
    return partial(released.passage, who)


def _csv_response(rows: Iterable[list], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- dashboard and recommendation page ------------------------------------------------


@bp.route("/")
@login_required
def index():
    who = guard.user()
    rset = _current_set()
    rows = coverage.dashboard(who, rset) if rset else []
    return render_template("recommendations/index.html", rset=rset, rows=rows,
                           sets=permissions.visible_sets(who), stances=STANCES,
                           responses=RESPONSES, rag=RAG, chart=stance_chart(rows))


def _evidence_groups(found, filters: dict[str, str]):
    """Links grouped by stance, then by inquiry, after the matrix's cell filter."""
    def keep(link) -> bool:
        document = link.document
        return ((not filters.get("inquiry") or str(document.inquiry_id) == filters["inquiry"])
                and (not filters.get("type") or document.doc_type == filters["type"])
                and ("source" not in filters or document.source == filters["source"]))

    groups = []
    for stance, stance_label in STANCES.items():
        by_inquiry: dict[str, list] = {}
        for link in found:
            if link.stance == stance and keep(link):
                by_inquiry.setdefault(link.document.inquiry.code, []).append(link)
        if by_inquiry:
            groups.append((stance, stance_label, sorted(by_inquiry.items())))
    return groups


def _show(rec: Recommendation, errors: dict | None = None, form=None, status: int = 200):
    who = guard.user()
    filters = {k: request.args[k] for k in ("inquiry", "type", "source") if k in request.args}
    found = links.for_recommendation(who, rec)
    can_link = permissions.can_for_set(who, "link", rec.set)
    redacted = _redacted(who)
    snippets = {link.id: dossier.passage(link, redacted) for link in found}
    return render_template(
        "recommendations/show.html", rec=rec, ref=ref(rec), label=label(rec),
        groups=_evidence_groups(found, filters), total=len(found), filters=filters,
        snippets=snippets, redacted_label=dossier.REDACTED_LABEL,
        suggestions=suggestions.for_recommendation(who, rec) if can_link else [],
        trail=tracking.trail(rec), cited=tracking.cited,
        notes=tracking.notes(rec), stances=STANCES, responses=RESPONSES, rag=RAG,
        can_link=can_link, can_track=permissions.can_for_set(who, "track", rec.set),
        can_note=permissions.can_for_set(who, "note", rec.set),
        can_edit=permissions.can(who, "manage_recommendations"),
        errors=errors or {}, form=form or {}, filter_label=_filter_label(filters),
    ), status


def _filter_label(filters: dict[str, str]) -> str:
    if "inquiry" in filters:
        inquiry = db.session.get(Inquiry, form_int(filters["inquiry"]) or 0)
        return f"from {inquiry.code}" if inquiry else ""
    if "type" in filters:
        return f"of type {DOC_TYPES.get(filters['type'], filters['type'])}"
    if "source" in filters:
        return f"from source {filters['source'] or 'not recorded'}"
    return ""


@bp.route("/<int:rec_id>")
@login_required
def show(rec_id: int):
    rec = rec_or_404(rec_id)
    # The page quotes evidence, so who saw which passages is recorded like a document view.
    shown = links.for_recommendation(guard.user(), rec)
    audit.record("recommendation_viewed", user=guard.user(), object_type="recommendation",
                 object_id=rec.id, inquiry_id=rec.set.inquiry_id, recommendation=ref(rec),
                 evidence=[f"{link.document.urn} p. {link.page}" for link in shown][:500])
    db.session.commit()
    return _show(rec)


# --- evidence links -------------------------------------------------------------------


def _document_by_urn(urn: str) -> Document | None:
    document = db.session.execute(
        select(Document).where(Document.urn == urn.strip().upper()[:9])).scalar()
    return document if document and permissions.can_see(guard.user(), document) else None


@bp.route("/<int:rec_id>/links", methods=["POST"])
@login_required
def add_link(rec_id: int):
    """From the recommendation page: a document by URN, a page, a stance, a note."""
    rec = rec_or_404(rec_id)
    who = _require_for_set("link", rec.set)
    document = _document_by_urn(request.form.get("urn", ""))
    if document is None:
        return _show(rec, {"urn": "Enter the URN of a document you can see, like OLD000123"},
                     request.form, 400)
    if not links.may_link(who, rec, document):
        abort(403)
    data = _link_input(request.form)
    errors, position = links.validate(document, data)
    if errors:
        return _show(rec, errors, request.form, 400)
    links.add(who, rec, document, data, position)
    flash(f"{document.urn} page {data.page} linked to recommendation {rec.number}.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id))


def _document_page(document: Document, errors: dict | None = None, form=None,
                   status: int = 200):
    who = guard.user()
    panel = document_panel(who, document)
    return render_template(
        "recommendations/document.html", document=document, panel=panel,
        likely=suggestions.for_document(who, document, panel["recs"]),
        errors=errors or {}, form=form or {},
    ), status


def document_panel(who, document: Document) -> dict:
    """What the document page shows of recommendations: its links and the link form."""
    recs = [r for s in permissions.visible_sets(who) if s.inquiry_id in (None,
            document.inquiry_id) for r in s.recommendations]
    found, redacted = links.for_document(who, document), _redacted(who)
    shown = {link.id: text for link in found if link.quote
             and (text := redacted(link)) is not None}  # for a reader of a redacted release
    return {"links": found, "shown": shown, "recs": recs, "label": label,
            "stances": STANCES, "can_link": permissions.can(who, "link", document.inquiry_id)}


@bp.route("/documents/<int:document_id>")
@login_required
def for_document(document_id: int):
    """A document's links and its likely recommendations, with the link form."""
    return _document_page(guard.document_or_404(document_id))


@bp.route("/documents/<int:document_id>/links", methods=["POST"])
@login_required
def link_document(document_id: int):
    """From the document page: a selected (or typed) passage linked to a recommendation."""
    document = guard.document_or_404(document_id)
    who = guard.require("link", document.inquiry_id)
    rec = db.session.get(Recommendation, form_int(request.form.get("recommendation")) or 0)
    if rec is None or not permissions.can_see_set(who, rec.set):
        return _document_page(document, {"recommendation": "Choose a recommendation"},
                              request.form, 400)
    if not links.may_link(who, rec, document):
        abort(403)
    data = _link_input(request.form)
    errors, position = links.validate(document, data)
    if errors:
        return _document_page(document, errors, request.form, 400)
    links.add(who, rec, document, data, position)
    flash(f"Page {data.page} linked to recommendation {label(rec)}.", "success")
    return redirect(url_for("documents.show", document_id=document.id,
                            page=(data.page - 1) // 20 + 1) + "#recommendations")


@bp.route("/links/<int:link_id>/edit", methods=["GET", "POST"])
@login_required
def edit_link(link_id: int):
    link = _link_or_404(link_id)
    who = guard.require("link", link.document.inquiry_id)
    # A reader of a redacted release sees the page's redacted text, not the quote: the
    # form leaves the quote out and keeps it as it is.
    redacted_text = released.passage(who, link) if link.quote else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = _link_input(request.form)
        if redacted_text is not None:
            data = dataclasses.replace(data, quote=link.quote)
        errors, position = links.validate(link.document, data)
        if not errors:
            changed = links.update(who, link, data, position)
            flash("Link updated." if changed else "Nothing was changed.", "success")
            return redirect(url_for("recommendations.show", rec_id=link.recommendation_id))
    return render_template("recommendations/edit_link.html", link=link, errors=errors,
                           form=request.form if request.method == "POST" else {},
                           stances=STANCES, label=label(link.recommendation),
                           redacted_text=redacted_text), \
        (400 if errors else 200)


@bp.route("/links/<int:link_id>/delete", methods=["POST"])
@login_required
def delete_link(link_id: int):
    link = _link_or_404(link_id)
    who = guard.require("link", link.document.inquiry_id)
    rec_id, urn = link.recommendation_id, link.document.urn
    links.remove(who, link)
    flash(f"The link to {urn} was removed.", "success")
    if request.form.get("back") == "document":
        return redirect(url_for("recommendations.for_document", document_id=link.document_id))
    return redirect(url_for("recommendations.show", rec_id=rec_id))


# --- suggestions ----------------------------------------------------------------------


def _suggested(rec: Recommendation) -> tuple[Document, int]:
    document = guard.document_or_404(form_int(request.form.get("document_id")) or 0)
    page = form_int(request.form.get("page"))
    if page is None or not 1 <= page <= max(document.page_count, 1):
        abort(400)
    return document, page


@bp.route("/<int:rec_id>/suggestions/accept", methods=["POST"])
@login_required
def accept(rec_id: int):
    rec = rec_or_404(rec_id)
    who = _require_for_set("link", rec.set)
    document, page = _suggested(rec)
    if not links.may_link(who, rec, document):
        abort(403)
    data = links.LinkInput(page, request.form.get("stance", ""))
    errors, _ = links.validate(document, data)
    if errors:
        flash(f"Choose a stance to accept {document.urn} page {page}.", "info")
        return redirect(url_for("recommendations.show", rec_id=rec.id) + "#suggestions")
    links.add(who, rec, document, data, None)
    flash(f"{document.urn} page {page} linked as {STANCES[data.stance].lower()}.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id) + "#suggestions")


@bp.route("/<int:rec_id>/suggestions/reject", methods=["POST"])
@login_required
def reject(rec_id: int):
    rec = rec_or_404(rec_id)
    who = _require_for_set("link", rec.set)
    document, page = _suggested(rec)
    if not links.may_link(who, rec, document):
        abort(403)
    suggestions.reject(who, rec, document, page)
    flash(f"{document.urn} page {page} will not be suggested again.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id) + "#suggestions")


@bp.route("/<int:rec_id>/keywords", methods=["POST"])
@login_required
def keywords(rec_id: int):
    rec = rec_or_404(rec_id)
    who = _require_for_set("link", rec.set)
    changed = tracking.set_keywords(who, rec, request.form.get("keywords", ""))
    flash("Keywords saved." if changed else "Nothing was changed.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id) + "#suggestions")


# --- tracking and notes ---------------------------------------------------------------


@bp.route("/<int:rec_id>/status", methods=["POST"])
@login_required
def status(rec_id: int):
    rec = rec_or_404(rec_id)
    who = _require_for_set("track", rec.set)
    response, rag = request.form.get("response", ""), request.form.get("rag", "")
    errors = tracking.validate_status(response, rag)
    if errors:
        return _show(rec, errors, request.form, 400)
    changed = tracking.set_status(who, rec, response, rag)
    flash("Response and status saved." if changed else "Nothing was changed.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id) + "#implementation")


@bp.route("/<int:rec_id>/trail", methods=["POST"])
@login_required
def add_event(rec_id: int):
    rec = rec_or_404(rec_id)
    who = _require_for_set("track", rec.set)
    form = request.form
    when, date_error = metadata.parse_date(form.get("day", ""), form.get("month", ""),
                                           form.get("year", ""))
    what = form.get("what", "")
    errors = tracking.validate_event(when, what)
    if date_error:
        errors["day"] = date_error
    document = None
    if form.get("trail_urn", "").strip():
        document = _document_by_urn(form["trail_urn"])
        if document is None:
            errors["trail_urn"] = "Enter the URN of a document you can see, or leave it empty"
    if errors:
        return _show(rec, errors, form, 400)
    assert when is not None
    tracking.add_event(who, rec, when, what, document)
    flash("Added to the implementation trail.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id) + "#implementation")


@bp.route("/<int:rec_id>/notes", methods=["POST"])
@login_required
def add_note(rec_id: int):
    rec = rec_or_404(rec_id)
    who = _require_for_set("note", rec.set)
    text = request.form.get("note_text", "")
    if not text.strip() or len(text) > tracking.MAX_TEXT:
        return _show(rec, {"note_text": f"Enter a note of up to {tracking.MAX_TEXT} "
                                        "characters"}, request.form, 400)
    tracking.add_note(who, rec, text)
    flash("Note added.", "success")
    return redirect(url_for("recommendations.show", rec_id=rec.id) + "#notes")


# --- coverage matrix ------------------------------------------------------------------


@bp.route("/sets/<int:set_id>/matrix")
@login_required
def matrix(set_id: int):
    rset = set_or_404(set_id)
    m = coverage.matrix(guard.user(), rset, request.args.get("by", "inquiry"))
    return render_template("recommendations/matrix.html", rset=rset, m=m, axes=coverage.AXES)


@bp.route("/sets/<int:set_id>/matrix.csv")
@login_required
def matrix_csv(set_id: int):
    rset = set_or_404(set_id)
    who = guard.user()
    m = coverage.matrix(who, rset, request.args.get("by", "inquiry"))
    audit.record("coverage_exported", user=who, object_type="recommendation_set",
                 object_id=rset.id, code=rset.code, by=m.axis)
    db.session.commit()
    return _csv_response(coverage.matrix_rows(m), f"coverage-{rset.code}-{m.axis}.csv")


# --- dossiers -------------------------------------------------------------------------


def _dossier(recs: list[Recommendation], name: str, kind: str, object_type: str,
             object_id: int, title: str) -> Response:
    who = guard.user()
    audit.record("dossier_exported", user=who, object_type=object_type, object_id=object_id,
                 format=kind, recommendations=len(recs))
    db.session.commit()
    if kind == "csv":
        return _csv_response(dossier.csv_rows(who, recs, redacted=_redacted(who)),
                             f"{name}.csv")
    response = Response(dossier.docx_bytes(who, recs, title, redacted=_redacted(who)), mimetype=(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.docx"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:rec_id>/dossier.<any(docx, csv):kind>")
@login_required
def rec_dossier(rec_id: int, kind: str):
    rec = rec_or_404(rec_id)
    return _dossier([rec], f"dossier-{rec.set.code}-{rec.number}", kind, "recommendation",
                    rec.id, f"Dossier: recommendation {label(rec)}")


@bp.route("/sets/<int:set_id>/dossier.<any(docx, csv):kind>")
@login_required
def set_dossier(set_id: int, kind: str):
    rset = set_or_404(set_id)
    return _dossier(list(rset.recommendations), f"dossier-{rset.code}", kind,
                    "recommendation_set", rset.id, f"Dossier: {rset.name}")
