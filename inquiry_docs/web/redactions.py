"""Redaction pages: propose boxes (drawn, typed or from selected words), redact by search
over a document or a result set, approve another's redactions, mark a document for
redacted release, and download the redacted PDF."""

from __future__ import annotations

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
from werkzeug.datastructures import MultiDict

from ..access import audit, permissions
from ..db import db, to_int
from ..evidence import page_images
from ..evidence.page_words import ExtractionError
from ..models import REDACTION_KINDS, REDACTION_STATUS, Document, Redaction, User
from ..review import redacted, redaction_search, redactions
from . import guard
from .review import _resolve_or_400, selection_args, selection_from
from .viewing import page_url

bp = Blueprint("redactions", __name__)


def _redactor(document_id: int) -> tuple[User, Document]:
    document = guard.document_or_404(document_id)
    return guard.require("redact", document.inquiry_id), document


def _reason(form: MultiDict, suffix: str = "") -> redactions.Reason:
    return redactions.Reason(form.get(f"reason{suffix}", form.get("reason", "")),
                             form.get(f"restriction_ref{suffix}",
                                      form.get("restriction_ref", ""))[:200])


def _back(document: Document, page: int | None, form: MultiDict):
    if form.get("back") == "viewer" and page:
        return redirect(page_url(document.id, page), code=303)
    return redirect(url_for("redactions.page", document_id=document.id) +
                    (f"#redactions-page-{page}" if page else ""), code=303)


def _template_args(document: Document, **extra) -> dict:
    return {"document": document, "REASONS": redactions.REASONS,
            "STATUS": REDACTION_STATUS, "KINDS": REDACTION_KINDS,
            "PATTERNS": redaction_search.PATTERNS,
            "default_ref": redactions.default_reason_ref(document),
            "default_reason": redactions.default_reason(document), **extra}


@bp.route("/review/documents/<int:document_id>/redactions", methods=["GET", "POST"])
@login_required
def page(document_id: int):
    """The document's redactions by page; POST proposes a box (percentages of the page)."""
    who, document = _redactor(document_id)
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        box, errors = redactions.parse_percent(form.get("left", ""), form.get("top", ""),
                                               form.get("width", ""), form.get("height", ""),
                                               form.get("page", ""))
        reason = _reason(form)
        errors = errors or redactions.validate(document, box, reason)
        if not errors and box is not None:
            redaction = redactions.add(who, document, box, reason)
            flash(f"Redaction proposed on {document.page_label} {redaction.page}: another "
                  "legal user must approve it.", "success")
            return _back(document, redaction.page, form)
    listed = redactions.of_document(document.id)
    return render_template(
        "redactions/document.html", **_template_args(
            document, by_page=redactions.by_page(listed), total=len(listed), errors=errors,
            form=form, pending=sum(1 for r in listed if r.status == "proposed"),
            may_approve={r.id: permissions.may_approve_redaction(who, document, r.author_id,
                                                            r.changed_by_id)
                         for r in listed}),
    ), (400 if errors else 200)


@bp.route("/review/documents/<int:document_id>/redactions/words", methods=["POST"])
@login_required
def words(document_id: int):
    """Redact words chosen on a page: every time they appear there, or the n-th time."""
    who, document = _redactor(document_id)
    form = request.form
    number = form.get("page", type=to_int)
    reason = _reason(form)
    errors = redactions.validate(document, None, reason)
    if number is None or not 1 <= number <= document.page_count:
        errors["page"] = f"Enter a page between 1 and {document.page_count}"
    occurrence = form.get("occurrence", type=to_int) if form.get("occurrence", "").strip() \
        else None
    hits: list[redaction_search.Hit] = []
    if not errors and number is not None:
        hits, error = redaction_search.word_hits(document, number, form.get("words", ""),
                                                 occurrence)
        if error:
            errors["words"] = error
    if errors:
        return render_template("redactions/words_form.html", **_template_args(
            document, errors=errors, form=form)), 400
    boxes = [(redactions.Box(h.page, *b), h.text) for h in hits for b in h.boxes]
    made = redactions.add_many(who, document, boxes, reason, "words")
    db.session.commit()
    flash(f"{len(made)} redaction{'s' if len(made) != 1 else ''} proposed over “"
          f"{hits[0].text}” on {document.page_label} {number}.", "success")
    return _back(document, number, form)


def _own_redaction(redaction_id: int) -> tuple[User, Redaction]:
    who = guard.user()
    redaction = guard.found(redactions.get_visible(who, redaction_id))
    return guard.require("redact", redaction.document.inquiry_id), redaction


@bp.route("/review/redactions/<int:redaction_id>/edit", methods=["GET", "POST"])
@login_required
def edit(redaction_id: int):
    who, redaction = _own_redaction(redaction_id)
    document = redaction.document
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        box, errors = redactions.parse_percent(form.get("left", ""), form.get("top", ""),
                                               form.get("width", ""), form.get("height", ""),
                                               str(redaction.page))
        reason = _reason(form)
        errors = errors or redactions.validate(document, box, reason)
        if not errors:
            changed = redactions.edit(who, redaction, box, reason)
            flash("Redaction saved" + (": it needs approving again." if
                                       changed.get("status") else ".") if changed
                  else "Nothing was changed.", "success")
            return _back(document, redaction.page, form)
    return render_template("redactions/edit.html", **_template_args(
        document, redaction=redaction, errors=errors, form=form)), (400 if errors else 200)


@bp.route("/review/redactions/<int:redaction_id>/delete", methods=["POST"])
@login_required
def remove(redaction_id: int):
    who, redaction = _own_redaction(redaction_id)
    document, number = redaction.document, redaction.page
    redactions.remove(who, redaction)
    flash(f"Redaction removed from {document.page_label} {number}.", "success")
    return _back(document, number, request.form)


@bp.route("/review/redactions/<int:redaction_id>/approve", methods=["POST"])
@login_required
def approve(redaction_id: int):
    who, redaction = _own_redaction(redaction_id)
    try:
        done = redactions.approve(who, redaction)
    except PermissionError:
        abort(403, "A redaction is approved by another legal user than the one who made it.")
    if done:
        flash(f"Redaction on {redaction.document.page_label} {redaction.page} approved.",
              "success")
    return _back(redaction.document, redaction.page, request.form)


@bp.route("/review/documents/<int:document_id>/redactions/approve", methods=["POST"])
@login_required
def approve_all(document_id: int):
    who, document = _redactor(document_id)
    approved = redactions.approve_all(who, document)
    flash(f"{approved} redaction{'s' if approved != 1 else ''} approved." if approved else
          "No redactions by someone else were waiting for approval.", "success")
    return redirect(url_for("redactions.page", document_id=document.id), code=303)


@bp.route("/review/documents/<int:document_id>/release", methods=["POST"])
@login_required
def release(document_id: int):
    who, document = _redactor(document_id)
    wanted = request.form.get("release") == "redacted"
    if redactions.set_release(who, document, wanted):
        flash(f"{document.urn} is now released redacted: readers who may not see originals "
              "see only the redacted version." if wanted else
              f"{document.urn} is no longer released redacted.", "success")
    return redirect(url_for("redactions.page", document_id=document.id), code=303)


# --- redact by search --------------------------------------------------------------------

@bp.route("/review/redact", methods=["GET", "POST"])
@login_required
def search():
    """Every hit of words or a pattern in a document or a result set: preview, then confirm."""
    who = guard.require("redact")
    args = request.form if request.method == "POST" else request.args
    selection = selection_from(args)
    docs, unseen = _resolve_or_400(who, selection) if selection.query or selection.ids \
        else ([], 0)
    context = selection_args(selection)
    kind, words = args.get("kind", ""), args.get("words", "")[:300]
    reason = _reason(args)
    errors: dict[str, str] = {}
    planned = None
    if kind or request.method == "POST":
        pattern, error = redaction_search.compile_pattern(kind, words)
        if error:
            errors["words" if kind == "words" else "kind"] = error
        errors.update(redactions.validate_reason(reason))
        if not docs:
            errors["documents"] = "Choose a document or search for the documents to redact"
        if not errors and pattern is not None:
            planned = redaction_search.plan(who, docs, pattern)
            if request.method == "POST":
                label = words if kind == "words" else redaction_search.PATTERNS[kind][0]
                made = redaction_search.apply(who, planned, reason, f"{kind}: {label}")
                flash(f"{made} redaction{'s' if made != 1 else ''} proposed in "
                      f"{len(planned.with_hits)} document"
                      f"{'s' if len(planned.with_hits) != 1 else ''}: another legal user must "
                      "approve them.", "success")
                if len(docs) == 1:
                    return redirect(url_for("redactions.page", document_id=docs[0].id),
                                    code=303)
                return redirect(url_for("review.queue_page", name="redactions"), code=303)
    single = docs[0] if len(docs) == 1 and not selection.query else None
    return render_template(
        "redactions/search.html", selection=selection, context=context, docs=docs,
        unseen=unseen, single=single, kind=kind, words=words, reason=reason, errors=errors,
        planned=planned, PATTERNS=redaction_search.PATTERNS, REASONS=redactions.REASONS,
        default_ref=redactions.default_reason_ref(single) if single else "",
        default_reason=redactions.default_reason(single) if single else "",
    ), (400 if errors and (request.method == "POST" or kind) else 200)


# --- the redacted PDF ----------------------------------------------------------------------

@bp.route("/documents/<int:document_id>/redacted.pdf")
@login_required
def redacted_pdf(document_id: int):
    """The document with every redaction (proposed or approved) burned in, for anyone who
    may see the document; a production uses approved redactions only."""
    document = guard.document_or_404(document_id)
    if not page_images.has_images(document):
        abort(404)
    found = redactions.of_document(document.id)
    try:
        data = redacted.render_pdf(document, found, redacted.document_footer(document))
    except ExtractionError:
        abort(404)
    audit.record("redacted_pdf_downloaded", user=guard.user(), object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 redactions=len(found))
    db.session.commit()
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="{document.urn}-redacted.pdf"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def viewer_panel(who: User | None, document: Document) -> dict:
    """What the page viewer shows of redactions: for those who may redact, each page's
    boxes and forms; for readers of a redacted release, a note that they see it redacted."""
    may = permissions.can(who, "redact", document.inquiry_id) and \
        page_images.has_images(document)
    listed = redactions.of_document(document.id) if may else []
    return {"may_redact": may, "redactions_by_page": redactions.by_page(listed),
            "redaction_reasons": redactions.REASONS, "redaction_kinds": REDACTION_KINDS,
            "redaction_ref": redactions.default_reason_ref(document),
            "redaction_reason": redactions.default_reason(document) if may else "",
            "redaction_may_approve": {
                r.id: permissions.may_approve_redaction(who, document, r.author_id,
                                                            r.changed_by_id)
                for r in listed},
            "redaction_pending": sum(1 for r in listed if r.status == "proposed"),
            "redacted_view": not permissions.sees_original(who, document)}

