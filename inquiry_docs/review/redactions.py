"""Redactions: boxes over parts of pages, proposed by one legal user and approved by another.

Nothing here changes an original or its text; a redaction is a row applied when a page
image, page text or PDF is made for someone who may see only the redacted version
(review/redacted.py). Every change records an audit event in its transaction. A change
to an approved redaction sends it back for approval.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..access import audit, permissions
from ..db import db
from ..evidence import page_images
from ..models import (
    APPROVED,
    PROPOSED,
    REDACTION_REASONS,
    Document,
    Redaction,
    User,
    utcnow,
)

MIN_SIZE = 0.002  # a box smaller than this (a fifth of a percent of the page) is a slip
MAX_PER_DOCUMENT = 20_000
REASONS = {k: v for k, v in REDACTION_REASONS.items() if k}


@dataclass
class Box:
    """A box on one page, in fractions of the page from the top left corner."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    def normalised(self) -> Box:
        x0, x1 = sorted((min(max(self.x0, 0.0), 1.0), min(max(self.x1, 0.0), 1.0)))
        y0, y1 = sorted((min(max(self.y0, 0.0), 1.0), min(max(self.y1, 0.0), 1.0)))
        return Box(self.page, round(x0, 5), round(y0, 5), round(x1, 5), round(y1, 5))


@dataclass
class Reason:
    code: str
    restriction_ref: str = ""


def parse_percent(left: str, top: str, width: str, height: str, page: str
                  ) -> tuple[Box | None, dict[str, str]]:
    """A box from the form's percentages of the page (what the no-JavaScript form asks)."""
    errors: dict[str, str] = {}
    values = []
    for name, raw in (("left", left), ("top", top), ("width", width), ("height", height)):
        try:
            value = float(raw.strip().rstrip("%"))
        except (ValueError, AttributeError):
            errors[name] = f"Enter the box's {name} as a percentage of the page, like 12.5"
            continue
        if not 0 <= value <= 100 or value != value:
            errors[name] = f"Enter the box's {name} between 0 and 100"
        values.append(value / 100)
    number = page.strip() if isinstance(page, str) else ""
    if not number.isdigit():
        errors["page"] = "Enter the page number"
    if errors:
        return None, errors
    x, y, w, h = values
    return Box(int(number), x, y, x + w, y + h), {}


def validate(document: Document, box: Box | None, reason: Reason) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not page_images.has_images(document):
        errors["page"] = "Redactions are drawn on page images; this document has none"
    elif box is not None:
        if not 1 <= box.page <= document.page_count:
            errors["page"] = f"Enter a page between 1 and {document.page_count}"
        clean = box.normalised()
        if clean.x1 - clean.x0 < MIN_SIZE or clean.y1 - clean.y0 < MIN_SIZE:
            errors["width"] = "Make the box wider and taller: it covers almost nothing"
        elif box.x1 > 1.0001 or box.y1 > 1.0001:
            errors["width"] = "The box goes past the edge of the page"
    errors.update(validate_reason(reason))
    return errors


def validate_reason(reason: Reason) -> dict[str, str]:
    errors = {}
    if reason.code not in REASONS:
        errors["reason"] = "Choose the reason for the redaction"
    elif reason.code == "restriction" and not reason.restriction_ref.strip():
        errors["restriction_ref"] = "Enter the restriction order the redaction applies"
    if len(reason.restriction_ref) > 100:
        errors["restriction_ref"] = "Enter a reference of up to 100 characters"
    return errors


def default_reason(document: Document) -> str:
    """The redaction reason the document's coding gives, to start from."""
    from .coding import current

    reason = current(document.id).redaction_reason
    return reason if reason in REASONS else ""


def default_reason_ref(document: Document) -> str:
    """The restriction order of the document (from its marking or coding), to start from."""
    return document.restriction_ref if document.restricted else ""


def _describe(r: Redaction) -> dict:
    return {"redaction": r.id, "page": r.page, "box": [r.x0, r.y0, r.x1, r.y1],
            "reason": r.reason, "restriction_ref": r.restriction_ref, "kind": r.kind,
            "status": r.status}


def _new(user: User, document: Document, box: Box, reason: Reason, kind: str, text: str
         ) -> Redaction:
    clean = box.normalised()
    redaction = Redaction(
        document_id=document.id, page=clean.page, x0=clean.x0, y0=clean.y0, x1=clean.x1,
        y1=clean.y1, reason=reason.code,
        restriction_ref=reason.restriction_ref.strip() if reason.code == "restriction" else "",
        kind=kind, text=text[:2000], status=PROPOSED, author_id=user.id)
    db.session.add(redaction)
    return redaction


def count(document_id: int) -> int:
    return db.session.execute(select(func.count()).select_from(Redaction)
                              .where(Redaction.document_id == document_id)).scalar_one()


def add(user: User, document: Document, box: Box, reason: Reason, kind: str = "box",
        text: str = "") -> Redaction:
    """Propose one redaction (audited)."""
    redaction = _new(user, document, box, reason, kind, text)
    db.session.flush()
    audit.record("redaction_proposed", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 **_describe(redaction))
    db.session.commit()
    return redaction


def add_many(user: User, document: Document, boxes: list[tuple[Box, str]], reason: Reason,
             kind: str) -> list[Redaction]:
    """Propose several redactions on one document (search hits): one audit event."""
    room = MAX_PER_DOCUMENT - count(document.id)
    made = [_new(user, document, box, reason, kind, text) for box, text in boxes[:max(room, 0)]]
    if not made:
        return []
    db.session.flush()
    audit.record("redactions_proposed", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 kind=kind, reason=reason.code, restriction_ref=reason.restriction_ref,
                 redactions=[r.id for r in made], pages=sorted({r.page for r in made}))
    return made


def edit(user: User, redaction: Redaction, box: Box | None, reason: Reason
         ) -> dict[str, list]:
    """Change the box or the reason; an approved redaction goes back for approval."""
    after: dict[str, object] = {"reason": reason.code, "restriction_ref":
                                reason.restriction_ref.strip() if reason.code == "restriction"
                                else ""}
    if box is not None:
        clean = box.normalised()
        after.update(page=clean.page, x0=clean.x0, y0=clean.y0, x1=clean.x1, y1=clean.y1)
    diff = {k: [getattr(redaction, k), v] for k, v in after.items()
            if getattr(redaction, k) != v}
    if not diff:
        return diff
    for key, (_, value) in diff.items():
        setattr(redaction, key, value)
    if redaction.status == APPROVED:
        diff["status"] = [APPROVED, PROPOSED]
        redaction.status, redaction.approved_by_id, redaction.approved_at = PROPOSED, None, None
    redaction.updated_at = utcnow()
    if user.id != redaction.author_id:
        redaction.changed_by_id = user.id
    document = redaction.document
    audit.record("redaction_changed", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 redaction=redaction.id, page=redaction.page, changes=diff)
    db.session.commit()
    return diff


def remove(user: User, redaction: Redaction) -> None:
    document = redaction.document
    audit.record("redaction_removed", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 **_describe(redaction))
    db.session.delete(redaction)
    db.session.commit()


def approve(user: User, redaction: Redaction) -> bool:
    """Approve another user's redaction; False when it was approved already."""
    document = redaction.document
    if not permissions.may_approve_redaction(user, document, redaction.author_id,
                                             redaction.changed_by_id):
        raise PermissionError("A redaction is approved by another legal user than the one "
                              "who proposed or last changed it")
    if redaction.status == APPROVED:
        return False
    redaction.status, redaction.approved_by_id = APPROVED, user.id
    redaction.approved_at = utcnow()
    audit.record("redaction_approved", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 redaction=redaction.id, page=redaction.page, author=redaction.author.email)
    db.session.commit()
    return True


def approve_all(user: User, document: Document) -> int:
    """Approve every proposed redaction on the document that someone else proposed."""
    waiting = [r for r in of_document(document.id) if r.status == PROPOSED
               and permissions.may_approve_redaction(user, document, r.author_id,
                                                         r.changed_by_id)]
    if not waiting:
        return 0
    now = utcnow()
    for redaction in waiting:
        redaction.status, redaction.approved_by_id, redaction.approved_at = APPROVED, user.id, now
    audit.record("redactions_approved", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 redactions=[r.id for r in waiting])
    db.session.commit()
    return len(waiting)


def set_release(user: User, document: Document, redacted: bool) -> bool:
    """Mark (or unmark) the document for redacted release; audited."""
    if document.redacted_release == redacted:
        return False
    audit.record("redacted_release_changed", user=user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 changes={"redacted_release": [document.redacted_release, redacted]})
    document.redacted_release = redacted
    db.session.commit()
    return True


def of_document(document_id: int, page: int | None = None,
                approved_only: bool = False) -> list[Redaction]:
    query = select(Redaction).where(Redaction.document_id == document_id)
    if page is not None:
        query = query.where(Redaction.page == page)
    if approved_only:
        query = query.where(Redaction.status == APPROVED)
    return list(db.session.execute(
        query.order_by(Redaction.page, Redaction.y0, Redaction.x0, Redaction.id)).scalars())


def by_page(redactions: list[Redaction]) -> dict[int, list[Redaction]]:
    out: dict[int, list[Redaction]] = {}
    for redaction in redactions:
        out.setdefault(redaction.page, []).append(redaction)
    return out


def get_visible(user: User | None, redaction_id: int) -> Redaction | None:
    """The redaction when the user may see its document; None either way otherwise."""
    redaction = db.session.get(Redaction, redaction_id)
    if redaction is None or not permissions.can_see(user, redaction.document):
        return None
    return redaction


def pending_counts(document_ids: list[int]) -> dict[int, int]:
    """Proposed (unapproved) redactions per document."""
    if not document_ids:
        return {}
    rows = db.session.execute(
        select(Redaction.document_id, func.count()).where(
            Redaction.document_id.in_(document_ids), Redaction.status == PROPOSED)
        .group_by(Redaction.document_id))
    return dict(rows.all())
