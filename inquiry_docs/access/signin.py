"""Users, passwords, two-factor and sessions (domain side; the pages live in web/auth.py)."""

from __future__ import annotations

import json
import secrets
import string
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import LoginManager, UserMixin
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..db import db
from ..models import ROLES, Inquiry, Membership, User, UserSession, utcnow
from . import audit, totp, vault

MIN_PASSWORD_LENGTH = 12
RECOVERY_CODE_COUNT = 10
# last_seen is written at most this often, so a busy page does not write on every request.
TOUCH_EVERY = timedelta(minutes=1)
# New recovery codes can be seen (and printed) for this long, or until the user saves them.
CODES_SHOWN_FOR = timedelta(minutes=15)
_hasher = PasswordHasher()
# Recovery codes are random (50 bits), not chosen by people: a light argon2 setting is
# plenty, and keeps checking a code against ten hashes quick.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
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


class PasswordReused(ValueError):
    """The new password is the same as the current one."""


class SignedIn(UserMixin):
    """The user behind one session row; Flask-Login stores only the session id."""

    def __init__(self, user: User, session_id: str) -> None:
        self.user = user
        self.session_id = session_id

    def get_id(self) -> str:
        return self.session_id

    def __getattr__(self, name: str):  # delegate to the User row
        return getattr(self.user, name)


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
    if not _verify(user.password_hash, password) or not user.active:  # same time either way
        return None
    return user


def verify_password(user: User, password: str) -> bool:
    """Re-check a signed-in user's password before a sensitive change."""
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def record_failed_sign_in(email: str) -> None:
    """Audit a refused sign-in with the address tried (never the password)."""
    audit.record("sign_in_failed", actor="anonymous", object_type="user", email=email.strip()[:254])
    db.session.commit()


def needs_second_factor(user: User) -> bool:
    """Administrators always; anyone else who turned two-factor on."""
    return bool(user.is_admin or user.totp_enabled)


def _new_session(user: User) -> SignedIn:
    row = UserSession(id=secrets.token_urlsafe(32), user_id=user.id)
    db.session.add(row)
    return SignedIn(user, row.id)


def start_session(user: User) -> SignedIn:
    """A new server-side session; call only once every factor has been checked."""
    signed_in = _new_session(user)
    audit.record("sign_in", user=user, object_type="user", object_id=user.id)
    db.session.commit()
    return signed_in


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


def resume_session(
    session_id: str, *, idle: timedelta, now: datetime | None = None
) -> tuple[SignedIn | None, bool]:
    """The signed-in user behind a session id, and whether it just ended for being idle.

    An idle session's row is deleted, so the same cookie never works again. `last_seen`
    is updated at most once every TOUCH_EVERY.
    """
    row = db.session.get(UserSession, session_id)
    if row is None or not row.user.active:
        return None, False
    now = now or utcnow()
    if now - row.last_seen > idle:
        user = row.user
        db.session.delete(row)
        audit.record(
            "session_expired",
            user=user,
            object_type="user",
            object_id=user.id,
            idle_minutes=int(idle.total_seconds() // 60),
        )
        db.session.commit()
        return None, True
    if now - row.last_seen >= TOUCH_EVERY:
        row.last_seen = now
        db.session.commit()
    return SignedIn(row.user, row.id), False


# ---- passwords ----


def change_password(
    user: User, new_password: str, *, current_session_id: str | None = None
) -> SignedIn | None:
    """Set a new password chosen by the user.

    Ends every session of the user; when `current_session_id` is given, that browser gets
    a fresh session (returned) so it stays signed in under a new id.
    """
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters.")
    if _verify(user.password_hash, new_password):
        raise PasswordReused("Your new password must be different from your current one.")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    ended = end_all_sessions(user)
    signed_in = _new_session(user) if current_session_id else None
    audit.record(
        "password_changed", user=user, object_type="user", object_id=user.id, sessions_ended=ended
    )
    db.session.commit()
    return signed_in


def reset_password(user: User, by: User | None = None) -> str:
    """Give the user a one-time password they must change at their next sign-in.

    Ends all of the user's sessions and audits the reset; returns the password to pass on.
    """
    password = generate_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    ended = end_all_sessions(user)
    audit.record(
        "password_reset",
        user=by,
        object_type="user",
        object_id=user.id,
        email=user.email,
        sessions_ended=ended,
    )
    db.session.commit()
    return password


# ---- two-factor ----


def begin_totp_enrolment(user: User) -> str:
    """A new secret waiting for its first code; two-factor stays off until confirmed."""
    if user.totp_enabled:
        raise ValueError("Two-factor authentication is already on for this user.")
    secret = totp.generate_secret()
    user.totp_secret = secret  # stored encrypted (access/vault.py)
    db.session.commit()
    return secret


def _claim_step(user: User, code: str, now: float | None) -> bool:
    """Accept a code at most once: the step is stored only if it is newer than the last."""
    if not user.has_totp_secret:
        return False
    step = totp.verify(user.totp_secret, code, now=now, last_step=user.totp_last_step)
    if step is None:
        return False
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # a parallel request used this code first
        db.session.rollback()
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def confirm_totp_enrolment(user: User, code: str, *, now: float | None = None) -> list[str] | None:
    """Turn two-factor on if the code matches the pending secret; returns recovery codes."""
    if user.totp_enabled or not user.has_totp_secret or not _claim_step(user, code, now):
        return None
    user.totp_enabled = True
    codes = _set_recovery_codes(user)
    audit.record("two_factor_enabled", user=user, object_type="user", object_id=user.id)
    db.session.commit()
    return codes


def check_totp(user: User, code: str, *, now: float | None = None) -> bool:
    """A sign-in code; each code works once. Failures are audited."""
    if user.totp_enabled and _claim_step(user, code, now):
        db.session.commit()
        return True
    audit.record(
        "two_factor_failed", user=user, object_type="user", object_id=user.id, method="code"
    )
    db.session.commit()
    return False


def _normalise_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _set_recovery_codes(user: User) -> list[str]:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
    codes = [
        "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    user.recovery_codes = json.dumps(
        [_code_hasher.hash(_normalise_recovery_code(c)) for c in codes]
    )
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Replace all recovery codes; the old ones stop working. Returns the new ones."""
    if not user.totp_enabled:
        raise ValueError("Two-factor authentication is off for this user.")
    codes = _set_recovery_codes(user)
    audit.record("recovery_codes_replaced", user=user, object_type="user", object_id=user.id)
    db.session.commit()
    return codes


def hold_codes_for_showing(session_id: str, codes: list[str],
                           now: datetime | None = None) -> None:
    """Keep new recovery codes, sealed, for this session's codes page (and its printable
    view) until the user says they are saved, for CODES_SHOWN_FOR at most."""
    row = db.session.get(UserSession, session_id)
    if row is None:
        return
    row.sealed_codes = vault.seal(json.dumps(codes))
    row.codes_until = (now or utcnow()) + CODES_SHOWN_FOR
    db.session.commit()


def codes_to_show(session_id: str, now: datetime | None = None) -> list[str] | None:
    """The codes held for this session, or None: never held, saved, or held too long."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.sealed_codes is None:
        return None
    if row.codes_until is None or (now or utcnow()) > row.codes_until:
        forget_codes(session_id)
        return None
    try:
        return json.loads(vault.unseal(row.sealed_codes))
    except Exception:  # a rotated or missing key: they cannot be shown, nor kept
        forget_codes(session_id)
        return None


def forget_codes(session_id: str, saved: bool = False) -> None:
    """Drop the held codes: they are never shown again."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.sealed_codes is None:
        return
    row.sealed_codes, row.codes_until = None, None
    if saved:
        audit.record("recovery_codes_saved", user=row.user, object_type="user",
                     object_id=row.user_id)
    db.session.commit()


def recovery_codes_left(user: User) -> int:
    return len(json.loads(user.recovery_codes or "[]"))


def use_recovery_code(user: User, code: str) -> bool:
    """A recovery code instead of a sign-in code; each one works exactly once."""
    entered = _normalise_recovery_code(code)[:40]
    stored = user.recovery_codes or "[]"
    hashes = json.loads(stored)
    match = None
    if user.totp_enabled and entered:
        match = next((h for h in hashes if _verify(h, entered)), None)
    if match is not None:
        remaining = json.dumps([h for h in hashes if h != match])
        # Compare-and-set, so two requests cannot both spend the same code.
        used = db.session.execute(
            update(User)
            .where(User.id == user.id, User.recovery_codes == stored)
            .values(recovery_codes=remaining)
            .execution_options(synchronize_session=False)
        ).rowcount
        if used == 1:
            set_committed_value(user, "recovery_codes", remaining)
            audit.record(
                "recovery_code_used",
                user=user,
                object_type="user",
                object_id=user.id,
                codes_left=len(hashes) - 1,
            )
            db.session.commit()
            return True
        db.session.rollback()
    audit.record(
        "two_factor_failed",
        user=user,
        object_type="user",
        object_id=user.id,
        method="recovery_code",
    )
    db.session.commit()
    return False


def disable_totp(user: User, by: User | None = None) -> None:
    """Turn two-factor off (administrators must keep it: refused for them)."""
    if user.is_admin:
        raise ValueError("Administrators must use two-factor authentication.")
    _clear_totp(user)
    audit.record("two_factor_disabled", user=by or user, object_type="user", object_id=user.id)
    db.session.commit()


def reset_two_factor(user: User, by: User) -> None:
    """For a lost phone: clear the user's two-factor and end their sessions.

    An administrator whose two-factor was reset sets it up again at their next sign-in.
    """
    _clear_totp(user)
    ended = end_all_sessions(user)
    audit.record(
        "two_factor_reset",
        user=by,
        object_type="user",
        object_id=user.id,
        email=user.email,
        sessions_ended=ended,
    )
    db.session.commit()


def _clear_totp(user: User) -> None:
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    user.recovery_codes = "[]"


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
        "user_created",
        user=by,
        object_type="user",
        object_id=user.id,
        inquiry_id=inquiry.id if inquiry else None,
        email=user.email,
        role=role,
    )
    db.session.commit()
    return user, generated
