"""Production pages: choose documents (ticked, or every result of a search), name the
recipient and the numbering, follow the build, download the ZIP, build it again."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from ..review import productions
from . import guard
from .review import _resolve_or_400, selection_args, selection_from

bp = Blueprint("productions", __name__, url_prefix="/review/productions")


@bp.route("/")
@login_required
def index():
    who = guard.require("export")
    return render_template("productions/index.html", listed=productions.recent_for(who),
                           labels=productions.STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    who = guard.require("export")
    args = request.form if request.method == "POST" else request.args
    selection = selection_from(args)
    docs, unseen = _resolve_or_400(who, selection) if selection.query or selection.ids \
        else ([], 0)
    data = productions.Request(args.get("name", ""), args.get("recipient", ""),
                               args.get("prefix", "").strip().upper(),
                               args.get("start", "1"))
    found = productions.eligible(who, docs, unseen)
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors = productions.validate(data)
        if not found.allowed:
            errors["documents"] = "None of the chosen documents can be produced: " + \
                found.message()
        if not errors:
            production, found = productions.start(who, docs, data, unseen)
            if production is not None:
                flash(f"Production “{production.name}” is being built: {found.message()}",
                      "success")
                return redirect(url_for("productions.show", production_id=production.id),
                                code=303)
            errors["documents"] = found.message()
    return render_template("productions/new.html", selection=selection,
                           context=selection_args(selection), docs=docs, found=found,
                           data=data, errors=errors), (400 if errors else 200)


def _own(production_id: int):
    return guard.found(productions.get_for(guard.user(), production_id))


@bp.route("/<int:production_id>")
@login_required
def show(production_id: int):
    production = _own(production_id)
    template = "productions/_progress.html" if request.headers.get("HX-Request") else \
        "productions/show.html"
    return render_template(template, production=production, labels=productions.STATUS_LABELS,
                           first=productions.number(production, 0))


@bp.route("/<int:production_id>/rebuild", methods=["POST"])
@login_required
def rebuild(production_id: int):
    production = _own(production_id)
    if production.status not in (productions.DONE, productions.FAILED):
        flash("The production is still being built.", "info")
    else:
        productions.rebuild(guard.user(), production)
        flash("The production is being built again.", "success")
    return redirect(url_for("productions.show", production_id=production.id), code=303)


@bp.route("/<int:production_id>/production.zip")
@login_required
def download(production_id: int):
    production = _own(production_id)
    path = productions.path_of(production)
    if production.status != productions.DONE or not path.exists():
        abort(404)
    productions.record_download(guard.user(), production)

    def stream():
        with open(path, "rb") as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk

    response = Response(stream(), mimetype="application/zip")
    response.headers["Content-Disposition"] = \
        f'attachment; filename="production-{production.id}.zip"'
    response.headers["Content-Length"] = str(path.stat().st_size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
