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
    "redaction_proposed": "Redaction proposed",
    "redactions_proposed": "Redactions proposed",
    "redaction_changed": "Redaction changed",
    "redaction_approved": "Redaction approved",
    "redactions_approved": "Redactions approved",
    "redaction_removed": "Redaction removed",
    "redacted_release_changed": "Release",
}
MAX_EVENTS = 500
# Coded values are shown by their labels.
LABELS = {"relevance": RELEVANCE, "privilege": PRIVILEGE, "review_status": REVIEW_STATUS,
          "redaction_reason": REDACTION_REASONS, "reason": REDACTION_REASONS}


def _pages(details: dict) -> str:
    pages = details.get("pages") or [details.get("page")]
    return ", ".join(str(p) for p in pages if p is not None)


# Redaction events say what was made, approved or removed rather than a field's change.
SUMMARIES = {
    "redaction_proposed": lambda d: ("redaction", None, f"{_text(d.get('reason'), 'reason')}"
                                     f", page {_pages(d)}"),
    "redactions_proposed": lambda d: ("redactions", None, f"{len(d.get('redactions', []))}"
                                      f" ({_text(d.get('reason'), 'reason')}), pages "
                                      f"{_pages(d)}"),
    "redaction_approved": lambda d: ("redaction", "Proposed", f"Approved, page {_pages(d)}"),
    "redactions_approved": lambda d: ("redactions", "Proposed",
                                      f"{len(d.get('redactions', []))} approved"),
    "redaction_removed": lambda d: ("redaction", f"{_text(d.get('reason'), 'reason')}, "
                                    f"page {_pages(d)}", None),
}


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
        if not changes and event.action in SUMMARIES:
            field, before, after = SUMMARIES[event.action](details)
            entries.append(Entry(event.at, event.actor, ACTIONS[event.action], field,
                                 _text(before), _text(after)))
        for field, pair in changes.items():
            before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            entries.append(Entry(event.at, event.actor, ACTIONS[event.action],
                                 field.replace("_", " "), _text(before, field),
                                 _text(after, field)))
    return entries
