"""Coding: relevance, privilege, redaction, review status and reviewer of one document.

Marking and restriction order are part of the same form; they are saved by the same
step as the marking page (metadata.change_marking), so both record the same events.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from ..access import audit, permissions
from ..db import db
from ..evidence import citations, metadata
from ..models import (
    PRIVILEGE,
    REDACTION_REASONS,
    RELEVANCE,
    REVIEW_STATUS,
    Coding,
    Document,
    Membership,
    User,
)
from .selection import Outcome

FIELDS = ("relevance", "privilege", "redaction_needed", "redaction_pages", "redaction_reason",
          "review_status", "reviewer_id")
MAX_COMMENT = 5000
PAGE_RANGE = re.compile(r"^(\d+)(?:\s*-\s*(\d+))?$")


@dataclass
class Change:
    relevance: str
    privilege: str
    redaction_needed: bool
    redaction_pages: str
    redaction_reason: str
    review_status: str
    reviewer_id: int | None
    marking: metadata.Marking | None = None  # None: leave marking and restriction alone
    comment: str | None = None  # None: leave the comment alone


def current(document_id: int) -> Coding:
    """The document's coding, or the defaults (not stored) when it has none yet."""
    coding = db.session.execute(
        select(Coding).where(Coding.document_id == document_id)).scalar_one_or_none()
    return coding or Coding(document_id=document_id, relevance="not_reviewed",
                            privilege="none", redaction_needed=False, redaction_pages="",
                            redaction_reason="", review_status="to_do", reviewer_id=None,
                            comment="")


def parse_pages(text: str, page_count: int) -> tuple[list[int], str]:
    """Pages like "3, 5-7" as a sorted list, or an error message."""
    pages: set[int] = set()
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        match = PAGE_RANGE.match(part)
        if not match:
            return [], "Enter pages as numbers and ranges, for example 3, 14-15"
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first or (page_count and last > page_count):
            return [], f"Enter pages between 1 and {page_count or 'the last page'}"
        pages.update(range(first, last + 1))
        if len(pages) > 10_000:
            return [], "Enter fewer pages"
    return sorted(pages), ""


def format_pages(pages: list[int]) -> str:
    """[3, 5, 6, 7] -> "3, 5-7"."""
    out: list[str] = []
    for n in pages:
        if out and out[-1].split("-")[-1] == str(n - 1):
            out[-1] = f"{out[-1].split('-')[0]}-{n}"
        else:
            out.append(str(n))
    return ", ".join(out)


def reviewers(inquiry_id: int) -> list[User]:
    """People who may code this inquiry's documents: its legal members and admins."""
    members = db.session.execute(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.inquiry_id == inquiry_id, User.active.is_(True))).scalars().all()
    admins = db.session.execute(select(User).where(User.is_admin.is_(True),
                                                   User.active.is_(True))).scalars().all()
    found = {u.id: u for u in [*members, *admins] if permissions.can(u, "code", inquiry_id)}
    return sorted(found.values(), key=lambda u: u.email.lower())


def validate(document: Document, change: Change) -> dict[str, str]:
    errors: dict[str, str] = {}
    if change.relevance not in RELEVANCE:
        errors["relevance"] = "Choose how relevant the document is"
    if change.privilege not in PRIVILEGE:
        errors["privilege"] = "Choose the privilege"
    if change.review_status not in REVIEW_STATUS:
        errors["review_status"] = "Choose the review status"
    if change.redaction_reason not in REDACTION_REASONS:
        errors["redaction_reason"] = "Choose a reason for the redaction"
    if change.redaction_needed:
        pages, error = parse_pages(change.redaction_pages, document.page_count)
        if error or not pages:
            errors["redaction_pages"] = error or "Enter the pages that need redacting"
        else:
            change.redaction_pages = format_pages(pages)
    else:
        change.redaction_pages, change.redaction_reason = "", ""
    if change.reviewer_id is not None and change.reviewer_id not in {
            u.id for u in reviewers(document.inquiry_id)}:
        errors["reviewer_id"] = "Choose someone who may review this inquiry's documents"
    if change.comment is not None and len(change.comment) > MAX_COMMENT:
        errors["comment"] = f"Enter a comment of up to {MAX_COMMENT:,} characters"
    if change.marking is not None:
        errors.update(metadata.validate_marking(change.marking))
    return errors


def _apply(document: Document, change: Change, user: User) -> dict[str, list]:
    """Set and audit the coding fields in the current transaction; the caller commits."""
    coding = db.session.execute(
        select(Coding).where(Coding.document_id == document.id)).scalar_one_or_none()
    before = current(document.id)
    fields = FIELDS if change.comment is None else (*FIELDS, "comment")
    if change.comment is not None:
        change.comment = change.comment.strip()
    diff = {f: [getattr(before, f), getattr(change, f)] for f in fields
            if getattr(before, f) != getattr(change, f)}
    if not diff:
        return diff
    if coding is None:
        coding = before
        db.session.add(coding)
    for field, (_, after) in diff.items():
        setattr(coding, field, after)
    if "comment" in diff:
        db.session.flush()
        citations.record("coding", coding.id, coding.comment, document_id=document.id)
    audit.record("coding_changed", user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, changes=_readable(diff))
    return diff


def _readable(diff: dict[str, list]) -> dict[str, list]:
    """Reviewers by email in the audit trail, so the history reads without lookups."""
    out = dict(diff)
    if "reviewer_id" in out:
        out["reviewer"] = [_email(v) for v in out.pop("reviewer_id")]
    return out


def _email(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.email if user else None


def save(document: Document, change: Change, user: User) -> dict[str, list]:
    """Save coding (and marking, when given) together, audited, then re-index."""
    diff: dict[str, list] = dict(_apply(document, change, user))
    marked: dict = {}
    if change.marking is not None:
        marked = metadata.change_marking(document, change.marking, user)
        diff.update({k: list(v) for k, v in marked.items()})
    if marked:  # the marking is in every index: the document is re-indexed
        metadata.commit_and_reindex(document)
    elif diff:
        metadata.commit_labels(document)
    return diff


def assign(user: User, reviewer: User | None, docs: list[Document],
           skipped: int = 0, dry_run: bool = False) -> Outcome:
    """Give every document the user may assign to `reviewer` (None: nobody); documents the
    user may not assign, or the reviewer may not code, are skipped and left alone."""
    outcome = Outcome(skipped=skipped)
    changed = []
    for document in docs:
        if not (permissions.can(user, "assign", document.inquiry_id)
                and permissions.can_see(user, document)
                and (reviewer is None or (permissions.can(reviewer, "code", document.inquiry_id)
                                          and permissions.can_see(reviewer, document)))):
            outcome.skipped += 1
            continue
        coding = current(document.id)
        wanted = reviewer.id if reviewer else None
        if coding.reviewer_id == wanted:
            outcome.unchanged += 1
            continue
        if dry_run:
            changed.append(document)
            continue
        change = Change(coding.relevance, coding.privilege, coding.redaction_needed,
                        coding.redaction_pages, coding.redaction_reason,
                        coding.review_status, wanted)
        _apply(document, change, user)
        changed.append(document)
    outcome.changed = len(changed)
    if not dry_run:
        metadata.commit_labels(*changed)
    return outcome


def reviewers_for(user: User | None) -> list[User]:
    """Everyone this user may assign documents to, across their inquiries."""
    found: dict[int, User] = {}
    for inquiry in permissions.inquiries_where(user, "assign"):
        found.update((u.id, u) for u in reviewers(inquiry.id))
    return sorted(found.values(), key=lambda u: u.email.lower())
