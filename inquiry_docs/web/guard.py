"""View helpers that route every access question to permissions.py."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlparse

from flask import abort, request
from flask_login import current_user

from ..access import audit, permissions
from ..db import db
from ..models import Document, User

T = TypeVar("T")


def found(thing: T | None) -> T:
    """`thing`, or a 404 when it does not exist or is not the user's to see (the lookups
    that feed this already asked permissions.py)."""
    if thing is None:
        abort(404)
    return thing


def user() -> User | None:
    return current_user.user if current_user.is_authenticated else None


def require(action: str, inquiry_id: int | None = None) -> User:
    """The signed-in user if allowed; 404 for a document-scoped refusal is decided by callers."""
    who = user()
    if not permissions.can(who, action, inquiry_id):
        abort(403)
    assert who is not None
    return who


def document_or_404(document_id: int) -> Document:
    """The same answer for a document that does not exist and one the user may not see."""
    who = user()
    document = permissions.get_visible_document(who, document_id)
    if document is None:
        # Attempts on what a user may not see are evidence too; the answer stays a plain 404.
        audit.record("document_refused", user=who, object_type="document",
                     object_id=document_id, path=request.path[:300])
        db.session.commit()
        abort(404)
    return document


def safe_next(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`, so a crafted link cannot
    bounce users elsewhere.

    Browsers drop tabs and newlines inside addresses and read a backslash as a slash, so
    "/\t/evil.example" or "/\\evil.example" would leave the site: both are refused.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(ch) < 33 or ord(ch) == 127 for ch in target)
        and not urlparse(target).netloc
    ):
        return target
    return default
