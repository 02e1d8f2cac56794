"""Personal API tokens (domain side; the page lives in web/account.py, the API in web/api.py).

A token is `idk_` followed by 32 random bytes, URL-safe base64. Only its SHA-256 is stored:
the secret has 256 bits of entropy, so a slow hash adds nothing, and looking a token up by
its hash compares nothing secret in Python. The secret is shown once, when it is made.

A token works only while it is not revoked, its user is active, and its user's password is
the one they had when it was made: a password change or reset ends every token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ..db import db
from ..models import ApiToken, User, utcnow
from . import audit

PREFIX = "idk_"
SECRET_BYTES = 32
MAX_NAME = 100
MAX_TOKEN_LENGTH = 200
MAX_TOKENS_PER_USER = 20
# last_used_at is written at most this often, so busy clients do not write on every call.
TOUCH_EVERY = timedelta(minutes=1)


class TokenError(ValueError):
    """A token cannot be made (bad name, too many tokens, user may not have one)."""


@dataclass(frozen=True)
class Verdict:
    """The outcome of checking a presented token: a user, or a refusal with a reason."""

    user: User | None
    token: ApiToken | None
    refusal: str = ""  # "", "unknown", "revoked", "password_changed", "inactive", "must_change"

    @property
    def ok(self) -> bool:
        return self.user is not None and not self.refusal


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def password_stamp(user: User) -> str:
    """Changes whenever the user's password does (the argon2 hash has a fresh salt)."""
    return hashlib.sha256(("api-token:" + user.password_hash).encode()).hexdigest()


def clean_name(name: str) -> str:
    return " ".join(name.split())[:MAX_NAME]


def live(token: ApiToken) -> bool:
    """Not revoked and made under the user's current password."""
    return token.revoked_at is None and hmac.compare_digest(
        token.password_stamp, password_stamp(token.user)
    )


def state(token: ApiToken) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if not live(token):
        return "password_changed"
    return "active"


def for_user(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones included, for the record)."""
    return list(
        db.session.execute(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
        ).scalars()
    )


def create(
    user: User, name: str, *, by: User | None = None, channel: str = "web"
) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns the row and the secret (shown once, never stored)."""
    name = clean_name(name)
    if not name:
        raise TokenError("Enter a name for the token")
    if not user.active:
        raise TokenError("This user is deactivated")
    if user.must_change_password:
        raise TokenError("This user must change their password before using the API")
    active = sum(1 for t in for_user(user) if live(t))
    if active >= MAX_TOKENS_PER_USER:
        raise TokenError(f"Revoke a token first: each person may have {MAX_TOKENS_PER_USER}")
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=digest(secret),
        hint=secret[: len(PREFIX) + 4],
        password_stamp=password_stamp(user),
        created_at=utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token_created",
        user=by or user,
        object_type="api_token",
        object_id=token.id,
        owner=user.email,
        name=name,
        channel=channel,
    )
    db.session.commit()
    return token, secret


def get_own(user: User, token_id: int) -> ApiToken | None:
    """One of the user's own tokens; None for anyone else's (or none at all)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        return None
    return token


def revoke(token: ApiToken, *, by: User | None = None, channel: str = "web") -> bool:
    """Stop a token working; False if it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    audit.record(
        "token_revoked",
        user=by or token.user,
        object_type="api_token",
        object_id=token.id,
        owner=token.user.email,
        name=token.name,
        channel=channel,
    )
    db.session.commit()
    return True


def authenticate(presented: str, *, now: datetime | None = None) -> Verdict:
    """Check a bearer token. Refusals are audited by the caller, never with the secret."""
    if (
        not presented.startswith(PREFIX)
        or len(presented) > MAX_TOKEN_LENGTH
        or not presented.isascii()
    ):
        return Verdict(None, None, "unknown")
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == digest(presented))
    ).scalar()
    if token is None:
        return Verdict(None, None, "unknown")
    user = token.user
    if token.revoked_at is not None:
        return Verdict(None, token, "revoked")
    if not user.active:
        return Verdict(None, token, "inactive")
    if not live(token):
        return Verdict(None, token, "password_changed")
    if user.must_change_password:
        return Verdict(user, token, "must_change")
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        token.last_used_at = now
        db.session.commit()
    return Verdict(user, token)


def find_user(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar()
