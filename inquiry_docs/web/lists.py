"""Saved searches and batch search pages."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..access import permissions
from ..db import to_int
from ..search import batch as batch_search
from ..search import saved as saved_searches
from . import guard

bp = Blueprint("lists", __name__, url_prefix="/searches")


# --- saved searches --------------------------------------------------------------------------

@bp.route("/")
@login_required
def index():
    who = guard.user()
    return render_template("searches/index.html", listed=saved_searches.listing(who),
                           batches=batch_search.recent_for(who))


@bp.route("/saved", methods=["POST"])
@login_required
def save():
    who = guard.user()
    form = request.form
    inquiry_id = form.get("inquiry", type=to_int)
    try:
        saved = saved_searches.save(
            who, name=form.get("name", ""), query=form.get("q", ""), inquiry_id=inquiry_id,
            filters=saved_searches.parse_filters(form.get("filters", "")),
            shared=form.get("shared") == "yes")
    except saved_searches.BadInput as error:
        return render_template("searches/save.html", errors=error.errors, form=form,
                               query=form.get("q", ""), inquiry_id=inquiry_id), 400
    flash(f"Saved “{saved.name}”.", "success")
    return redirect(url_for("lists.index"), code=303)


@bp.route("/saved/<int:saved_id>/run")
@login_required
def run_saved(saved_id: int):
    who = guard.user()
    saved = guard.found(saved_searches.get_for(who, saved_id))
    saved_searches.record_run(who, saved)
    args = saved_searches.filters_of(saved)
    args["q"] = [saved.query]
    if saved.inquiry_id is not None and "inquiry" not in args:
        args["inquiry"] = [str(saved.inquiry_id)]
    return redirect(url_for("search.search", **args))


@bp.route("/saved/<int:saved_id>/delete", methods=["POST"])
@login_required
def delete_saved(saved_id: int):
    who = guard.user()
    saved = saved_searches.get_for(who, saved_id)
    if saved is None or saved.user_id != who.id:
        abort(404)
    name = saved.name
    saved_searches.delete_saved(who, saved)
    flash(f"Deleted “{name}”.", "success")
    return redirect(url_for("lists.index"), code=303)


# --- batch search ----------------------------------------------------------------------------

@bp.route("/batch", methods=["GET", "POST"])
@login_required
def batch_form():
    who = guard.user()
    inquiries = permissions.inquiries_where(who, "read")
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        inquiry_id = form.get("inquiry", type=to_int)
        if inquiry_id is not None and inquiry_id not in {i.id for i in inquiries}:
            errors["inquiry"] = "Choose an inquiry you belong to"
        upload = request.files.get("csv_file")
        pasted = form.get("queries", "")
        queries: list[str] = []
        try:
            if upload is not None and upload.filename:
                if pasted.strip():
                    raise batch_search.BadInput(
                        "Either paste queries or choose a CSV file, not both")
                data = upload.stream.read(batch_search.MAX_FILE_BYTES + 1)
                queries = batch_search.from_csv(data, form.get("column", ""))
            else:
                queries = batch_search.from_text(pasted)
        except batch_search.BadInput as error:
            field = "csv_file" if upload is not None and upload.filename else "queries"
            if "column" in str(error).lower():
                field = "column"
            errors[field] = str(error)
        if not errors:
            batch = batch_search.start(who, queries, inquiry_id)
            return redirect(url_for("lists.batch_show", search_id=batch.id), code=303)
    return render_template("searches/batch_form.html", inquiries=inquiries, errors=errors,
                           form=form, limits=batch_search), (400 if errors else 200)


def _own_batch(search_id: int):
    return guard.found(batch_search.get_for(guard.user(), search_id))


@bp.route("/batch/<int:search_id>")
@login_required
def batch_show(search_id: int):
    batch = _own_batch(search_id)
    template = "searches/_batch_progress.html" if request.headers.get("HX-Request") else \
        "searches/batch.html"
    return render_template(template, batch=batch, rows=batch_search.rows(guard.user(), batch),
                           labels=batch_search.STATUS_LABELS)


@bp.route("/batch/<int:search_id>/results.csv")
@login_required
def batch_csv(search_id: int):
    batch = _own_batch(search_id)
    body = batch_search.export(guard.user(), batch)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="batch-search-{batch.id}.csv"',
        "X-Content-Type-Options": "nosniff",
    })
