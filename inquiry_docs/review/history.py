"""A document's history, read from the audit trail: who changed what, when, from and to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..db import db
from ..models import PRIVILEGE, REDACTION_REASONS, RELEVANCE, REVIEW_STATUS, AuditEvent

ACTIONS = {
    "metadata_changed": "Details",
    "marking_changed": "Marking",
    "coding_changed": "Coding",
    "tag_added": "Tag added",
    "tag_removed": "Tag removed",
    "note_added": "Note added",
    "note_edited": "Note edited",
}
MAX_EVENTS = 500
# Coded values are shown by their labels.
LABELS = {"relevance": RELEVANCE, "privilege": PRIVILEGE, "review_status": REVIEW_STATUS,
          "redaction_reason": REDACTION_REASONS}


@dataclass
class Entry:
    at: datetime
    actor: str
    action: str
    field: str
    before: str
    after: str


def _text(value: object, field: str = "") -> str:
    labels = LABELS.get(field, {})
    if isinstance(value, str) and value in labels and value:
        return labels[value]
    if value is None or value == "":
        return "\u2013"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)


def of_document(document_id: int) -> list[Entry]:
    """Newest first, one entry per changed field."""
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.object_type == "document",
                                 AuditEvent.object_id == str(document_id),
                                 AuditEvent.action.in_(ACTIONS))
        .order_by(AuditEvent.id.desc()).limit(MAX_EVENTS)).scalars()
    entries = []
    for event in events:
        details = json.loads(event.details or "{}")
        changes = details.get("changes") or {}
        for field, pair in changes.items():
            before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            entries.append(Entry(event.at, event.actor, ACTIONS[event.action],
                                 field.replace("_", " "), _text(before, field),
                                 _text(after, field)))
    return entries
