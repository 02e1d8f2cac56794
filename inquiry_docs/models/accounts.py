"""Inquiries and who belongs to them: users, memberships, sessions, API tokens, and the
audit trail of what they did."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import db
from .base import utcnow


class Inquiry(db.Model):
    __tablename__ = "inquiries"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(3), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # The last URN number handed out; only ever increases, so URNs are never reused.
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


ROLES = ("secretariat", "legal", "researcher", "reader")


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Encrypted under SECRETS_KEY (access/vault.py); read and set it as `totp_secret`.
    sealed_totp_secret: Mapped[str | None] = mapped_column("totp_secret", String(200),
                                                           nullable=True)
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The last time step whose code was accepted; older and equal steps are refused.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # argon2 hashes of unused one-time recovery codes, as a JSON list
    recovery_codes: Mapped[str] = mapped_column(Text, default="[]")
    # The interface language the user chose ("en", "cy"); None follows the browser.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    memberships: Mapped[list[Membership]] = relationship(back_populates="user",
                                                         order_by="Membership.id")

    @property
    def has_totp_secret(self) -> bool:
        """A secret is stored (asking needs no key)."""
        return self.sealed_totp_secret is not None

    @property
    def totp_secret(self) -> str | None:
        """The two-factor secret in the clear, decrypted on use; SecretsKeyError if the
        installation's key does not open it."""
        if self.sealed_totp_secret is None:
            return None
        return current_app.extensions["secrets"].unseal(self.sealed_totp_secret)

    @totp_secret.setter
    def totp_secret(self, value: str | None) -> None:
        self.sealed_totp_secret = (None if value is None
                                   else current_app.extensions["secrets"].seal(value))


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
    # New recovery codes, sealed (access/vault.py), held for this browser only until the
    # user says they are saved or `codes_until` passes: then they are never shown again.
    sealed_codes: Mapped[str | None] = mapped_column(Text, nullable=True)
    codes_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    user: Mapped[User] = relationship()


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
