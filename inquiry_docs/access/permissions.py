"""Every access decision in one place.

Views, the API, the CLI and search ask this module; nothing else compares roles. Search
receives a `Scope` and applies it as a filter inside the query, never afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, false, or_, select, true

from ..db import db
from ..models import MARKINGS, Document, Inquiry, Membership, RecommendationSet, User

# What each membership role may do, beyond reading what it is cleared for.
# tag: create, rename, merge and apply tags; code: the coding form; assign: give documents
# to a reviewer; export: coding CSV, disclosure bundles and productions; note: notes on
# pages; redact: propose, approve (another's only) and remove redactions, mark a document
# for redacted release; unredacted: see the original of a document released redacted.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "secretariat": frozenset({"read", "upload", "edit_metadata", "manage_failed",
                              "unredacted"}),
    "legal": frozenset({"read", "tag", "code", "note", "mark", "assign", "export", "redact",
                        "unredacted"}),
    # link: evidence links and suggestions; track: a recommendation's response and trail
    "researcher": frozenset({"read", "link", "note", "track"}),
    "reader": frozenset({"read"}),
}
ADMIN_ONLY = frozenset({"manage_users", "manage_inquiries", "settings",
                        "manage_recommendations"})


@dataclass(frozen=True)
class Grant:
    """A user's reach in one inquiry."""

    clearance: str
    restricted: bool = False  # may see documents under a restriction order


@dataclass(frozen=True)
class Scope:
    """Which documents a user may see: per inquiry, a clearance and restricted access."""

    grants: dict[int, Grant]

    @property
    def inquiry_ids(self) -> list[int]:
        return sorted(self.grants)

    def allows(self, inquiry_id: int, marking: str, restricted: bool = False) -> bool:
        grant = self.grants.get(inquiry_id)
        if grant is None or _rank(marking) > _rank(grant.clearance):
            return False
        return grant.restricted or not restricted

    def markings_for(self, inquiry_id: int) -> list[str]:
        grant = self.grants.get(inquiry_id)
        if grant is None:
            return []
        return [m for m in MARKINGS if _rank(m) <= _rank(grant.clearance)]

    def sees_restricted(self, inquiry_id: int) -> bool:
        grant = self.grants.get(inquiry_id)
        return grant is not None and grant.restricted

    def only(self, inquiry_id: int | None) -> Scope:
        """The same reach narrowed to one inquiry (None keeps all)."""
        if inquiry_id is None:
            return self
        return Scope({k: v for k, v in self.grants.items() if k == inquiry_id})


def _rank(marking: str) -> int:
    return MARKINGS.index(marking) if marking in MARKINGS else len(MARKINGS)


def scope_for(user: User | None) -> Scope:
    if user is None or not getattr(user, "active", False):
        return Scope({})
    if user.is_admin:
        ids = db.session.execute(select(Inquiry.id)).scalars()
        return Scope({i: Grant(MARKINGS[-1], True) for i in ids})
    rows = db.session.execute(
        select(Membership.inquiry_id, Membership.clearance, Membership.restricted_access)
        .where(Membership.user_id == user.id)
    )
    return Scope({inquiry_id: Grant(clearance, bool(restricted))
                  for inquiry_id, clearance, restricted in rows})


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
        (Document.inquiry_id == inquiry_id)
        & Document.marking.in_(scope.markings_for(inquiry_id))
        & (true() if scope.sees_restricted(inquiry_id) else Document.restricted.is_(False))
        for inquiry_id in scope.inquiry_ids
    ]
    return select(Document).where(or_(*clauses) if clauses else false())


def can_see(user: User | None, document: Document) -> bool:
    return scope_for(user).allows(document.inquiry_id, document.marking, document.restricted)


def sees_original(user: User | None, document: Document) -> bool:
    """May the user see this document as it was received? Only the redacted version is
    shown to others once the document is marked for redacted release."""
    return not document.redacted_release or can(user, "unredacted", document.inquiry_id)


def may_approve_redaction(user: User | None, document: Document, author_id: int,
                          changed_by_id: int | None = None) -> bool:
    """A second pair of eyes: another legal user (or an admin) than the one who proposed
    the redaction, and than the one who last changed it."""
    return user is not None and user.id not in (author_id, changed_by_id) \
        and can_see(user, document) and can(user, "redact", document.inquiry_id)


def get_visible_document(user: User | None, document_id: int) -> Document | None:
    """The document if it exists and the user may see it; None either way otherwise."""
    document = db.session.get(Document, document_id)
    if document is None or not can_see(user, document):
        return None
    return document


def visible_document_ids(user: User | None) -> Select[tuple[int]]:
    """A SELECT of the ids of documents the user may see, for `IN (...)` filters on rows
    that hang off documents (evidence links, trail events)."""
    return select(visible_documents(user).subquery().c.id)


def can_see_set(user: User | None, rset: RecommendationSet) -> bool:
    """A set for every inquiry is open to anyone signed in; an inquiry's own set to its
    members (and admins)."""
    if user is None or not getattr(user, "active", False):
        return False
    return rset.inquiry_id is None or rset.inquiry_id in scope_for(user).grants


def can_for_set(user: User | None, action: str, rset: RecommendationSet) -> bool:
    """May the user do `action` on a set's recommendations (any of their inquiries for a
    set that belongs to all)?"""
    return can_see_set(user, rset) and can(user, action, rset.inquiry_id)


def visible_sets(user: User | None) -> list[RecommendationSet]:
    sets = db.session.execute(select(RecommendationSet).order_by(RecommendationSet.id)
                              ).scalars().all()
    return [s for s in sets if can_see_set(user, s)]
