"""Upload several files at once and follow each one's progress."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import login_required

from ..access import permissions
from ..db import db, to_int
from ..evidence import ingest
from ..models import DOC_TYPES, Batch, Inquiry, Status
from . import guard

bp = Blueprint("upload", __name__, url_prefix="/upload")
DONE = (Status.INDEXED, Status.NO_TEXT, Status.FAILED)


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
        files = [f for f in request.files.getlist("files") if f.filename or f.content_length]
        doc_type = request.form.get("doc_type", "other")
        if inquiry is None or inquiry not in inquiries:
            errors["inquiry"] = "Choose an inquiry you can upload to"
        if not files:
            errors["files"] = "Choose one or more files to upload"
        if doc_type not in DOC_TYPES:
            errors["doc_type"] = "Choose a document type"
        if not errors:
            batch = Batch(inquiry_id=inquiry.id, user_id=who.id)
            db.session.add(batch)
            db.session.commit()
            for upload in files:
                ingest.receive(ingest.Incoming(
                    stream=upload.stream, filename=upload.filename or "", inquiry=inquiry,
                    user=who, channel="web", batch=batch, doc_type=doc_type,
                    source=request.form.get("source", "")[:200],
                ))
            return redirect(url_for("upload.batch", batch_id=batch.id), code=303)
    return render_template("upload/form.html", inquiries=inquiries, errors=errors,
                           form=request.form), (400 if errors else 200)


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


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int):
    batch = _own_batch(batch_id)
    template = "upload/_progress.html" if request.headers.get("HX-Request") else \
        "upload/batch.html"
    return render_template(template, batch=batch, progress=progress(batch))
