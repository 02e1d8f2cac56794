"""Saved searches: kept per user, optionally shared with the members of one inquiry.

Each shows how many matching documents arrived since the person looking last ran it,
counted within that person's own scope: the backend finds the matching documents with
the viewer's access filter inside the search, and the database keeps those uploaded since
the last run, again through permissions.visible_documents. No Flask request objects here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from sqlalchemy import delete, func, or_, select

from ..access import audit, permissions
from ..db import db
from ..models import Document, Inquiry, Membership, SavedSearch, SavedSearchRun, User, utcnow
from . import backend
from .query import MAX_QUERY_CHARS, QueryTooBroad

MAX_NAME = 100
MAX_FILTERS_CHARS = 2000
NEW_COUNT_LIMIT = 10_000  # matching documents considered when counting new ones
CHUNK = 500
# Search-page parameters that are not filters: the words (kept in their own column) and
# where the person was in the results. The inquiry stays among the filters too, so a
# search over several chosen inquiries is run again over the same ones.
NOT_FILTERS = {"q", "page", "expand", "csrf_token"}
# Filter names are plain words: never url_for's own arguments (_external, _scheme, ...).
FILTER_NAME = re.compile(r"[a-z][a-z0-9_]{0,49}")


class BadInput(ValueError):
    """What is wrong with the form, field name -> message for the person."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def parse_filters(query_string: str) -> dict[str, list[str]]:
    """The search page's other parameters from its raw query string, kept for later."""
    filters: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string[:MAX_FILTERS_CHARS], keep_blank_values=False):
        if name not in NOT_FILTERS and FILTER_NAME.fullmatch(name):
            filters.setdefault(name, []).append(value[:200])
    return filters


def may_share_with(user: User, inquiry_id: int | None) -> bool:
    if inquiry_id is None or not user.active:
        return False
    if user.is_admin:
        return db.session.get(Inquiry, inquiry_id) is not None
    return any(m.inquiry_id == inquiry_id for m in user.memberships)


def save(user: User, *, name: str, query: str, inquiry_id: int | None = None,
         filters: dict[str, list[str]] | None = None, shared: bool = False) -> SavedSearch:
    """Keep a search for this user; saving counts as running it."""
    name, query = " ".join(name.split()), query.strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter a name for the search"
    elif len(name) > MAX_NAME:
        errors["name"] = f"The name must be {MAX_NAME} characters or fewer"
    if not query:
        errors["q"] = "Enter the words to search for"
    elif len(query) > MAX_QUERY_CHARS:
        errors["q"] = f"The search must be {MAX_QUERY_CHARS} characters or fewer"
    if inquiry_id is not None and not permissions.can(user, "read", inquiry_id):
        errors["inquiry"] = "Choose an inquiry you belong to"
    elif shared and not may_share_with(user, inquiry_id):
        errors["shared"] = ("Searches can only be shared with one inquiry you belong to: "
                            "choose the inquiry on the search page first")
    if errors:
        raise BadInput(errors)
    saved = SavedSearch(user_id=user.id, name=name, query=query, inquiry_id=inquiry_id,
                        filters=json.dumps(filters or {}, sort_keys=True), shared=shared)
    db.session.add(saved)
    db.session.flush()
    _stamp(user, saved)
    audit.record("saved_search_created", user=user, object_type="saved_search",
                 object_id=saved.id, inquiry_id=inquiry_id, name=name, query=query,
                 shared=shared)
    db.session.commit()
    return saved


def visible_to(user: User | None):
    """A SELECT of the saved searches this user may see: their own, and shared ones of
    inquiries they belong to (every inquiry for an administrator)."""
    if user is None or not user.active:
        return select(SavedSearch).where(SavedSearch.id.is_(None))
    if user.is_admin:
        shared = SavedSearch.shared.is_(True)
    else:
        member_of = select(Membership.inquiry_id).where(Membership.user_id == user.id)
        shared = SavedSearch.shared.is_(True) & SavedSearch.inquiry_id.in_(member_of)
    return select(SavedSearch).where(or_(SavedSearch.user_id == user.id, shared))


def get_for(user: User | None, saved_id: int) -> SavedSearch | None:
    return db.session.execute(
        visible_to(user).where(SavedSearch.id == saved_id)
    ).scalar_one_or_none()


def last_run(user: User, saved: SavedSearch) -> datetime | None:
    return db.session.execute(
        select(SavedSearchRun.last_run_at).where(SavedSearchRun.user_id == user.id,
                                                 SavedSearchRun.saved_id == saved.id)
    ).scalar_one_or_none()


def _stamp(user: User, saved: SavedSearch) -> None:
    run = db.session.execute(
        select(SavedSearchRun).where(SavedSearchRun.user_id == user.id,
                                     SavedSearchRun.saved_id == saved.id)
    ).scalar_one_or_none()
    if run is None:
        db.session.add(SavedSearchRun(user_id=user.id, saved_id=saved.id,
                                      last_run_at=utcnow()))
    else:
        run.last_run_at = utcnow()


def record_run(user: User, saved: SavedSearch) -> None:
    """This user ran the search now: later counts start from here."""
    _stamp(user, saved)
    audit.record("saved_search_run", user=user, object_type="saved_search",
                 object_id=saved.id, inquiry_id=saved.inquiry_id)
    db.session.commit()


def delete_saved(user: User, saved: SavedSearch) -> bool:
    """Remove a saved search; only its owner may."""
    if saved.user_id != user.id:
        return False
    audit.record("saved_search_deleted", user=user, object_type="saved_search",
                 object_id=saved.id, inquiry_id=saved.inquiry_id, name=saved.name)
    db.session.execute(delete(SavedSearchRun).where(SavedSearchRun.saved_id == saved.id))
    db.session.delete(saved)
    db.session.commit()
    return True


@dataclass
class NewCount:
    count: int | None  # None when the search is too broad to count
    at_least: bool = False  # more documents matched than were considered
    since: datetime | None = None
    ran_before: bool = True


def new_since_last_run(user: User, saved: SavedSearch) -> NewCount:
    """Documents the user may see, matching the search, uploaded after their last run."""
    since = last_run(user, saved)
    ran_before = since is not None
    if since is None:
        since = saved.created_at
    scope = permissions.scope_for(user).only(saved.inquiry_id)
    if not scope.grants:
        return NewCount(0, since=since, ran_before=ran_before)
    try:
        results = backend().search(saved.query, scope, offset=0, limit=NEW_COUNT_LIMIT)
    except QueryTooBroad:
        return NewCount(None, since=since, ran_before=ran_before)
    ids = sorted({d.document_id for d in results.documents})
    newer = permissions.visible_documents(user).with_only_columns(func.count(Document.id)) \
        .where(Document.uploaded_at > since)
    if saved.inquiry_id is not None:
        newer = newer.where(Document.inquiry_id == saved.inquiry_id)
    count = 0
    for start in range(0, len(ids), CHUNK):
        count += db.session.execute(
            newer.where(Document.id.in_(ids[start:start + CHUNK]))).scalar_one()
    return NewCount(count, results.total_documents > len(ids), since, ran_before)


@dataclass
class Listed:
    saved: SavedSearch
    mine: bool
    new: NewCount
    filters: dict[str, list[str]]


def listing(user: User) -> list[Listed]:
    """The user's own saved searches then shared ones, each with its new-document count."""
    searches = db.session.execute(
        visible_to(user).order_by(SavedSearch.name, SavedSearch.id)
    ).scalars().all()
    listed = [Listed(s, s.user_id == user.id, new_since_last_run(user, s), filters_of(s))
              for s in searches]
    return sorted(listed, key=lambda item: not item.mine)


def filters_of(saved: SavedSearch) -> dict[str, list[str]]:
    try:
        value = json.loads(saved.filters or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): [str(v) for v in vs] for k, vs in value.items()
            if k not in NOT_FILTERS and FILTER_NAME.fullmatch(str(k)) and isinstance(vs, list)}
