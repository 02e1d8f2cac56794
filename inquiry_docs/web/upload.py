"""Upload several files at once, follow each one's progress, and set each file's details
(type, source, date) before sending, after it, or for several files at once."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.datastructures import FileStorage, MultiDict

from .. import extract
from ..access import permissions
from ..db import db, to_int
from ..evidence import ingest, metadata, refused
from ..models import DOC_TYPES, Batch, Document, Inquiry, Status, User
from . import guard

bp = Blueprint("upload", __name__, url_prefix="/upload")
DONE = (Status.INDEXED, Status.NO_TEXT, Status.FAILED)
MAX_SOURCE = 200


def date_fields(form: MultiDict, prefix: str) -> tuple[datetime | None, str]:
    """A date from the GOV.UK day, month and year fields named `prefix`day etc."""
    return metadata.parse_date(form.get(f"{prefix}day", ""), form.get(f"{prefix}month", ""),
                               form.get(f"{prefix}year", ""))


@bp.route("/", methods=["GET", "POST"])
@login_required
def form():
    who = guard.user()
    inquiries = permissions.inquiries_where(who, "upload")
    if not inquiries:
        abort(403)
    errors: dict[str, str] = {}
    if request.method == "POST":
        inquiry = db.session.get(Inquiry, request.form.get("inquiry", type=to_int) or 0)
        files = [(n, f) for n, f in enumerate(request.files.getlist("files"))
                 if f.filename or f.content_length]
        doc_type = request.form.get("doc_type", "other")
        if inquiry is None or inquiry not in inquiries:
            errors["inquiry"] = "Choose an inquiry you can upload to"
        if not files:
            errors["files"] = "Choose one or more files to upload"
        if doc_type not in DOC_TYPES:
            errors["doc_type"] = "Choose a document type"
        source = request.form.get("source", "")[:MAX_SOURCE]
        details = [_file_details(request.form, n, f, doc_type, source) for n, f in files]
        refusal = next((problem for *_, problem in details if problem), "")
        if refusal and not errors:
            errors["files"] = f"{refusal} Choose the files again."
        if not errors:
            batch = Batch(inquiry_id=inquiry.id, user_id=who.id)
            db.session.add(batch)
            db.session.commit()
            for (_, upload), (kind, given_source, date, _) in zip(files, details, strict=True):
                ingest.receive(ingest.Incoming(
                    stream=upload.stream, filename=upload.filename or "", inquiry=inquiry,
                    user=who, channel="web", batch=batch, doc_type=kind,
                    source=given_source, document_date=date,
                ))
            return redirect(url_for("upload.batch", batch_id=batch.id), code=303)
    return render_template("upload/form.html", inquiries=inquiries, errors=errors,
                           form=request.form, formats=extract.accepted_formats().values()), \
        (400 if errors else 200)


def _file_details(form: MultiDict, number: int, upload: FileStorage, doc_type: str,
                  source: str) -> tuple[str, str, datetime | None, str]:
    """One file's type, source and date: what the upload list gave for it (the page's
    script names those fields file-N-*), else the whole batch's; with a problem, or ""."""
    prefix = f"file-{number}-"
    # The list was made for these files: a field for another name is not this file's.
    if form.get(f"{prefix}name") != upload.filename:
        return doc_type, source, None, ""
    name = ingest.clean_filename(upload.filename or "")
    kind = form.get(f"{prefix}doc_type") or doc_type
    own_source = form.get(f"{prefix}source", "").strip()
    date, problem = date_fields(form, prefix)
    if kind not in DOC_TYPES:
        problem = "choose a document type"
    elif len(own_source) > MAX_SOURCE:
        problem = f"enter a source of up to {MAX_SOURCE} characters"
    return kind, own_source or source, date, \
        (f"The details given for {name} could not be used: {problem[:1].lower()}"
         f"{problem[1:]}." if problem else "")


def _own_batch(batch_id: int) -> Batch:
    batch = db.session.get(Batch, batch_id)
    who = guard.user()
    if batch is None or who is None or (batch.user_id != who.id and not who.is_admin):
        abort(404)
    return batch


def progress(batch: Batch) -> dict:
    items = batch.items
    stored = [i for i in items if i.document is not None]
    finished = [i for i in stored if i.document.status in DONE]
    reading = [i.document for i in stored if i.document.status == Status.EXTRACTING]
    return {
        "ocr_done": sum(d.ocr_done for d in reading),
        "ocr_total": sum(d.ocr_total for d in reading),
        "total": len(items),
        "rejected": sum(1 for i in items if i.outcome == ingest.REJECTED),
        "stored": len(stored),
        "finished": len(finished),
        "complete": len(finished) == len(stored),
    }


def editable(batch: Batch, who: User | None) -> list[Document]:
    """The documents this upload created that the user may see and describe."""
    if not permissions.can(who, "edit_metadata", batch.inquiry_id):
        return []
    return [item.document for item in batch.items
            if item.outcome == ingest.RECEIVED and item.document is not None
            and permissions.can_see(who, item.document)]


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    batch = _own_batch(batch_id)
    if request.headers.get("HX-Request"):
        return render_template("upload/_progress.html", batch=batch, progress=progress(batch))
    return _batch_page(batch)


def _batch_page(batch: Batch, errors: dict[str, str] | None = None, form=None,
                status: int = 200):
    who = guard.user()
    items = [i for i in batch.items if i.outcome == ingest.REJECTED]
    return render_template(
        "upload/batch.html", batch=batch, progress=progress(batch),
        documents=editable(batch, who), refused=items, errors=errors or {},
        form=form or MultiDict(),
        may_dismiss=permissions.can(who, "upload", batch.inquiry_id)), status


@bp.route("/batches/<int:batch_id>/details", methods=["POST"])
@login_required
def details(batch_id: int):
    """Each file's type, source and date from the batch page's table (one form)."""
    batch = _own_batch(batch_id)
    who = guard.require("edit_metadata", batch.inquiry_id)
    edits, errors = [], {}
    for document in editable(batch, who):
        changes = _row_changes(document, request.form, errors)
        if changes is not None:
            edits.append((document, changes))
    if errors:
        return _batch_page(batch, errors, request.form, 400)
    changed = metadata.apply_many(edits, who)
    _say_changed(changed)
    return redirect(url_for("upload.batch", batch_id=batch.id, _anchor="details"))


def _row_changes(document: Document, form: MultiDict,
                 errors: dict[str, str]) -> metadata.Changes | None:
    """What the user changed in one row, on top of the document as it is now.

    Each row carries the values it was shown with (was_*): a field left as shown keeps
    what the document holds now, so a date read from the file after the page was drawn
    is not wiped by saving the row's empty date fields."""
    prefix = f"doc-{document.id}-"
    if f"{prefix}doc_type" not in form:
        return None
    kind, source = document.doc_type, document.source
    date = document.document_date
    if form.get(f"{prefix}doc_type") != form.get(f"{prefix}was_doc_type"):
        kind = form.get(f"{prefix}doc_type", "")
        if kind not in DOC_TYPES:
            errors[f"{prefix}doc_type"] = f"Choose a document type for {document.urn}"
    if form.get(f"{prefix}source", "").strip() != form.get(f"{prefix}was_source", "").strip():
        source = form.get(f"{prefix}source", "")
        if len(source.strip()) > MAX_SOURCE:
            errors[f"{prefix}source"] = \
                f"Enter a source of up to {MAX_SOURCE} characters for {document.urn}"
    given, problem = date_fields(form, prefix)
    if problem:
        errors[f"{prefix}day"] = f"{document.urn}: {problem}"
    elif (given.date().isoformat() if given else "") != form.get(f"{prefix}was_date", ""):
        date = given
    return metadata.Changes(document.title, kind, source, date)


@bp.route("/batches/<int:batch_id>/bulk", methods=["POST"])
@login_required
def bulk(batch_id: int):
    """Set the type, source or date of every selected file of this upload at once."""
    batch = _own_batch(batch_id)
    who = guard.require("edit_metadata", batch.inquiry_id)
    documents = editable(batch, who)
    chosen = set(request.form.getlist("file", type=to_int))
    selected = [d for d in documents if d.id in chosen]
    form = request.form
    kind = form.get("bulk-doc_type", "")
    source = form.get("bulk-source", "").strip()
    date, problem = date_fields(form, "bulk-")
    errors = {}
    if not selected and documents:
        errors[f"file-{documents[0].id}"] = "Select the files to change"
    if kind and kind not in DOC_TYPES:
        errors["bulk-doc_type"] = "Choose a document type"
    if len(source) > MAX_SOURCE:
        errors["bulk-source"] = f"Enter a source of up to {MAX_SOURCE} characters"
    if problem:
        errors["bulk-day"] = problem
    elif not (kind or source or date):
        errors["bulk-doc_type"] = "Choose a type, enter a source or enter a date to set"
    if errors:
        return _batch_page(batch, errors, form, 400)
    changed = metadata.apply_many([(d, metadata.Changes(
        d.title, kind or d.doc_type, source or d.source, date or d.document_date))
        for d in selected], who)
    _say_changed(changed)
    return redirect(url_for("upload.batch", batch_id=batch.id, _anchor="details"))


def _say_changed(changed: list[Document]) -> None:
    if changed:
        flash(f"Details of {len(changed)} file{'s' if len(changed) != 1 else ''} updated: "
              f"{', '.join(d.urn for d in changed)}.", "success")
    else:
        flash("Nothing was changed.", "info")


@bp.route("/refused/<int:item_id>/dismiss", methods=["POST"])
@login_required
def dismiss(item_id: int):
    """Take a refused file off Needs attention, once someone has dealt with it."""
    who = guard.user()
    item = guard.found(refused.find(who, item_id))
    assert who is not None
    if refused.dismiss(item, who):
        flash(f"{item.filename} was dismissed from Needs attention.", "success")
    if request.form.get("back") == "batch" and (item.batch.user_id == who.id or who.is_admin):
        return redirect(url_for("upload.batch", batch_id=item.batch_id, _anchor="refused"))
    return redirect(url_for("documents.attention"))
