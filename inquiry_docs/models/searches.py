"""Batch searches and saved searches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db
from .accounts import Inquiry, User
from .base import utcnow


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
