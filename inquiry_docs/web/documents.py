"""Documents: list, page, download, needs attention, retry."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import login_required
from sqlalchemy import func, select

from .. import extract
from ..access import audit, audit_query, permissions
from ..db import db, to_int
from ..evidence import citations, ingest, metadata, page_images, refused
from ..insight import versions
from ..models import STATUS_LABELS, Document, Page, Status
from ..review import hit_boxes, redacted, released
from ..search import backend
from ..search.query import QueryTooBroad
from ..search.snippets import highlight, match_spans
from . import guard, recommendations
from .redactions import viewer_panel
from .review import document_panel
from .viewing import PAGES_PER_VIEW, view_of

bp = Blueprint("documents", __name__, url_prefix="/documents")
PER_PAGE = 50
ATTENTION = (Status.FAILED, Status.NO_TEXT)


def _page_number() -> int:
    try:
        return max(1, to_int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.route("/")
@login_required
def index():
    who = guard.user()
    query = permissions.visible_documents(who)
    status = request.args.get("status", "")
    if status in STATUS_LABELS:
        query = query.where(Document.status == status)
    inquiry_id = request.args.get("inquiry", type=to_int)
    if inquiry_id:
        query = query.where(Document.inquiry_id == inquiry_id)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page = _page_number()
    documents = db.session.execute(
        query.order_by(Document.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
    ).scalars().all()
    return render_template(
        "documents/index.html", documents=documents, total=total, page=page,
        pages=max(1, -(-total // PER_PAGE)), status=status,
        inquiries=permissions.inquiries_where(who, "read"), inquiry_id=inquiry_id,
    )


@bp.route("/attention")
@login_required
def attention():
    who = guard.user()
    documents = db.session.execute(
        permissions.visible_documents(who).where(Document.status.in_(ATTENTION))
        .order_by(Document.id.desc()).limit(500)
    ).scalars().all()
    return render_template("documents/attention.html", documents=documents,
                           refused_files=refused.waiting(who))


@bp.route("/<int:document_id>")
@login_required
def show(document_id: int):
    document = guard.document_or_404(document_id)
    who = guard.user()
    view = _page_number()
    first = (view - 1) * PAGES_PER_VIEW + 1
    pages = db.session.execute(
        select(Page).where(Page.document_id == document.id,
                           Page.number.between(first, first + PAGES_PER_VIEW - 1))
        .order_by(Page.number)
    ).scalars().all()
    query = request.args.get("q", "")[:1000]
    redaction = viewer_panel(who, document)
    # A reader of a redacted release gets the redacted text, and no hit counts from the
    # index (they would tell where hidden words are).
    shown = redacted.texts_for(who, document, [p.number for p in pages]) \
        if redaction["redacted_view"] else {}
    marked, terms, tokenize = _mark_pages(pages, query, shown)
    hits = None if redaction["redacted_view"] else \
        _hit_navigation(who, document, query, first, first + PAGES_PER_VIEW - 1)
    on_images = hit_boxes.for_pages(
        who, document, pages, {p.number for p, _, n in marked if n}, terms, tokenize,
        at=request.args.get("at", type=to_int)) if page_images.has_images(document) \
        else hit_boxes.Shown()
    audit.record("document_viewed", user=who, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn,
                 pages=f"{first}-{first + len(pages) - 1}" if pages else "")
    db.session.commit()
    seen_by = audit_query.seen_by(document.id) if permissions.can(who, "manage_users") else None
    return render_template(
        "documents/show.html", document=document, view_of=view_of, pages=marked, view=view,
        seen_by=seen_by, recommendations=recommendations.document_panel(who, document),
        **document_panel(who, document),
        children=[c for c in document.children if permissions.can_see(who, c)],
        near_duplicates=versions.near_duplicates(who, document),
        views=max(1, -(-document.page_count // PAGES_PER_VIEW)), query=query, hits=hits,
        on_images=on_images,
        has_images=page_images.has_images(document), **redaction,
        cited_by=citations.cited_by(who, document),
        can_retry=document.status in ATTENTION and permissions.can(
            who, "manage_failed", document.inquiry_id),
    )


MAX_LISTED_HITS = 200


def _hit_navigation(who, document: Document, query: str, first: int, last: int) -> dict | None:
    """Which pages match `query`, the current hit and the previous/next matching pages.

    The current hit is the page named by `at` when it matches, else the first match shown
    in this view; links carry `at` so "Hit N of M" follows the reader across views.
    """
    if not query.strip():
        return None
    try:
        matching = backend().matching_pages(query, permissions.scope_for(who), document.id)
    except QueryTooBroad:
        return None
    at = request.args.get("at", type=to_int)
    if at not in matching:
        at = next((n for n in matching if first <= n <= last), None)
    if at is not None:
        index = matching.index(at)
        previous = matching[index - 1] if index > 0 else None
        following = matching[index + 1] if index + 1 < len(matching) else None
    else:
        index = None
        previous = next((n for n in reversed(matching) if n < first), None)
        following = next((n for n in matching if n > last), None)
    return {"pages": matching[:MAX_LISTED_HITS], "total": len(matching), "index": index,
            "previous": previous, "next": following}


def _mark_pages(pages: list[Page], query: str, shown: dict[int, str] | None = None):
    """Each page with its text escaped and the query's words marked (the marks of page N
    are #hit-N-1, #hit-N-2, ...), with the query's terms and the tokenizer that found
    them; `shown` replaces the text of some pages (the redacted text for a reader of a
    redacted release)."""
    search = backend()
    terms = search.terms_for(query) if query.strip() else set()
    tokenize = search.tokenizer()
    out: list[tuple[Page, object, int]] = []
    for page in pages:
        text = (shown or {}).get(page.number, page.text)
        spans = match_spans(text, terms, tokenize)
        out.append((page, highlight(text, spans, ids=f"hit-{page.number}-"), len(spans)))
    return out, terms, tokenize


MORE_LIKE_SHOWN = 10


@bp.route("/<int:document_id>/similar")
@login_required
def similar(document_id: int):
    """More like this: other documents sharing this document's (or one page's) telling words."""
    document = guard.document_or_404(document_id)
    who = guard.user()
    number = request.args.get("page", type=to_int)
    rows = select(Page.number, Page.text).where(Page.document_id == document.id) \
        .order_by(Page.number)
    if number is not None:
        rows = rows.where(Page.number == number)
    found = db.session.execute(rows.limit(PAGES_PER_VIEW * 5)).all()
    shown = redacted.texts_for(who, document, [n for n, _ in found])  # a redacted release
    text = "\n".join(shown.get(n, t) for n, t in found)
    if number is not None and not text:
        abort(404)
    from ..search.find import page_texts, shown_documents

    results = backend().more_like(text, permissions.scope_for(who), exclude=document.id,
                                  limit=MORE_LIKE_SHOWN, snippet_text=page_texts)
    released.redact_snippets(who, results, results.query)
    audit.record("similar_searched", user=who, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, page=number,
                 words=results.query, documents=results.total_documents)
    db.session.commit()
    found = shown_documents(results)
    return render_template("documents/similar.html", document=document, number=number,
                           results=results, rows=found, view_of=view_of)


@bp.route("/<int:document_id>/original")
@login_required
def download(document_id: int):
    document = guard.document_or_404(document_id)
    if not permissions.sees_original(guard.user(), document):
        # Released redacted: this reader gets the redacted version, never the original.
        return redirect(url_for("redactions.redacted_pdf", document_id=document.id))
    path = ingest.store().path_for(document.sha256)
    if not path.exists():
        abort(404)
    audit.record("original_downloaded", user=guard.user(), object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn)
    db.session.commit()
    extension = {"application/pdf": ".pdf", "message/rfc822": ".eml", "text/plain": ".txt"}.get(
        document.mime, ".docx" if "wordprocessingml" in document.mime else "")

    def stream():
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk

    response = Response(stream(), mimetype="application/octet-stream")
    # The saved name is the URN, never the uploaded name: that is untrusted text.
    response.headers["Content-Disposition"] = f'attachment; filename="{document.urn}{extension}"'
    response.headers["Content-Length"] = str(document.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:document_id>/pages/<int:number>/<size>.png")
@login_required
def page_image(document_id: int, number: int, size: str):
    """A page as an image, for those who may see the document (404 like it otherwise)."""
    document = guard.document_or_404(document_id)
    if size not in page_images.SIZES or not page_images.has_images(document) \
            or not 1 <= number <= document.page_count:
        abort(404)
    try:
        path = page_images.page_image(document, number, size)
    except extract.ExtractionError:
        abort(404)
    if size == "read":  # thumbnails are glanced at; a page image is read, and recorded
        audit.record("page_image_viewed", user=guard.user(), object_type="document",
                     object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                     page=number)
        db.session.commit()
    burned = redacted.image_for(guard.user(), document, number, size)
    response = Response(burned, mimetype="image/png") if burned is not None else \
        send_file(path, mimetype="image/png", conditional=False, etag=False, max_age=None)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<int:document_id>/retry", methods=["POST"])
@login_required
def retry(document_id: int):
    document = guard.document_or_404(document_id)
    who = guard.require("manage_failed", document.inquiry_id)
    if ingest.retry(document, who):
        flash(f"{document.urn} has been sent for reading again.", "success")
    else:
        flash(f"{document.urn} does not need a retry.", "info")
    if request.form.get("back") == "attention":
        return redirect(url_for("documents.attention"))
    return redirect(url_for("documents.show", document_id=document.id))


@bp.route("/<int:document_id>/edit", methods=["GET", "POST"])
@login_required
def edit(document_id: int):
    document = guard.document_or_404(document_id)
    who = guard.require("edit_metadata", document.inquiry_id)
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        date, date_error = metadata.parse_date(form.get("day", ""), form.get("month", ""),
                                               form.get("year", ""))
        changes = metadata.Changes(form.get("title", ""), form.get("doc_type", ""),
                                   form.get("source", ""), date)
        errors = metadata.validate(changes)
        if date_error:
            errors["day"] = date_error
        if not errors:
            changed = metadata.apply(document, changes, who)
            flash(f"{document.urn} updated." if changed else "Nothing was changed.", "success")
            return redirect(url_for("documents.show", document_id=document.id))
    return render_template("documents/edit.html", document=document, errors=errors,
                           form=form), (400 if errors else 200)


@bp.route("/<int:document_id>/marking", methods=["GET", "POST"])
@login_required
def marking(document_id: int):
    document = guard.document_or_404(document_id)
    who = guard.require("mark", document.inquiry_id)
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        change = metadata.Marking(form.get("marking", ""), form.get("restricted") == "yes",
                                  form.get("restriction_ref", ""),
                                  form.get("restriction_reason", "")[:2000])
        errors = metadata.validate_marking(change)
        if not errors:
            changed = metadata.set_marking(document, change, who)
            flash(f"Marking of {document.urn} updated." if changed else "Nothing was changed.",
                  "success")
            return redirect(url_for("documents.show", document_id=document.id))
    return render_template("documents/marking.html", document=document, errors=errors,
                           form=form), (400 if errors else 200)
