"""Recommendations, administration: importing sets from CSV or JSON, and editing sets and
recommendations. Admins only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from ..db import db
from ..models import Inquiry, RecommendationSet
from ..recommendations import create_set as make_set
from ..recommendations import import_rows, label, parse_import
from ..recommendations import update_recommendation as save_recommendation
from ..recommendations import update_set as save_set
from ..recommendations import validate_recommendation as check_recommendation
from ..recommendations import validate_set as check_set
from . import guard
from .recommendations import form_int, rec_or_404, set_or_404

bp = Blueprint("recommendation_sets", __name__, url_prefix="/recommendations")


@bp.route("/sets/import", methods=["GET", "POST"])
@login_required
def import_set():
    who = guard.require("manage_recommendations")
    form = request.form
    errors: dict[str, str] = {}
    sets = db.session.execute(select(RecommendationSet).order_by(RecommendationSet.id)
                              ).scalars().all()
    inquiries = db.session.execute(select(Inquiry).order_by(Inquiry.code)).scalars().all()
    if request.method == "POST":
        target = db.session.get(RecommendationSet, form_int(form.get("set")) or 0)
        code, name = form.get("code", "").strip().lower(), form.get("name", "")
        inquiry_id = form_int(form.get("inquiry"))
        if inquiry_id is not None and db.session.get(Inquiry, inquiry_id) is None:
            inquiry_id = None
        if target is None:
            errors.update(check_set(code, name, new=True))
        upload = request.files.get("file")
        parsed = parse_import(upload.read(), upload.filename or "") if upload and \
            upload.filename else None
        if parsed is None:
            errors["file"] = "Choose a CSV or JSON file"
        elif parsed.errors:
            errors["file"] = "; ".join(parsed.errors[:5])
        if not errors:
            assert parsed is not None
            if target is None:
                target = make_set(code, name, inquiry_id, who)
            added, updated = import_rows(target, parsed.rows, who)
            flash(f"{target.name}: {added} added, {updated} updated.", "success")
            return redirect(url_for("recommendations.index", set=target.id))
    return render_template("recommendations/import.html", errors=errors, form=form, sets=sets,
                           inquiries=inquiries), (400 if errors else 200)


@bp.route("/sets/<int:set_id>/edit", methods=["GET", "POST"])
@login_required
def edit_set(set_id: int):
    who = guard.require("manage_recommendations")
    rset = set_or_404(set_id)
    inquiries = db.session.execute(select(Inquiry).order_by(Inquiry.code)).scalars().all()
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        errors = check_set(rset.code, form.get("name", ""), new=False)
        inquiry_id = form_int(form.get("inquiry"))
        if inquiry_id is not None and db.session.get(Inquiry, inquiry_id) is None:
            errors["inquiry"] = "Choose an inquiry"
        if not errors:
            changed = save_set(rset, form.get("name", ""), form.get("description", "")[:5000],
                               inquiry_id, who)
            flash("Set saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("recommendations.index", set=rset.id))
    return render_template("recommendations/edit_set.html", rset=rset, errors=errors,
                           form=form, inquiries=inquiries), (400 if errors else 200)


@bp.route("/<int:rec_id>/edit", methods=["GET", "POST"])
@login_required
def edit(rec_id: int):
    who = guard.require("manage_recommendations")
    rec = rec_or_404(rec_id)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        values = {k: form.get(k, "").strip() for k in
                  ("title", "part", "addressee", "text", "keywords")}
        errors = check_recommendation(values)
        if not errors:
            changed = save_recommendation(rec, values, who)
            flash("Recommendation saved." if changed else "Nothing was changed.", "success")
            return redirect(url_for("recommendations.show", rec_id=rec.id))
    return render_template("recommendations/edit.html", rec=rec, errors=errors, form=form,
                           label=label(rec)), (400 if errors else 200)
