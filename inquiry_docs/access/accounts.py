"""Users and their memberships: the changes an administrator makes, each one audited.

Every function here validates, changes exactly the fields it is about, records an audit
event with the state before and after, and commits both together. A change to what a user
may see (role, clearance, restricted access, membership, administrator rights, deactivation)
ends all of that user's sessions, so the new reach applies from their next sign-in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..db import db
from ..models import MARKINGS, ROLES, Inquiry, Membership, User
from . import audit
from . import signin as auth

ROLE_LABELS = {
    "admin": "Administrator",
    "secretariat": "Secretariat",
    "legal": "Legal",
    "researcher": "Researcher",
    "reader": "Reader",
}
ROLE_HINTS = {
    "admin": "Manages users and inquiries, reads the audit trail, and sees every document",
    "secretariat": "Uploads documents, edits their details and retries files that failed",
    "legal": "Reviews documents: tags, coding, markings and notes",
    "researcher": "Links evidence to recommendations and adds notes",
    "reader": "Reads and searches documents only",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Refused(ValueError):
    """A change that is not allowed; the message is fit to show to the administrator."""


@dataclass
class MembershipFields:
    """What a membership form may set; nothing else is read from a form."""

    role: str
    clearance: str
    restricted_access: bool


def all_users() -> list[User]:
    return list(
        db.session.execute(
            select(User)
            .options(selectinload(User.memberships).selectinload(Membership.inquiry))
            .order_by(func.lower(User.email))
        ).scalars()
    )


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).scalar()


def membership_state(membership: Membership) -> dict[str, Any]:
    return {
        "inquiry": membership.inquiry.code if membership.inquiry else membership.inquiry_id,
        "role": membership.role,
        "clearance": membership.clearance,
        "restricted_access": bool(membership.restricted_access),
    }


def user_state(user: User) -> dict[str, Any]:
    return {"email": user.email, "is_admin": bool(user.is_admin), "active": bool(user.active)}


# ---- validation (shared by the web forms and any other caller) ----


def check_email(email: str) -> str | None:
    if not email:
        return "Enter an email address"
    if len(email) > 254 or not EMAIL.match(email):
        return "Enter an email address in the correct format, like name@example.org"
    if find_by_email(email) is not None:
        return "A user with this email address already exists"
    return None


def check_membership_fields(role: str, clearance: str, restricted: str) -> dict[str, str]:
    """Errors keyed by form field; `restricted` is the raw "yes"/"no" answer."""
    errors = {}
    if role not in ROLES:
        errors["role"] = "Choose a role"
    if clearance not in MARKINGS:
        errors["clearance"] = "Choose a clearance"
    if restricted not in ("yes", "no"):
        errors["restricted_access"] = "Choose whether they may see restricted documents"
    return errors


# ---- changes ----


def create_user(
    email: str,
    *,
    role: str,
    inquiry: Inquiry | None,
    clearance: str = "OFFICIAL",
    restricted_access: bool = False,
    by: User,
) -> tuple[User, str]:
    """A new user with a one-time password they must change; returns both."""
    email = email.strip()
    problem = check_email(email)
    if problem:
        raise Refused(problem)
    if role != "admin":
        if inquiry is None:
            raise Refused("Choose an inquiry for a member role")
        if role not in ROLES or clearance not in MARKINGS:
            raise Refused("Choose a role and a clearance")
    password = auth.generate_password()
    user = User(
        email=email,
        password_hash=auth.hash_password(password),
        is_admin=role == "admin",
        active=True,
        must_change_password=True,
    )
    db.session.add(user)
    db.session.flush()
    after: dict[str, Any] = {**user_state(user), "memberships": []}
    if role != "admin" and inquiry is not None:
        membership = Membership(
            user_id=user.id,
            inquiry_id=inquiry.id,
            role=role,
            clearance=clearance,
            restricted_access=restricted_access,
        )
        membership.inquiry = inquiry
        db.session.add(membership)
        after["memberships"] = [membership_state(membership)]
    audit.record(
        "user_created",
        user=by,
        object_type="user",
        object_id=user.id,
        inquiry_id=inquiry.id if inquiry is not None and role != "admin" else None,
        email=user.email,
        role=role,
        before=None,
        after=after,
    )
    db.session.commit()
    return user, password


def set_active(user: User, active: bool, *, by: User) -> bool:
    """Deactivate or reactivate; returns False when it was already so."""
    if user.id == by.id and not active:
        raise Refused("You cannot deactivate your own account")
    action = "user_reactivated" if active else "user_deactivated"
    return _set_flag(user, "active", active, by=by, action=action)


def set_admin(user: User, is_admin: bool, *, by: User) -> bool:
    """Grant or remove administrator rights; returns False when nothing changed."""
    if user.id == by.id and not is_admin:
        raise Refused("You cannot remove your own administrator rights")
    action = "admin_granted" if is_admin else "admin_removed"
    return _set_flag(user, "is_admin", is_admin, by=by, action=action)


def _set_flag(user: User, field: str, value: bool, *, by: User, action: str) -> bool:
    """Change an access flag, end the user's sessions, and audit before and after."""
    if bool(getattr(user, field)) == value:
        return False
    before = user_state(user)
    setattr(user, field, value)
    ended = auth.end_all_sessions(user)
    audit.record(
        action,
        user=by,
        object_type="user",
        object_id=user.id,
        email=user.email,
        before=before,
        after=user_state(user),
        sessions_ended=ended,
    )
    db.session.commit()
    return True


def reset_password(user: User, *, by: User) -> str:
    """A new one-time password (sessions end; the reset is audited by auth)."""
    if user.id == by.id:
        raise Refused("Change your own password from your account instead")
    return auth.reset_password(user, by=by)


def reset_two_factor(user: User, *, by: User) -> bool:
    """For a lost phone: two-factor off, sessions ended (audited by auth)."""
    if user.id == by.id:
        raise Refused("You cannot reset your own two-factor authentication")
    if not user.totp_enabled and not user.has_totp_secret:
        return False
    auth.reset_two_factor(user, by=by)
    return True


def add_membership(
    user: User, inquiry: Inquiry, fields: MembershipFields, *, by: User
) -> Membership:
    if user.is_admin:
        raise Refused("Administrators already see every inquiry")
    if any(m.inquiry_id == inquiry.id for m in user.memberships):
        raise Refused(f"{user.email} is already a member of {inquiry.code}")
    _check(fields)
    membership = Membership(
        user_id=user.id,
        inquiry_id=inquiry.id,
        role=fields.role,
        clearance=fields.clearance,
        restricted_access=fields.restricted_access,
    )
    membership.inquiry = inquiry
    db.session.add(membership)
    db.session.flush()
    ended = auth.end_all_sessions(user)
    audit.record(
        "membership_added",
        user=by,
        object_type="user",
        object_id=user.id,
        inquiry_id=inquiry.id,
        email=user.email,
        membership_id=membership.id,
        before=None,
        after=membership_state(membership),
        sessions_ended=ended,
    )
    db.session.commit()
    return membership


def change_membership(membership: Membership, fields: MembershipFields, *, by: User) -> bool:
    """Change role, clearance and restricted access; returns False when nothing changed."""
    _check(fields)
    before = membership_state(membership)
    membership.role = fields.role
    membership.clearance = fields.clearance
    membership.restricted_access = fields.restricted_access
    after = membership_state(membership)
    if after == before:
        return False
    user = membership.user
    ended = auth.end_all_sessions(user)
    audit.record(
        "membership_changed",
        user=by,
        object_type="user",
        object_id=user.id,
        inquiry_id=membership.inquiry_id,
        email=user.email,
        membership_id=membership.id,
        before=before,
        after=after,
        sessions_ended=ended,
    )
    db.session.commit()
    return True


def remove_membership(membership: Membership, *, by: User) -> None:
    user = membership.user
    before = membership_state(membership)
    inquiry_id, membership_id = membership.inquiry_id, membership.id
    db.session.delete(membership)
    ended = auth.end_all_sessions(user)
    audit.record(
        "membership_removed",
        user=by,
        object_type="user",
        object_id=user.id,
        inquiry_id=inquiry_id,
        email=user.email,
        membership_id=membership_id,
        before=before,
        after=None,
        sessions_ended=ended,
    )
    db.session.commit()


def _check(fields: MembershipFields) -> None:
    if fields.role not in ROLES:
        raise Refused("Choose a role")
    if fields.clearance not in MARKINGS:
        raise Refused("Choose a clearance")
