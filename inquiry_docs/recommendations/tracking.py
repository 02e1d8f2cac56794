"""What happened to a recommendation: the government response, a red/amber/green status, a
dated trail (optionally citing a document), and researchers' notes. All audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..access import audit, permissions
from ..db import db
from ..evidence import citations
from ..models import RAG, RESPONSES, Document, Recommendation, RecommendationNote, TrailEvent, User
from . import ref

MAX_TEXT = 5_000


def validate_status(response: str, rag: str) -> dict[str, str]:
    errors = {}
    if response not in RESPONSES:
        errors["response"] = "Choose the government response"
    if rag not in RAG:
        errors["rag"] = "Choose a status"
    return errors


def set_status(user: User, rec: Recommendation, response: str, rag: str) -> dict[str, list]:
    diff = {k: [getattr(rec, k), v] for k, v in (("response", response), ("rag", rag))
            if getattr(rec, k) != v}
    for key, (_, value) in diff.items():
        setattr(rec, key, value)
    if diff:
        audit.record("recommendation_status_changed", user=user, object_type="recommendation",
                     object_id=rec.id, inquiry_id=rec.set.inquiry_id, recommendation=ref(rec),
                     changes=diff)
    db.session.commit()
    return diff


def validate_event(when: datetime | None, what: str) -> dict[str, str]:
    errors = {}
    if when is None:
        errors["day"] = "Enter the date it happened"
    if not what.strip() or len(what) > MAX_TEXT:
        errors["what"] = f"Say what happened, in up to {MAX_TEXT} characters"
    return errors


def add_event(user: User, rec: Recommendation, when: datetime, what: str,
              document: Document | None) -> TrailEvent:
    event = TrailEvent(recommendation_id=rec.id, happened_on=when, what=what.strip(),
                       document_id=document.id if document else None, user_id=user.id)
    db.session.add(event)
    db.session.flush()
    audit.record("trail_event_added", user=user, object_type="recommendation",
                 object_id=rec.id, inquiry_id=rec.set.inquiry_id, recommendation=ref(rec),
                 event=event.id, on=when.date().isoformat(),
                 urn=document.urn if document else None)
    citations.record("trail", event.id, event.what, recommendation_id=rec.id)
    db.session.commit()
    return event


def trail(rec: Recommendation) -> list[TrailEvent]:
    """The dated trail, oldest first (`cited` names only documents the reader may see)."""
    events = db.session.execute(select(TrailEvent).where(TrailEvent.recommendation_id == rec.id)
                                .order_by(TrailEvent.happened_on, TrailEvent.id)).scalars()
    return list(events)


def cited(user: User | None, event: TrailEvent) -> Document | None:
    return event.document if event.document and permissions.can_see(user, event.document) \
        else None


def add_note(user: User, rec: Recommendation, text: str) -> RecommendationNote:
    note = RecommendationNote(recommendation_id=rec.id, text=text.strip(), user_id=user.id)
    db.session.add(note)
    db.session.flush()
    audit.record("recommendation_note_added", user=user, object_type="recommendation",
                 object_id=rec.id, inquiry_id=rec.set.inquiry_id, recommendation=ref(rec),
                 note=note.id)
    citations.record("rec_note", note.id, note.text, recommendation_id=rec.id)
    db.session.commit()
    return note


def notes(rec: Recommendation) -> list[RecommendationNote]:
    return list(db.session.execute(
        select(RecommendationNote).where(RecommendationNote.recommendation_id == rec.id)
        .order_by(RecommendationNote.id)).scalars())


def set_keywords(user: User, rec: Recommendation, keywords: str) -> bool:
    """The researcher's curated search words for suggestions (comma-separated)."""
    value = ", ".join(k.strip() for k in keywords.split(",") if k.strip())[:2000]
    if value == rec.keywords:
        return False
    audit.record("recommendation_keywords_changed", user=user, object_type="recommendation",
                 object_id=rec.id, inquiry_id=rec.set.inquiry_id, recommendation=ref(rec),
                 changes={"keywords": [rec.keywords, value]})
    rec.keywords = value
    db.session.commit()
    return True
