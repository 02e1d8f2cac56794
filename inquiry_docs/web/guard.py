"""View helpers that route every access question to permissions.py."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from .. import permissions
from ..models import Document, User


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
    document = permissions.get_visible_document(user(), document_id)
    if document is None:
        abort(404)
    return document
