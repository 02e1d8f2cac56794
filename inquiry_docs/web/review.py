"""Legal review pages: tags, coding, notes, queues, history, bulk actions and exports."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from ..access import permissions
from ..db import to_int, to_int_or_none
from ..evidence import metadata
from ..models import (
    PRIVILEGE,
    REDACTION_REASONS,
    RELEVANCE,
    REVIEW_STATUS,
    TAG_COLOURS,
    Document,
    Tag,
    User,
)
from ..review import bundles, coding, history, notes, queues, redactions, tags
from ..review.selection import Selection, documents, parse_ids, resolve
from ..search.facets import parse_filters, parse_sort
from ..search.query import QueryTooBroad
from . import guard

bp = Blueprint("review", __name__, url_prefix="/review")
MAX_QUERY = 1000


# --- selection and context carried between pages --------------------------------------------

def selection_from(args: MultiDict) -> Selection:
    return Selection(query=args.get("q", "").strip()[:MAX_QUERY],
                     filters=parse_filters(args), sort=parse_sort(args.get("sort")),
                     ids=parse_ids(args.getlist("doc")))


def selection_args(selection: Selection, queue: str = "") -> dict[str, object]:
    """The selection (or queue) as query-string arguments for links and hidden fields."""
    out: dict[str, object] = {}
    if queue in queues.QUEUES:
        out["queue"] = queue
    if selection.query:
        out["q"] = selection.query
        out.update(selection.filters.args())
        if selection.sort != "relevance":
            out["sort"] = selection.sort
    if selection.ids:
        out["doc"] = list(selection.ids)
    return out


def _resolve_or_400(who: User | None, selection: Selection) -> tuple[list[Document], int]:
    try:
        ids, skipped = resolve(who, selection)
    except QueryTooBroad as error:
        abort(400, f"{error.message} {error.advice}")
    return documents(ids), skipped


# --- tags -----------------------------------------------------------------------------------

@bp.route("/tags", methods=["GET", "POST"])
@login_required
def tags_page():
    who = guard.user()
    readable = permissions.inquiries_where(who, "read")
    taggable = permissions.inquiries_where(who, "tag")
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        inquiry_id = form.get("inquiry", type=to_int)
        if inquiry_id not in {i.id for i in taggable}:
            abort(403)
        errors = tags.validate(form.get("name", ""), form.get("colour", ""),
                               form.get("description", ""), inquiry_id)
        if not errors:
            tag = tags.create(who, inquiry_id, form["name"], form["colour"],
                              form.get("description", ""))
            flash(f"Tag “{tag.name}” created.", "success")
            return redirect(url_for("review.tags_page"), code=303)
    listed = tags.for_inquiries([i.id for i in readable])
    return render_template("review/tags.html", listed=listed, inquiries=readable,
                           taggable=taggable, counts=tags.counts(who, [t.id for t in listed]),
                           colours=TAG_COLOURS, errors=errors, form=form), \
        (400 if errors else 200)


def _tag_or_404(tag_id: int) -> tuple[User, Tag]:
    who = guard.user()
    tag = guard.found(tags.get_visible(who, tag_id))
    return guard.require("tag", tag.inquiry_id), tag


@bp.route("/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@login_required
def tag_edit(tag_id: int):
    who, tag = _tag_or_404(tag_id)
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = tags.validate(form.get("name", ""), form.get("colour", ""),
                               form.get("description", ""), tag.inquiry_id, exclude=tag.id)
        if not errors:
            tags.update(who, tag, form["name"], form["colour"], form.get("description", ""))
            flash(f"Tag “{tag.name}” saved.", "success")
            return redirect(url_for("review.tags_page"), code=303)
    return render_template("review/tag_edit.html", tag=tag, colours=TAG_COLOURS,
                           errors=errors, form=form), (400 if errors else 200)


@bp.route("/tags/<int:tag_id>/merge", methods=["GET", "POST"])
@login_required
def tag_merge(tag_id: int):
    who, tag = _tag_or_404(tag_id)
    others = [t for t in tags.for_inquiries([tag.inquiry_id]) if t.id != tag.id]
    errors: dict[str, str] = {}
    if request.method == "POST":
        target = next((t for t in others if t.id == request.form.get("into", type=to_int)), None)
        if target is None:
            errors["into"] = "Choose the tag to merge into"
        else:
            name = tag.name
            moved = tags.merge(who, tag, target)
            flash(f"“{name}” merged into “{target.name}”: {moved} document"
                  f"{'s' if moved != 1 else ''} moved.", "success")
            return redirect(url_for("review.tags_page"), code=303)
    return render_template("review/tag_merge.html", tag=tag, others=others,
                           errors=errors), (400 if errors else 200)


@bp.route("/documents/<int:document_id>/tags", methods=["POST"])
@login_required
def document_tags(document_id: int):
    """Add (an existing or a new tag) or remove a tag on one document, then go back to
    where the form was: the document page or a page of search results."""
    document = guard.document_or_404(document_id)
    who = guard.require("tag", document.inquiry_id)
    form = request.form
    back = guard.safe_next(form.get("next"), url_for("documents.show",
                                                     document_id=document.id) + "#review")
    if form.get("action") == "create":
        tag, error = tags.find_or_create(who, document.inquiry_id, form.get("new_name", ""),
                                         form.get("new_colour", "grey"))
    else:
        tag = tags.get_visible(who, form.get("tag", type=to_int) or 0)
        error = "" if tag is not None and tag.inquiry_id == document.inquiry_id else \
            "Choose a tag of this document's inquiry"
    if error or tag is None:
        flash(f"{error}. Nothing was changed on {document.urn}.", "error")
        return redirect(back, code=303)
    add = form.get("action") != "remove"
    outcome = tags.apply(who, tag, [document], add=add)
    if outcome.changed:
        flash(f"Tag “{tag.name}” {'added to' if add else 'removed from'} {document.urn}.",
              "success")
    elif add:
        flash(f"{document.urn} already has the tag “{tag.name}”.", "success")
    return redirect(back, code=303)


# --- coding ---------------------------------------------------------------------------------

def _change_from(form: MultiDict, who: User, document: Document) -> coding.Change:
    reviewer = form.get("reviewer_id", "")
    marking = None
    if permissions.can(who, "mark", document.inquiry_id) and form.get("marking") is not None:
        marking = metadata.Marking(form.get("marking", ""), form.get("restricted") == "yes",
                                   form.get("restriction_ref", ""),
                                   document.restriction_reason)
    return coding.Change(
        relevance=form.get("relevance", ""), privilege=form.get("privilege", ""),
        redaction_needed=form.get("redaction_needed") == "yes",
        redaction_pages=form.get("redaction_pages", "")[:200],
        redaction_reason=form.get("redaction_reason", ""),
        review_status=form.get("review_status", ""),
        reviewer_id=to_int_or_none(reviewer) if reviewer.isdigit() else None, marking=marking,
        comment=form.get("comment"))


@bp.route("/documents/<int:document_id>/coding", methods=["GET", "POST"])
@login_required
def coding_form(document_id: int):
    document = guard.document_or_404(document_id)
    who = guard.require("code", document.inquiry_id)
    # The queue or search being worked through travels in the address, never in the form:
    # coding fields share names with search filters (relevance, privilege, review).
    queue = request.args.get("queue", "")
    selection = selection_from(request.args)
    context = selection_args(selection, queue)
    try:
        place = queues.position(queues.context_ids(who, queue, selection), document.id)
    except QueryTooBroad:
        place = queues.position([], document.id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        change = _change_from(request.form, who, document)
        errors = coding.validate(document, change)
        if not errors:
            changed = coding.save(document, change, who)
            flash(f"Coding of {document.urn} saved." if changed else
                  f"Nothing was changed on {document.urn}.", "success")
            target = place.next if request.form.get("then") == "next" and place.next else \
                document.id
            return redirect(url_for("review.coding_form", document_id=target, **context),
                            code=303)
    return render_template(
        "review/coding.html", document=document, current=coding.current(document.id),
        errors=errors, form=request.form, place=place, context=context,
        queue_label=queues.QUEUES.get(queue, ""),
        reviewers=coding.reviewers(document.inquiry_id), RELEVANCE=RELEVANCE,
        PRIVILEGE=PRIVILEGE, REVIEW_STATUS=REVIEW_STATUS, REASONS=REDACTION_REASONS,
        may_mark=permissions.can(who, "mark", document.inquiry_id),
        doc_tags=tags.of_document(document.id),
    ), (400 if errors else 200)


# --- notes ----------------------------------------------------------------------------------

@bp.route("/documents/<int:document_id>/notes", methods=["POST"])
@login_required
def note_add(document_id: int):
    document = guard.document_or_404(document_id)
    who = guard.require("note", document.inquiry_id)
    form = request.form
    errors = notes.validate(document, form.get("page", ""), form.get("body", ""),
                            form.get("quote", ""))
    if errors:
        return render_template("review/note_form.html", document=document, note=None,
                               errors=errors, form=form), 400
    note = notes.add(who, document, int(form["page"]), form["body"], form.get("quote", ""))
    flash(f"Note added to page {note.page}.", "success")
    return redirect(url_for("documents.show", document_id=document.id,
                            page=(note.page - 1) // 20 + 1) + f"#note-{note.id}", code=303)


@bp.route("/notes/<int:note_id>/edit", methods=["GET", "POST"])
@login_required
def note_edit(note_id: int):
    who = guard.user()
    note = guard.found(notes.get_visible(who, note_id))
    if who is None or note.author_id != who.id:
        abort(403)
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = notes.validate(note.document, str(note.page), form.get("body", ""),
                                form.get("quote", ""))
        if not errors:
            notes.edit(who, note, form["body"], form.get("quote", ""))
            flash("Note saved.", "success")
            return redirect(url_for("documents.show", document_id=note.document_id,
                                    page=(note.page - 1) // 20 + 1) + f"#note-{note.id}",
                            code=303)
    return render_template("review/note_form.html", document=note.document, note=note,
                           errors=errors, form=form), (400 if errors else 200)


@bp.route("/notes")
@login_required
def notes_page():
    who = guard.user()
    words = request.args.get("q", "").strip()[:200]
    page = max(1, request.args.get("page", 1, type=to_int) or 1)
    total, found = notes.search(who, words, page)
    return render_template("review/notes.html", words=words, total=total, found=found,
                           page=page, per_page=notes.PER_PAGE)


# --- queues and history ---------------------------------------------------------------------

@bp.route("/queue")
@login_required
def queue_page():
    who = guard.user()
    name = request.args.get("name", "mine")
    if name not in queues.QUEUES:
        name = "mine"
    ids = queues.queue_ids(who, name)
    shown = documents(ids[:200])
    return render_template("review/queue.html", name=name, queues=queues.QUEUES,
                           total=len(ids), shown=shown,
                           codings={d.id: coding.current(d.id) for d in shown},
                           pending=redactions.pending_counts([d.id for d in shown])
                           if name == "redactions" else {},
                           RELEVANCE=RELEVANCE, REVIEW_STATUS=REVIEW_STATUS)


@bp.route("/documents/<int:document_id>/history")
@login_required
def history_page(document_id: int):
    document = guard.document_or_404(document_id)
    return render_template("review/history.html", document=document,
                           entries=history.of_document(document.id))


# --- bulk actions ---------------------------------------------------------------------------

BULK_ACTIONS = {"tag_add": "Add a tag", "tag_remove": "Remove a tag",
                "assign": "Assign to a reviewer", "bundle": "Build a disclosure bundle"}


def _plan(who: User, action: str, args: MultiDict, docs: list[Document], skipped: int,
          dry_run: bool):
    """Carry out (or, with dry_run, count) one bulk action; (outcome, verb, error)."""
    if action in ("tag_add", "tag_remove"):
        tag = tags.get_visible(who, args.get("apply_tag", type=to_int) or 0)
        if tag is None:
            return None, "", "Choose a tag"
        add = action == "tag_add"
        outcome = tags.apply(who, tag, docs, add=add, skipped=skipped, dry_run=dry_run)
        return outcome, f"{'tagged' if add else 'untagged'} “{tag.name}”", ""
    if action == "assign":
        raw = args.get("assignee", "")
        reviewer = next((u for u in coding.reviewers_for(who) if str(u.id) == raw), None)
        if reviewer is None and raw != "none":
            return None, "", "Choose a reviewer"
        outcome = coding.assign(who, reviewer, docs, skipped=skipped, dry_run=dry_run)
        return outcome, f"assigned to {reviewer.email}" if reviewer else "unassigned", ""
    if action == "bundle":
        if dry_run:
            allowed = sum(1 for d in docs if bundles.may_export(who, d))
            return (bundles.Outcome(changed=allowed, skipped=skipped + len(docs) - allowed),
                    "put in the bundle", "")
        return None, "", ""
    return None, "", "Choose what to do"


@bp.route("/bulk", methods=["GET", "POST"])
@login_required
def bulk():
    who = guard.user()
    if not any(permissions.can(who, a) for a in ("tag", "assign", "export")):
        abort(403)
    args = request.form if request.method == "POST" else request.args
    selection = selection_from(args)
    docs, skipped = _resolve_or_400(who, selection)
    action = args.get("action", "")
    context = selection_args(selection)
    if request.method == "POST":
        if action == "bundle":
            bundle, outcome = bundles.start(who, docs, args.get("name", ""), skipped)
            if bundle is None:
                flash(outcome.message("put in the bundle"), "error")
                return redirect(url_for("review.bulk", **context), code=303)
            return redirect(url_for("review.bundle_show", bundle_id=bundle.id), code=303)
        outcome, verb, error = _plan(who, action, args, docs, skipped, dry_run=False)
        if outcome is None:
            abort(400, error)
        flash(outcome.message(verb), "success")
        back = url_for("search.search", **context) if selection.query else \
            url_for("review.bulk", **context)
        return redirect(back, code=303)
    preview = verb = error = None
    if action:
        preview, verb, error = _plan(who, action, args, docs, skipped, dry_run=True)
    taggable = {i.id for i in permissions.inquiries_where(who, "tag")}
    return render_template(
        "review/bulk.html", selection=selection, context=context, total=len(docs),
        unseen=skipped, action=action, actions=BULK_ACTIONS, preview=preview, verb=verb,
        error=error, args=args,
        tags=tags.for_inquiries(sorted(taggable)),
        reviewers=coding.reviewers_for(who), name=args.get("name", ""),
    ), (400 if error else 200)


@bp.route("/export.csv")
@login_required
def export_csv():
    who = guard.require("export")
    selection = selection_from(request.args)
    queue = request.args.get("queue", "")
    if queue:
        ids, skipped = queues.queue_ids(who, queue), 0
        docs = documents(ids)
    else:
        docs, skipped = _resolve_or_400(who, selection)
    response = Response(stream_with_context(bundles.coding_csv(who, docs, skipped)),
                        mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="coding-index.csv"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- bundles --------------------------------------------------------------------------------

def _own_bundle(bundle_id: int):
    return guard.found(bundles.get_for(guard.user(), bundle_id))


@bp.route("/bundles/<int:bundle_id>")
@login_required
def bundle_show(bundle_id: int):
    bundle = _own_bundle(bundle_id)
    template = "review/_bundle_progress.html" if request.headers.get("HX-Request") else \
        "review/bundle.html"
    return render_template(template, bundle=bundle, labels=bundles.STATUS_LABELS)


@bp.route("/bundles/<int:bundle_id>/bundle.zip")
@login_required
def bundle_download(bundle_id: int):
    bundle = _own_bundle(bundle_id)
    path = bundles.path_of(bundle)
    if bundle.status != bundles.DONE or not path.exists():
        abort(404)
    bundles.record_download(guard.user(), bundle)

    def stream():
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk

    response = Response(stream(), mimetype="application/zip")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="disclosure-bundle-{bundle.id}.zip"'
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the review panel on the document page --------------------------------------------------

def document_panel(who: User | None, document: Document) -> dict:
    """What the document page shows of the review: tags, coding, notes."""
    return {
        "doc_tags": tags.of_document(document.id),
        "inquiry_tags": tags.for_inquiries([document.inquiry_id])
        if permissions.can(who, "tag", document.inquiry_id) else [],
        "coding": coding.current(document.id),
        "doc_notes": notes.of_document(document.id),
        "RELEVANCE": RELEVANCE, "PRIVILEGE": PRIVILEGE, "REVIEW_STATUS": REVIEW_STATUS,
        "REASONS": REDACTION_REASONS, "TAG_COLOURS": TAG_COLOURS,
    }
