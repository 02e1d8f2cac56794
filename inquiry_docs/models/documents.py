"""Inquiries, documents, their pages, receipts and upload batches."""

from __future__ import annotations

import enum
from datetime import datetime

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
from .accounts import Inquiry, User
from .base import utcnow


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

MARKINGS = ("OFFICIAL", "OFFICIAL-SENSITIVE")



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
    # Where the date came from (evidence/dates.py SOURCES); a date never stands without one.
    date_source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    author: Mapped[str | None] = mapped_column(String(300), nullable=True)
    doc_type: Mapped[str] = mapped_column(String(30), default="other")
    source: Mapped[str] = mapped_column(String(200), default="")
    marking: Mapped[str] = mapped_column(String(30), default="OFFICIAL")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    restriction_ref: Mapped[str] = mapped_column(String(100), default="")
    restriction_reason: Mapped[str] = mapped_column(Text, default="")
    # Released redacted: whoever may not see originals gets the redacted version only.
    redacted_release: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default=Status.RECEIVED, index=True)
    # A searchable document whose tags, coding or links changed since the index last wrote
    # them (an index that holds labels as terms, Whoosh): it stays searchable meanwhile.
    labels_stale: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    # The technical cause behind `reason` (exception, library message): administrators only.
    reason_detail: Mapped[str] = mapped_column(Text, default="", server_default="")
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
    user: Mapped[User | None] = relationship()


class BatchItem(db.Model):
    __tablename__ = "batch_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    filename: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str] = mapped_column(String(20))  # received, duplicate, rejected
    reason: Mapped[str] = mapped_column(Text, default="")
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    # A refused file leaves only this row: its size and when it came (nothing is stored),
    # until someone who may upload dismisses it from Needs attention.
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True,
                                                         default=utcnow)
    dismissed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    dismissed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    batch: Mapped[Batch] = relationship(back_populates="items")
    document: Mapped[Document | None] = relationship()
    dismissed_by: Mapped[User | None] = relationship()
