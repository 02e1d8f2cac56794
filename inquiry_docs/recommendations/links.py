"""Evidence links: a page, optionally a quoted passage on it, bearing on a recommendation
with a stance and a note. Every change is audited and the document re-indexed through the
same step as other document changes, so `rec:13` and the facet follow the links."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Select, select

from ..access import audit, permissions
from ..db import db
from ..evidence import citations
from ..evidence.metadata import commit_labels
from ..models import STANCES, Document, EvidenceLink, Page, Recommendation, User
from . import ref

MAX_NOTE = 5_000
MAX_QUOTE = 5_000


def visible_links(user: User | None) -> Select[tuple[EvidenceLink]]:
    """Links on documents the user may see; nothing else may be listed or counted."""
    return select(EvidenceLink).where(
        EvidenceLink.document_id.in_(permissions.visible_document_ids(user)))


def may_link(user: User | None, rec: Recommendation, document: Document) -> bool:
    """Linking needs the link right in the document's inquiry, sight of the document and of
    the set, and a set that belongs to all inquiries or to the document's own."""
    rset = rec.set
    return (permissions.can_see(user, document)
            and permissions.can(user, "link", document.inquiry_id)
            and permissions.can_see_set(user, rset)
            and rset.inquiry_id in (None, document.inquiry_id))


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where the quote is in the page text, ignoring differences in white space (a browser
    selection joins lines with spaces); None if it is not there."""
    words = quote.split()
    if not words:
        return None
    found = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (found.start(), found.end()) if found else None


@dataclass
class LinkInput:
    page: int | None
    stance: str
    note: str = ""
    quote: str = ""


def validate(document: Document, data: LinkInput) -> tuple[dict[str, str], tuple | None]:
    """Errors by field, and the quote's position on the page when one was given."""
    errors: dict[str, str] = {}
    if data.stance not in STANCES:
        errors["stance"] = "Choose whether the evidence supports, challenges, gives context " \
                           "or shows implementation"
    if data.page is None or not 1 <= data.page <= max(document.page_count, 1):
        errors["page"] = f"Enter a page number from 1 to {max(document.page_count, 1)}"
    if len(data.note) > MAX_NOTE:
        errors["note"] = f"Enter a note of up to {MAX_NOTE} characters"
    position = None
    if data.quote.strip() and "page" not in errors:
        if len(data.quote) > MAX_QUOTE:
            errors["quote"] = f"Quote up to {MAX_QUOTE} characters"
        else:
            text = db.session.execute(select(Page.text).where(
                Page.document_id == document.id, Page.number == data.page)).scalar() or ""
            position = find_quote(text, data.quote)
            if position is None:
                errors["quote"] = f"The quoted text is not on page {data.page}: copy it " \
                                  "from the page"
    return errors, position


def add(user: User, rec: Recommendation, document: Document, data: LinkInput,
        position: tuple[int, int] | None) -> EvidenceLink:
    link = EvidenceLink(recommendation_id=rec.id, document_id=document.id, page=data.page,
                        stance=data.stance, note=data.note.strip(),
                        quote=" ".join(data.quote.split()),
                        quote_start=position[0] if position else None,
                        quote_end=position[1] if position else None, created_by_id=user.id)
    db.session.add(link)
    db.session.flush()
    audit.record("evidence_linked", user=user, object_type="evidence_link", object_id=link.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, page=link.page,
                 recommendation=ref(rec), stance=link.stance, quoted=bool(link.quote))
    citations.record("link", link.id, link.note, document_id=document.id, page=link.page,
                     recommendation_id=rec.id)
    commit_labels(document)
    return link


def update(user: User, link: EvidenceLink, data: LinkInput,
           position: tuple[int, int] | None) -> dict[str, list]:
    after = {"page": data.page, "stance": data.stance, "note": data.note.strip(),
             "quote": " ".join(data.quote.split()),
             "quote_start": position[0] if position else None,
             "quote_end": position[1] if position else None}
    diff = {k: [getattr(link, k), v] for k, v in after.items() if getattr(link, k) != v}
    if not diff:
        return diff
    for key, (_, value) in diff.items():
        setattr(link, key, value)
    audit.record("evidence_link_changed", user=user, object_type="evidence_link",
                 object_id=link.id, inquiry_id=link.document.inquiry_id,
                 urn=link.document.urn, recommendation=ref(link.recommendation),
                 changes={k: v for k, v in diff.items() if k not in ("quote_start", "quote_end")})
    citations.record("link", link.id, link.note, document_id=link.document_id, page=link.page,
                     recommendation_id=link.recommendation_id)
    commit_labels(link.document)
    return diff


def remove(user: User, link: EvidenceLink) -> None:
    document = link.document
    audit.record("evidence_unlinked", user=user, object_type="evidence_link", object_id=link.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, page=link.page,
                 recommendation=ref(link.recommendation), stance=link.stance)
    citations.forget("link", link.id)
    db.session.delete(link)
    commit_labels(document)


def get_visible(user: User | None, link_id: int) -> EvidenceLink | None:
    """The link if it exists and its document is visible to the user; None either way."""
    link = db.session.get(EvidenceLink, link_id)
    if link is None or not permissions.can_see(user, link.document) \
            or not permissions.can_see_set(user, link.recommendation.set):
        return None
    return link


def for_document(user: User | None, document: Document) -> list[EvidenceLink]:
    """A visible document's links, in sets the user may see."""
    links = db.session.execute(
        visible_links(user).where(EvidenceLink.document_id == document.id)
        .order_by(EvidenceLink.page, EvidenceLink.id)).scalars().all()
    return [link for link in links if permissions.can_see_set(user, link.recommendation.set)]


def for_recommendation(user: User | None, rec: Recommendation) -> list[EvidenceLink]:
    return list(db.session.execute(
        visible_links(user).where(EvidenceLink.recommendation_id == rec.id)
        .join(Document, Document.id == EvidenceLink.document_id)
        .order_by(Document.urn, EvidenceLink.page, EvidenceLink.id)).scalars())
