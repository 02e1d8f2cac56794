"""Every access decision in one place.

Views, the API, the CLI and search ask this module; nothing else compares roles. Search
receives a `Scope` and applies it as a filter inside the query, never afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select

from .db import db
from .models import MARKINGS, Document, Inquiry, Membership, User

# What each membership role may do, beyond reading what it is cleared for.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "secretariat": frozenset({"read", "upload", "edit_metadata", "manage_failed"}),
    "legal": frozenset({"read", "tag", "code", "note", "mark"}),
    "researcher": frozenset({"read", "link", "note"}),
    "reader": frozenset({"read"}),
}
ADMIN_ONLY = frozenset({"manage_users", "manage_inquiries", "settings"})


@dataclass(frozen=True)
class Scope:
    """Which documents a user may see: per inquiry, the highest marking they are cleared for."""

    clearance_by_inquiry: dict[int, str]

    @property
    def inquiry_ids(self) -> list[int]:
        return sorted(self.clearance_by_inquiry)

    def allows(self, inquiry_id: int, marking: str) -> bool:
        cleared = self.clearance_by_inquiry.get(inquiry_id)
        return cleared is not None and _rank(marking) <= _rank(cleared)

    def markings_for(self, inquiry_id: int) -> list[str]:
        cleared = self.clearance_by_inquiry.get(inquiry_id)
        if cleared is None:
            return []
        return [m for m in MARKINGS if _rank(m) <= _rank(cleared)]


def _rank(marking: str) -> int:
    return MARKINGS.index(marking) if marking in MARKINGS else len(MARKINGS)


def scope_for(user: User | None) -> Scope:
    if user is None or not getattr(user, "active", False):
        return Scope({})
    if user.is_admin:
        ids = db.session.execute(select(Inquiry.id)).scalars()
        return Scope(dict.fromkeys(ids, MARKINGS[-1]))
    rows = db.session.execute(
        select(Membership.inquiry_id, Membership.clearance).where(Membership.user_id == user.id)
    )
    return Scope({inquiry_id: clearance for inquiry_id, clearance in rows})  # noqa: C416


def can(user: User | None, action: str, inquiry_id: int | None = None) -> bool:
    """May this user do `action` (in this inquiry, or in any of theirs when None)?"""
    if user is None or not getattr(user, "active", False):
        return False
    if user.is_admin:
        return True
    if action in ADMIN_ONLY:
        return False
    for membership in user.memberships:
        if inquiry_id is not None and membership.inquiry_id != inquiry_id:
            continue
        if action in ROLE_ACTIONS.get(membership.role, frozenset()):
            return True
    return False


def inquiries_where(user: User | None, action: str) -> list[Inquiry]:
    """The inquiries in which the user may do `action`, for choosers and filters."""
    inquiries = db.session.execute(select(Inquiry).order_by(Inquiry.code)).scalars().all()
    return [i for i in inquiries if can(user, action, i.id)]


def visible_documents(user: User | None) -> Select[tuple[Document]]:
    """A SELECT of the documents the user may see, to refine further."""
    scope = scope_for(user)
    clauses = [
        (Document.inquiry_id == inquiry_id) & Document.marking.in_(scope.markings_for(inquiry_id))
        for inquiry_id in scope.inquiry_ids
    ]
    return select(Document).where(or_(*clauses) if clauses else false())


def can_see(user: User | None, document: Document) -> bool:
    return scope_for(user).allows(document.inquiry_id, document.marking)


def get_visible_document(user: User | None, document_id: int) -> Document | None:
    """The document if it exists and the user may see it; None either way otherwise."""
    document = db.session.get(Document, document_id)
    if document is None or not can_see(user, document):
        return None
    return document
