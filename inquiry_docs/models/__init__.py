"""Database tables. The database is the source of truth; the index is derived from it."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Status(enum.StrEnum):
    RECEIVED = "received"
    EXTRACTING = "extracting"
    INDEXING = "indexing"
    INDEXED = "indexed"
    NO_TEXT = "no_text"
    FAILED = "failed"


STATUS_LABELS = {
    Status.RECEIVED: "Received",
    Status.EXTRACTING: "Reading text",
    Status.INDEXING: "Indexing",
    Status.INDEXED: "Searchable",
    Status.NO_TEXT: "No text found",
    Status.FAILED: "Failed",
}

DOC_TYPES = {
    "witness_statement": "Witness statement",
    "exhibit": "Exhibit",
    "transcript": "Transcript",
    "submission": "Submission",
    "report": "Report",
    "correspondence": "Correspondence",
    "other": "Other",
}

ROLES = ("secretariat", "legal", "researcher", "reader")
MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")


class Inquiry(db.Model):
    __tablename__ = "inquiries"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The last URN number handed out; only ever increases, so URNs are never reused.
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last time step whose code was accepted; older and equal steps are refused.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # argon2 hashes of unused one-time recovery codes, as a JSON list
    recovery_codes: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    memberships: Mapped[list[Membership]] = relationship(back_populates="user",
                                                         order_by="Membership.id")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "inquiry_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"))
    role: Mapped[str] = mapped_column(String(20))
    clearance: Mapped[str] = mapped_column(String(30), default="OFFICIAL")
    # May see documents under a restriction order (s.19 Inquiries Act 2005).
    restricted_access: Mapped[bool] = mapped_column(Boolean, default=False)
    user: Mapped[User] = relationship(back_populates="memberships")
    inquiry: Mapped[Inquiry] = relationship()


class UserSession(db.Model):
    """One signed-in browser; deleting the row ends it everywhere at once."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User] = relationship()


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("inquiry_id", "sha256"),
        # Access at search time reads these four for every document in reach: from this
        # index alone, without the wide rows (PostgreSQL search joins it per statement).
        Index("ix_documents_access", "inquiry_id", "marking", "restricted", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    urn: Mapped[str] = mapped_column(String(9), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    original_filename: Mapped[str] = mapped_column(String(500))
    mime: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    page_label: Mapped[str] = mapped_column(String(10), default="page")
    document_date: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    author: Mapped[str | None] = mapped_column(String(300), nullable=True)
    doc_type: Mapped[str] = mapped_column(String(30), default="other")
    source: Mapped[str] = mapped_column(String(200), default="")
    marking: Mapped[str] = mapped_column(String(30), default="OFFICIAL")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    restriction_ref: Mapped[str] = mapped_column(String(100), default="")
    restriction_reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=Status.RECEIVED, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # OCR progress while the job reads scanned pages: pages done of pages to read.
    ocr_done: Mapped[int] = mapped_column(Integer, default=0)
    ocr_total: Mapped[int] = mapped_column(Integer, default=0)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    inquiry: Mapped[Inquiry] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
    parent: Mapped[Document | None] = relationship(remote_side=[id], back_populates="children")
    # Ordered: without ORDER BY, PostgreSQL returns rows in whatever order updates left them.
    children: Mapped[list[Document]] = relationship(back_populates="parent",
                                                    order_by="Document.id")
    receipts: Mapped[list[Receipt]] = relationship(
        back_populates="document", order_by="Receipt.id"
    )

    @property
    def status_label(self) -> str:
        if self.status == Status.EXTRACTING and self.ocr_total:
            return f"Reading text (OCR) {self.ocr_done}/{self.ocr_total}"
        return STATUS_LABELS.get(Status(self.status), self.status)

    @property
    def type_label(self) -> str:
        return DOC_TYPES.get(self.doc_type, self.doc_type)


class Page(db.Model):
    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("document_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # The text came from OCR of the page image, with Tesseract's mean word confidence
    # (0-100; None when OCR found no words).
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)


class Receipt(db.Model):
    """Provenance: each time a file arrived, from whom and how (duplicates included)."""

    __tablename__ = "receipts"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    channel: Mapped[str] = mapped_column(String(20))  # web, cli, email attachment
    duplicate: Mapped[bool] = mapped_column(Boolean, default=False)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id"), nullable=True)
    document: Mapped[Document] = relationship(back_populates="receipts")
    received_by: Mapped[User | None] = relationship()


class Batch(db.Model):
    """One upload of several files, so the uploader can follow each file's progress."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    items: Mapped[list[BatchItem]] = relationship(back_populates="batch", order_by="BatchItem.id")
    inquiry: Mapped[Inquiry] = relationship()


class BatchItem(db.Model):
    __tablename__ = "batch_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20))  # received, duplicate, rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    batch: Mapped[Batch] = relationship(back_populates="items")
    document: Mapped[Document | None] = relationship()


class AuditEvent(db.Model):
    """Append-only; each row's hash covers the previous row's hash (see audit.py)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor: Mapped[str] = mapped_column(String(254), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(30), default="")
    object_id: Mapped[str] = mapped_column(String(60), default="", index=True)
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id"), nullable=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class ApiToken(db.Model):
    """A personal API token. Only the SHA-256 of the secret is kept; the secret is shown
    once. A token stops working when revoked, when its user is deactivated, and when its
    user's password changes (password_stamp no longer matches)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so a person can tell their tokens apart.
    hint: Mapped[str] = mapped_column(String(12))
    password_stamp: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user: Mapped[User] = relationship()


class BatchSearch(db.Model):
    """A list of searches run in the background as the user who submitted it."""

    __tablename__ = "batch_searches"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="queued")  # running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user: Mapped[User] = relationship()
    inquiry: Mapped[Inquiry | None] = relationship()
    lines: Mapped[list[BatchSearchLine]] = relationship(
        back_populates="batch_search", order_by="BatchSearchLine.position"
    )


class BatchSearchLine(db.Model):
    """One query of a batch search and, once run, what it found."""

    __tablename__ = "batch_search_lines"
    __table_args__ = (UniqueConstraint("batch_search_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_search_id: Mapped[int] = mapped_column(ForeignKey("batch_searches.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    query: Mapped[str] = mapped_column(String(500))
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
    documents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The best matching documents as a JSON list of [document id, URN].
    top: Mapped[str] = mapped_column(Text, default="[]")
    error: Mapped[str] = mapped_column(Text, default="")
    notice: Mapped[str] = mapped_column(Text, default="")
    batch_search: Mapped[BatchSearch] = relationship(back_populates="lines")


class SavedSearch(db.Model):
    """A search a user named and kept; shared ones are visible to that inquiry's members."""

    __tablename__ = "saved_searches"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    query: Mapped[str] = mapped_column(String(1000))
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id"), nullable=True,
                                                   index=True)
    # The other search-page parameters, as a JSON object of name -> list of values.
    filters: Mapped[str] = mapped_column(Text, default="{}")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User] = relationship()
    inquiry: Mapped[Inquiry | None] = relationship()


class SavedSearchRun(db.Model):
    """When one user last ran one saved search, for "new since you last ran it"."""

    __tablename__ = "saved_search_runs"
    __table_args__ = (UniqueConstraint("user_id", "saved_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    saved_id: Mapped[int] = mapped_column(ForeignKey("saved_searches.id"), index=True)
    last_run_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


STANCES = {
    "supports": "Supports",
    "challenges": "Challenges",
    "context": "Context",
    "implementation": "Implementation",
}
RESPONSES = {
    "not_yet_responded": "Not yet responded",
    "accepted": "Accepted",
    "accepted_in_part": "Accepted in part",
    "rejected": "Rejected",
    "under_consideration": "Under consideration",
}
RAG = {"": "Not assessed", "red": "Red", "amber": "Amber", "green": "Green"}


class RecommendationSet(db.Model):
    """A list of recommendations (a report's, an audit's, a local inquiry's own)."""

    __tablename__ = "recommendation_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    # None: the set belongs to every inquiry; else only that inquiry's members see it.
    inquiry_id: Mapped[int | None] = mapped_column(ForeignKey("inquiries.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    inquiry: Mapped[Inquiry | None] = relationship()
    recommendations: Mapped[list[Recommendation]] = relationship(
        back_populates="set", order_by="Recommendation.position")


class Recommendation(db.Model):
    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("set_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("recommendation_sets.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300))
    part: Mapped[str] = mapped_column(String(50), default="")
    addressee: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")  # the official wording, imported
    keywords: Mapped[str] = mapped_column(Text, default="")  # comma-separated, curated
    response: Mapped[str] = mapped_column(String(30), default="not_yet_responded")
    rag: Mapped[str] = mapped_column(String(10), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    set: Mapped[RecommendationSet] = relationship(back_populates="recommendations")


class EvidenceLink(db.Model):
    """A page (and optionally a quoted passage on it) that bears on a recommendation."""

    __tablename__ = "evidence_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"),
                                                   index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    page: Mapped[int] = mapped_column(Integer)
    stance: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    quote: Mapped[str] = mapped_column(Text, default="")
    # Character offsets of the quote in the page text (None when no passage was chosen).
    quote_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quote_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    recommendation: Mapped[Recommendation] = relationship()
    document: Mapped[Document] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def stance_label(self) -> str:
        return STANCES.get(self.stance, self.stance)


class RejectedSuggestion(db.Model):
    """A suggested page a researcher said does not bear on the recommendation."""

    __tablename__ = "rejected_suggestions"
    __table_args__ = (UniqueConstraint("recommendation_id", "document_id", "page"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"),
                                                   index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    page: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RecommendationNote(db.Model):
    __tablename__ = "recommendation_notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"),
                                                   index=True)
    text: Mapped[str] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User | None] = relationship()


class TrailEvent(db.Model):
    """One dated step in a recommendation's implementation, optionally with a document."""

    __tablename__ = "trail_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id"),
                                                   index=True)
    happened_on: Mapped[datetime] = mapped_column(DateTime)
    what: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    document: Mapped[Document | None] = relationship()


# --- legal review ------------------------------------------------------------------------

TAG_COLOURS = ("grey", "blue", "green", "yellow", "orange", "red", "purple", "pink",
               "turquoise")
RELEVANCE = {"not_reviewed": "Not reviewed", "relevant": "Relevant",
             "partly_relevant": "Partly relevant", "not_relevant": "Not relevant"}
PRIVILEGE = {"none": "None", "legal_advice": "Legal advice privilege",
             "litigation": "Litigation privilege"}
REVIEW_STATUS = {"to_do": "To do", "in_progress": "In progress", "done": "Done",
                 "second_review": "Second review"}
# Why pages need redacting; the codes are the ones used in disclosure schedules.
REDACTION_REASONS = {"": "Not given", "pii": "Personal data of a third party",
                     "victim": "Identifies a victim or survivor",
                     "restriction": "Covered by a restriction order",
                     "irrelevant": "Irrelevant and sensitive",
                     "privilege": "Privileged"}


class Tag(db.Model):
    """A label a legal team puts on documents of one inquiry."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("inquiry_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    colour: Mapped[str] = mapped_column(String(20), default="grey")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    inquiry: Mapped[Inquiry] = relationship()


class DocumentTag(db.Model):
    __tablename__ = "document_tags"
    __table_args__ = (UniqueConstraint("document_id", "tag_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)
    tag: Mapped[Tag] = relationship()


class Coding(db.Model):
    """A document's review coding; no row means nothing has been coded yet."""

    __tablename__ = "codings"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    relevance: Mapped[str] = mapped_column(String(20), default="not_reviewed")
    privilege: Mapped[str] = mapped_column(String(20), default="none")
    redaction_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    redaction_pages: Mapped[str] = mapped_column(String(200), default="")
    redaction_reason: Mapped[str] = mapped_column(String(20), default="")
    review_status: Mapped[str] = mapped_column(String(20), default="to_do", index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True,
                                                    index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    reviewer: Mapped[User | None] = relationship()


class Note(db.Model):
    """A remark on one page of a document, optionally quoting text from it."""

    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    page: Mapped[int] = mapped_column(Integer)
    quote: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    author: Mapped[User] = relationship()
    document: Mapped[Document] = relationship()
    revisions: Mapped[list[NoteRevision]] = relationship(order_by="NoteRevision.id")


class NoteRevision(db.Model):
    """An earlier wording of a note, kept when its author edits it."""

    __tablename__ = "note_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id"), index=True)
    quote: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime)


class Bundle(db.Model):
    """A disclosure bundle: a ZIP of originals with an index and a manifest, built by a job."""

    __tablename__ = "bundles"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The selected document ids as a JSON list, fixed when the bundle was asked for.
    document_ids: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(20), default="queued")  # running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user: Mapped[User] = relationship()
