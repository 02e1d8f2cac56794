"""Recommendation sets, recommendations, evidence links and their tracking."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db
from .accounts import Inquiry, User
from .base import utcnow
from .documents import Document

DEFAULT_SET = "iicsa"  # the IICSA final report's set, loaded by `init`

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

    @property
    def ref(self) -> str:
        """How search names it (`rec:13`): its number in the default set,
        `<set code>-<number>` in any other."""
        number = self.number.lower()
        return number if self.set.code == DEFAULT_SET else f"{self.set.code}-{number}"


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
