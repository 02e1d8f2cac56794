"""Inquiries: list and create."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import func, select

from ..access import audit, permissions
from ..db import db
from ..models import Document, Inquiry
from . import guard

bp = Blueprint("inquiries", __name__, url_prefix="/inquiries")
CODE = re.compile(r"^[A-Z]{3}$")


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


def validate(code: str, name: str) -> dict[str, str]:
    errors = {}
    if not CODE.match(code):
        errors["code"] = "Enter a code of exactly 3 letters, like OLD"
    elif db.session.execute(select(Inquiry).where(Inquiry.code == code)).scalar():
        errors["code"] = f"An inquiry with code {code} already exists"
    if not name or len(name) > 200:
        errors["name"] = "Enter a name of up to 200 characters"
    return errors


def create_inquiry(code: str, name: str, by=None) -> Inquiry:
    inquiry = Inquiry(code=code, name=name)
    db.session.add(inquiry)
    db.session.flush()
    audit.record("inquiry_created", user=by, object_type="inquiry", object_id=inquiry.id,
                 inquiry_id=inquiry.id, code=code, name=name)
    db.session.commit()
    return inquiry


def document_count(inquiry_id: int) -> int:
    return db.session.execute(
        select(func.count()).select_from(Document).where(Document.inquiry_id == inquiry_id)
    ).scalar_one()
