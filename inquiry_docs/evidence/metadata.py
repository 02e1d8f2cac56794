"""Editing a document's descriptive metadata (domain side; audited, then re-indexed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..access import audit
from ..db import db
from ..models import DOC_TYPES, MARKINGS, Document, Status, User
from ..search import backend
from . import dates
from .indexing import enqueue_index

EDITABLE = ("title", "doc_type", "source", "document_date")


@dataclass
class Changes:
    title: str
    doc_type: str
    source: str
    document_date: datetime | None


def parse_date(day: str, month: str, year: str) -> tuple[datetime | None, str]:
    """A date from the three GOV.UK date fields; all empty means 'not known'."""
    if not (day.strip() or month.strip() or year.strip()):
        return None, ""
    try:
        value = datetime(int(year), int(month), int(day))
    except ValueError:
        return None, "Enter a real date, for example 27 3 2014"
    if not 1900 <= value.year <= 2100:
        return None, "The year must be between 1900 and 2100"
    return value, ""


def validate(changes: Changes) -> dict[str, str]:
    errors = {}
    if not changes.title.strip() or len(changes.title) > 500:
        errors["title"] = "Enter a title of up to 500 characters"
    if changes.doc_type not in DOC_TYPES:
        errors["doc_type"] = "Choose a document type"
    if len(changes.source) > 200:
        errors["source"] = "Enter a source of up to 200 characters"
    return errors


def apply(document: Document, changes: Changes, user: User) -> dict[str, tuple]:
    """Save the changes with before/after in the audit trail; queue a re-index."""
    diff = stage(document, changes, user)
    if diff:
        commit_and_reindex(document)
    return diff


def apply_many(edits: list[tuple[Document, Changes]], user: User) -> list[Document]:
    """apply() for several documents in one transaction and one index request (an upload's
    files edited together); the documents that changed."""
    changed = [document for document, changes in edits if stage(document, changes, user)]
    if changed:
        commit_and_reindex(*changed)
    return changed


def stage(document: Document, changes: Changes, user: User) -> dict[str, tuple]:
    """Apply and audit the changes in the current transaction; the caller commits."""
    diff = {}
    for field in EDITABLE:
        before, after = getattr(document, field), getattr(changes, field)
        if field in ("title", "source"):
            after = after.strip()
        if before != after:
            diff[field] = (before, after)
            setattr(document, field, after)
    if not diff:
        return diff
    if "document_date" in diff:  # a person chose it (or cleared it)
        before = document.date_source
        document.date_source = dates.MANUAL if document.document_date else None
        diff["date_source"] = (before, document.date_source)
    audit.record("metadata_changed", user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn,
                 changes={k: [str(b) if b is not None else None,
                              str(a) if a is not None else None] for k, (b, a) in diff.items()})
    return diff


@dataclass
class Marking:
    marking: str
    restricted: bool
    restriction_ref: str
    restriction_reason: str


def validate_marking(change: Marking) -> dict[str, str]:
    errors = {}
    if change.marking not in MARKINGS:
        errors["marking"] = "Choose a marking"
    if change.restricted and not change.restriction_ref.strip():
        errors["restriction_ref"] = "Enter the restriction order reference"
    if len(change.restriction_ref) > 100:
        errors["restriction_ref"] = "Enter a reference of up to 100 characters"
    return errors


def set_marking(document: Document, change: Marking, user: User) -> dict[str, tuple]:
    """Change the marking or restriction order; the index is refreshed so search agrees."""
    diff = change_marking(document, change, user)
    if diff:
        commit_and_reindex(document)
    return diff


def change_marking(document: Document, change: Marking, user: User) -> dict[str, tuple]:
    """Apply and audit a marking change in the current transaction; the caller commits."""
    if not change.restricted:
        change.restriction_ref, change.restriction_reason = "", ""
    diff = {}
    for field in ("marking", "restricted", "restriction_ref", "restriction_reason"):
        before, after = getattr(document, field), getattr(change, field)
        if isinstance(after, str):
            after = after.strip()
        if before != after:
            diff[field] = (before, after)
            setattr(document, field, after)
    if not diff:
        return diff
    audit.record("marking_changed", user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn,
                 changes={k: [b, a] for k, (b, a) in diff.items()})
    return diff


def commit_labels(*documents: Document) -> None:
    """Commit a change to these documents' labels (tags, coding, evidence links).

    A backend that reads labels from their tables at search time (tantivy, PostgreSQL)
    needs nothing more; Whoosh holds them as terms of each page, so there the indexer
    rewrites the documents. Either way their text stays searchable and their status (what
    the badge says) is left alone: only `labels_stale` asks for the rewrite.
    """
    if not backend().labels_in_index:
        db.session.commit()
        return
    stale = False
    for document in documents:
        if document.status == Status.INDEXED:
            document.labels_stale = True
            stale = True
    db.session.commit()
    if stale:
        enqueue_index()


def commit_and_reindex(*documents: Document) -> None:
    """Commit the change, then let the indexer refresh the searchable documents.

    Every document change (details, marking, tags, coding) ends here, so search agrees
    with the database once the single index writer has run.
    """
    search = backend()
    if search.transactional:
        # Filters are read from their tables at search time; only a new title changes
        # what is indexed, and it is rewritten in this transaction.
        search.refresh([d.id for d in documents if d.status == Status.INDEXED])
        db.session.commit()
        return
    reindex = False
    for document in documents:
        if document.status == Status.INDEXED:
            document.status = Status.INDEXING
            reindex = True
    db.session.commit()
    if reindex:
        enqueue_index()
