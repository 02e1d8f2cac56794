"""Near-duplicates: each document's MinHash signature of its text, the LSH buckets that
find its likely versions by lookup, and the pairs found near-identical (derived data,
rebuilt by `inquiry-docs near-duplicates --all`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import db
from .base import utcnow


class TextSignature(db.Model):
    """A document's MinHash signature, and the cluster of versions it belongs to."""

    __tablename__ = "text_signatures"
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"))
    method: Mapped[str] = mapped_column(String(60))  # how it was made; another is recomputed
    shingles: Mapped[int] = mapped_column(Integer)  # distinct word shingles in the text
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    # The smallest document id of its group of near-duplicates; None when it has none.
    cluster_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SignatureBucket(db.Model):
    """One LSH band of a signature, hashed with its inquiry: documents sharing a bucket are
    compared, so a new document is compared by lookup, not against every other."""

    __tablename__ = "signature_buckets"
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True,
                                             index=True)


class NearDuplicate(db.Model):
    """Two documents of one inquiry whose texts are near-identical (low_id < high_id)."""

    __tablename__ = "near_duplicates"
    __table_args__ = (Index("ix_near_duplicates_high_id", "high_id"),)
    low_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    high_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    similarity: Mapped[float] = mapped_column(Float)  # estimated Jaccard of word shingles
