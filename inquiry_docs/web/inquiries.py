"""Inquiries: list and create."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from ..access import permissions
from ..access.inquiries import create_inquiry, validate
from ..db import db
from ..models import Document
from . import guard

bp = Blueprint("inquiries", __name__, url_prefix="/inquiries")


@bp.route("/")
@login_required
def index():
    who = guard.user()
    inquiries = permissions.inquiries_where(who, "read")
    ids = [i.id for i in inquiries]
    visible = permissions.visible_documents(who).subquery()
    counts = dict(db.session.execute(
        select(visible.c.inquiry_id, func.count()).where(visible.c.inquiry_id.in_(ids))
        .group_by(visible.c.inquiry_id)
    ).all())
    return render_template("inquiries/index.html", inquiries=inquiries, counts=counts)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    who = guard.require("manage_inquiries")
    errors: dict[str, str] = {}
    code = request.form.get("code", "").strip().upper()
    name = request.form.get("name", "").strip()
    if request.method == "POST":
        errors = validate(code, name)
        if not errors:
            inquiry = create_inquiry(code, name, who)
            flash(f"Inquiry {inquiry.code} created.", "success")
            return redirect(url_for("inquiries.index"))
    return render_template("inquiries/new.html", errors=errors, code=code, name=name), \
        (400 if errors else 200)


def document_count(inquiry_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(Document).where(Document.inquiry_id == inquiry_id)
    ).scalar_one()
