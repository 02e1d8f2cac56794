"""A document's near-duplicates as one reader may see them: the other members of its
group that are within the reader's reach, with the similarity where the two were
compared directly. Nothing outside reach is named or counted."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from ..access import permissions
from ..db import db
from ..models import Document, NearDuplicate, TextSignature, User


@dataclass
class Version:
    document: Document
    similarity: float | None  # None: in the same group through another version


def near_duplicates(user: User | None, document: Document) -> list[Version]:
    """Visible members of the document's group, closest first, then by date and URN."""
    cluster = db.session.execute(select(TextSignature.cluster_id).where(
        TextSignature.document_id == document.id)).scalar_one_or_none()
    if cluster is None:
        return []
    members = select(TextSignature.document_id).where(TextSignature.cluster_id == cluster,
                                                      TextSignature.document_id != document.id)
    others = db.session.execute(permissions.visible_documents(user).where(
        Document.id.in_(members))).scalars().all()
    if not others:
        return []
    scores: dict[int, float] = {}
    for low, high, score in db.session.execute(
            select(NearDuplicate.low_id, NearDuplicate.high_id, NearDuplicate.similarity)
            .where(or_(NearDuplicate.low_id == document.id,
                       NearDuplicate.high_id == document.id))):
        scores[high if low == document.id else low] = score
    versions = [Version(other, scores.get(other.id)) for other in others]
    versions.sort(key=lambda v: (-(v.similarity or 0), v.document.document_date is None,
                                 v.document.document_date or v.document.uploaded_at,
                                 v.document.urn))
    return versions
