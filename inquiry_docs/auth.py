"""Users, passwords and sessions (domain side; the sign-in pages live in web/auth.py)."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import LoginManager, UserMixin
from sqlalchemy import delete, func, select

from . import audit
from .db import db
from .models import ROLES, Inquiry, Membership, User, UserSession, utcnow

MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()
# Verifying against this keeps unknown e-mail addresses as slow as known ones.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + "x" * 12)

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Sign in to continue."
login_manager.login_message_category = "info"
# Sessions are ended server-side (UserSession rows); Flask-Login's own check adds nothing.
login_manager.session_protection = None


class PasswordTooShort(ValueError):
    pass


class SignedIn(UserMixin):
    """The user behind one session row; Flask-Login stores only the session id."""

    def __init__(self, user: User, session_id: str) -> None:
        self.user = user
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id

    def __getattr__(self, name: str):  # delegate to the User row
        return getattr(self.user, name)


@login_manager.user_loader
def _load(session_id: str) -> SignedIn | None:
    row = db.session.get(UserSession, session_id)
    if row is None or not row.user.active:
        return None
    return SignedIn(row.user, row.id)


def generate_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters.")
    return _hasher.hash(password)


def check_password(email: str, password: str) -> User | None:
    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar()
    if user is None:
        _verify(_DUMMY_HASH, password)
        return None
    if not user.active or not _verify(user.password_hash, password):
        return None
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def start_session(user: User) -> SignedIn:
    row = UserSession(id=secrets.token_urlsafe(32), user_id=user.id)
    db.session.add(row)
    audit.record("sign_in", user=user, object_type="user", object_id=user.id)
    db.session.commit()
    return SignedIn(user, row.id)


def end_session(session_id: str, user: User) -> None:
    db.session.execute(delete(UserSession).where(UserSession.id == session_id))
    audit.record("sign_out", user=user, object_type="user", object_id=user.id)
    db.session.commit()


def end_all_sessions(user: User) -> int:
    """Sign the user out everywhere (password or role change, deactivation)."""
    result = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    return result.rowcount or 0


def touch(session_id: str) -> None:
    row = db.session.get(UserSession, session_id)
    if row is not None:
        row.last_seen = utcnow()


def create_user(
    email: str,
    *,
    role: str,
    inquiry: Inquiry | None = None,
    password: str | None = None,
    clearance: str = "OFFICIAL",
    by: User | None = None,
) -> tuple[User, str | None]:
    """Create a user; returns the user and the generated one-time password, if any."""
    if role != "admin" and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; choose admin or one of {', '.join(ROLES)}.")
    if role != "admin" and inquiry is None:
        raise ValueError("A member role needs an inquiry (--inquiry CODE).")
    generated = None
    if password is None:
        password = generated = generate_password()
    user = User(
        email=email.strip(),
        password_hash=hash_password(password),
        is_admin=role == "admin",
        must_change_password=generated is not None,
    )
    db.session.add(user)
    db.session.flush()
    if inquiry is not None and role != "admin":
        db.session.add(
            Membership(user_id=user.id, inquiry_id=inquiry.id, role=role, clearance=clearance)
        )
    audit.record(
        "user_created", user=by, object_type="user", object_id=user.id,
        inquiry_id=inquiry.id if inquiry else None, email=user.email, role=role,
    )
    db.session.commit()
    return user, generated
