"""Legal review: tags, coding, notes and disclosure bundles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db
from .accounts import Inquiry, User
from .base import utcnow
from .documents import Document

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
    comment: Mapped[str] = mapped_column(Text, default="")
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
