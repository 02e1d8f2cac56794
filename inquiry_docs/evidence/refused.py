"""Files refused at upload (empty, too large, of a type that is not read).

Nothing of such a file is stored: the upload's own record (its batch item) keeps the name,
size, reason and time, and Needs attention lists it until someone who may upload to that
inquiry dismisses it, so a refusal is not seen only once, on the page after sending.
"""

from __future__ import annotations

from sqlalchemy import select

from ..access import audit, permissions
from ..db import db
from ..models import Batch, BatchItem, User, utcnow

REJECTED = "rejected"  # ingest's outcome for a refused file
LISTED = 500


def waiting(user: User | None) -> list[BatchItem]:
    """Refused files not yet dismissed, in the inquiries the user may upload to (those who
    send files deal with refusals; a reader never sees their names), newest first."""
    inquiry_ids = [i.id for i in permissions.inquiries_where(user, "upload")]
    if not inquiry_ids:
        return []
    return list(db.session.execute(
        select(BatchItem).join(Batch, Batch.id == BatchItem.batch_id)
        .where(BatchItem.outcome == REJECTED, BatchItem.dismissed_at.is_(None),
               Batch.inquiry_id.in_(inquiry_ids))
        .order_by(BatchItem.id.desc()).limit(LISTED)
    ).scalars())


def may_dismiss(user: User | None, item: BatchItem) -> bool:
    return item.outcome == REJECTED and permissions.can(user, "upload", item.batch.inquiry_id)


def find(user: User | None, item_id: int) -> BatchItem | None:
    """The refused file if the user may deal with it; None as for one that does not exist."""
    item = db.session.get(BatchItem, item_id)
    if item is None or not may_dismiss(user, item):
        return None
    return item


def dismiss(item: BatchItem, user: User) -> bool:
    """Take a refused file off Needs attention (audited); False if it was already off."""
    if item.dismissed_at is not None:
        return False
    item.dismissed_at = utcnow()
    item.dismissed_by_id = user.id
    audit.record("refused_file_dismissed", user=user, object_type="batch_item",
                 object_id=item.id, inquiry_id=item.batch.inquiry_id,
                 filename=item.filename, reason=item.reason, batch=item.batch_id)
    db.session.commit()
    return True
