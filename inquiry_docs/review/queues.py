"""Review queues, and previous/next through a queue or a search's results."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from ..access import permissions
from ..db import db
from ..models import PROPOSED, Coding, Document, Redaction, User
from .selection import Selection, resolve

QUEUES = {
    "mine": "Assigned to me",
    "unreviewed": "Not yet reviewed",
    "second": "Needs second review",
    "redactions": "Redactions to approve",
}
MAX_QUEUE = 10_000


def queue_ids(user: User | None, name: str) -> list[int]:
    """The documents in one of the user's queues that they may see, oldest first."""
    query = (permissions.visible_documents(user).with_only_columns(Document.id)
             .outerjoin(Coding, Coding.document_id == Document.id))
    if name == "mine":
        if user is None:
            return []
        query = query.where(Coding.reviewer_id == user.id,
                            Coding.review_status != "done")
    elif name == "unreviewed":
        query = query.where(or_(Coding.id.is_(None), Coding.relevance == "not_reviewed"))
    elif name == "second":
        query = query.where(Coding.review_status == "second_review")
    elif name == "redactions":
        query = query.where(Document.id.in_(
            select(Redaction.document_id).where(Redaction.status == PROPOSED)))
    else:
        return []
    return list(db.session.execute(query.order_by(Document.id).limit(MAX_QUEUE)).scalars())


@dataclass
class Position:
    """Where a document sits in the list being worked through."""

    index: int  # from 0; -1 when the document is not (or no longer) in the list
    total: int
    previous: int | None
    next: int | None


def position(ids: list[int], document_id: int) -> Position:
    if document_id not in ids:
        return Position(-1, len(ids), None, ids[0] if ids else None)
    at = ids.index(document_id)
    return Position(at, len(ids), ids[at - 1] if at else None,
                    ids[at + 1] if at + 1 < len(ids) else None)


def context_ids(user: User | None, queue: str, selection: Selection) -> list[int]:
    """The ordered documents of a queue, or of a search's whole result set."""
    if queue:
        return queue_ids(user, queue)
    if selection.query:
        return resolve(user, selection)[0]
    return []
