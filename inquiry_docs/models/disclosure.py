"""Disclosure: redactions on pages, productions of redacted documents, and citations
between documents found when text is written."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db
from .accounts import User
from .base import utcnow
from .documents import Document

PROPOSED, APPROVED = "proposed", "approved"
REDACTION_STATUS = {PROPOSED: "Proposed", APPROVED: "Approved"}
# What is printed in a redaction box; a restriction order adds its reference ("RO 2023/4").
REDACTION_CODES = {"pii": "PII", "victim": "VICTIM", "restriction": "RO",
                   "irrelevant": "I&S", "privilege": "LPP"}
REDACTION_KINDS = {"box": "Drawn box", "words": "Selected words", "search": "Search hit"}


class Redaction(db.Model):
    """A box over part of a page, hidden when the document is released or produced.

    The original file and its text are never changed: the box is applied when a page image,
    the text or a PDF is made for someone who may see only the redacted version.
    Coordinates are fractions of the page as shown (0 to 1, from the top left corner).
    """

    __tablename__ = "redactions"
    __table_args__ = (Index("ix_redactions_document_page", "document_id", "page"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    page: Mapped[int] = mapped_column(Integer)
    x0: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(20))
    restriction_ref: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(10), default="box")
    # The words under the box when it was made from words or a search (empty for a drawn box).
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=PROPOSED, index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # Who last changed the box or reason, when someone other than the author did.
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    document: Mapped[Document] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    @property
    def code(self) -> str:
        """The reason code printed in the box."""
        code = REDACTION_CODES.get(self.reason, self.reason.upper())
        return f"{code} {self.restriction_ref}".strip() if self.reason == "restriction" \
            else code

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


class Production(db.Model):
    """Documents produced to a recipient: redacted PDFs stamped with production numbers,
    a load file and a manifest in one ZIP, built by a job."""

    __tablename__ = "productions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    recipient: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(10))
    start: Mapped[int] = mapped_column(Integer, default=1)
    # The chosen document ids as a JSON list, fixed when the production was asked for.
    document_ids: Mapped[str] = mapped_column(Text, default="[]")
    status: Mapped[str] = mapped_column(String(20), default="queued")  # running, done, failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    # Documents the build left out (reach withdrawn, redactions awaiting approval), as text.
    left_out: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user: Mapped[User] = relationship()


class Citation(db.Model):
    """A reference to a document (and page) found in text when the text was saved.

    The source is a page of a document, a note, an evidence link's note, a recommendation
    note, a trail event or a coding comment; the target is kept as a URN, so a citation of a
    document that arrives later is found too.
    """

    __tablename__ = "citations"
    __table_args__ = (Index("ix_citations_source", "source_type", "source_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_type: Mapped[str] = mapped_column(String(20))
    source_id: Mapped[int] = mapped_column(Integer)
    # The document and page the citing text belongs to (None for a recommendation's notes).
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True,
                                                    index=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    recommendation_id: Mapped[int | None] = mapped_column(ForeignKey("recommendations.id"),
                                                          nullable=True)
    target_urn: Mapped[str] = mapped_column(String(9), index=True)
    target_page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    document: Mapped[Document | None] = relationship()
