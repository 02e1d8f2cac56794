"""Inquiries: the three-letter code that starts every URN, and creating one (audited)."""

from __future__ import annotations

import re

from sqlalchemy import select

from ..db import db
from ..models import Inquiry, User
from . import audit

CODE = re.compile(r"^[A-Z]{3}$")


def validate(code: str, name: str) -> dict[str, str]:
    errors = {}
    if not CODE.match(code):
        errors["code"] = "Enter a code of exactly 3 letters, like OLD"
    elif db.session.execute(select(Inquiry).where(Inquiry.code == code)).scalar():
        errors["code"] = f"An inquiry with code {code} already exists"
    if not name or len(name) > 200:
        errors["name"] = "Enter a name of up to 200 characters"
    return errors


def create_inquiry(code: str, name: str, by: User | None = None) -> Inquiry:
    inquiry = Inquiry(code=code, name=name)
    db.session.add(inquiry)
    db.session.flush()
    audit.record("inquiry_created", user=by, object_type="inquiry", object_id=inquiry.id,
                 inquiry_id=inquiry.id, code=code, name=name)
    db.session.commit()
    return inquiry
