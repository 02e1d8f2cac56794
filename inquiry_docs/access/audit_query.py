"""Reading the audit trail: filters, pages, CSV export and "who has seen this document".

Nothing here changes an event; the one write is `record_export`, itself an audit event.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from sqlalchemy import Select, case, func, or_, select

from ..db import db
from ..models import AuditEvent, Document, Inquiry, User
from . import audit

PER_PAGE = 50
SEEN_ACTIONS = ("document_viewed", "page_viewed", "original_downloaded")
# Actions the app records, offered in the filter even before any has happened.
KNOWN_ACTIONS = (
    "admin_granted",
    "admin_removed",
    "audit_anchor_failed",
    "audit_anchored",
    "audit_exported",
    "bundle_built",
    "bundle_downloaded",
    "bundle_requested",
    "coding_changed",
    "coding_exported",
    "document_received",
    "document_refused",
    "document_viewed",
    "duplicate_received",
    "extraction_failed",
    "inquiry_created",
    "marking_changed",
    "membership_added",
    "membership_changed",
    "membership_removed",
    "metadata_changed",
    "note_added",
    "note_edited",
    "original_downloaded",
    "password_changed",
    "password_reset",
    "recovery_code_used",
    "recovery_codes_replaced",
    "retry_requested",
    "search",
    "secrets_rotated",
    "session_expired",
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "tag_added",
    "tag_changed",
    "tag_created",
    "tag_removed",
    "tags_merged",
    "text_extracted",
    "two_factor_disabled",
    "two_factor_enabled",
    "two_factor_failed",
    "two_factor_reset",
    "upload_rejected",
    "user_created",
    "user_deactivated",
    "user_reactivated",
)
CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "ip",
    "action",
    "object_type",
    "object_id",
    "inquiry",
    "details",
    "hash",
)
# A spreadsheet treats a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
URN = re.compile(r"^[A-Za-z]{3}\d{6}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Filters:
    user: str = ""  # email address of whoever acted
    document: str = ""  # URN or document id
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None  # inclusive

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (empty ones left out)."""
        values = {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}
        return {k: v for k, v in values.items() if v}


def actions() -> list[str]:
    """Every action worth offering in a filter: the known ones and any found in the trail."""
    found = db.session.execute(select(AuditEvent.action).distinct()).scalars()
    return sorted(set(KNOWN_ACTIONS) | set(found))


def parse_date(raw: str) -> date | None:
    """A yyyy-mm-dd date; ValueError if it is not one."""
    raw = raw.strip()
    if not raw:
        return None
    if not ISO_DATE.match(raw):
        raise ValueError(raw)
    return date.fromisoformat(raw)


def parse_filters(
    args: Mapping[str, str], known_actions: Iterable[str] | None = None
) -> tuple[Filters, dict[str, str]]:
    """Filters from query-string style arguments, and errors keyed by field."""
    errors: dict[str, str] = {}
    user = args.get("user", "").strip()[:254]
    document = args.get("document", "").strip()[:20]
    action = args.get("action", "").strip()[:60]
    if document and not (document.isdigit() or URN.match(document)):
        errors["document"] = "Enter a reference number like OLD000123, or a document number"
    elif document and not document.isdigit():
        document = document.upper()
    if action and known_actions is not None and action not in set(known_actions):
        errors["action"] = "Choose an action from the list"
    dates: dict[str, date | None] = {}
    for field, label in (("date_from", "from"), ("date_to", "to")):
        try:
            dates[field] = parse_date(args.get(field, "")[:20])
        except ValueError:
            errors[field] = f"Enter the date {label} as year-month-day, like 2024-03-27"
            dates[field] = None
    if dates["date_from"] and dates["date_to"] and dates["date_from"] > dates["date_to"]:
        errors["date_to"] = "The date to must be the same as or after the date from"
    filters = Filters(user=user, document=document, action=action, **dates)
    return (Filters() if errors else filters), errors


def document_id_for(reference: str) -> int | None:
    """The id behind a URN or a number; None for a URN that names no document."""
    if reference.isdigit():
        return int(reference)
    return db.session.execute(select(Document.id).where(Document.urn == reference.upper())).scalar()


def events_query(filters: Filters) -> Select[tuple[AuditEvent]]:
    query = select(AuditEvent)
    if filters.user:
        email = filters.user.lower()
        ids = select(User.id).where(func.lower(User.email) == email).scalar_subquery()
        query = query.where(or_(func.lower(AuditEvent.actor) == email, AuditEvent.user_id.in_(ids)))
    if filters.document:
        document_id = document_id_for(filters.document)
        query = query.where(
            AuditEvent.object_type == "document",
            AuditEvent.object_id == str(document_id if document_id else -1),
        )
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.date_from:
        query = query.where(
            AuditEvent.at >= datetime.combine(filters.date_from, datetime.min.time())
        )
    if filters.date_to:
        query = query.where(
            AuditEvent.at
            < datetime.combine(filters.date_to + timedelta(days=1), datetime.min.time())
        )
    return query


def page_of_events(
    filters: Filters, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[AuditEvent], int]:
    """One page of matching events, newest first, and how many match in all."""
    query = events_query(filters)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    events = (
        db.session.execute(
            query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
        )
        .scalars()
        .all()
    )
    return list(events), total


def count(filters: Filters, up_to: int | None = None) -> int:
    query = events_query(filters)
    if up_to is not None:
        query = query.where(AuditEvent.id <= up_to)
    return db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def last_event_id() -> int:
    return db.session.execute(select(func.max(AuditEvent.id))).scalar() or 0


def last_of(*actions: str) -> AuditEvent | None:
    """The newest event with one of these actions (each looked up by the action index)."""
    ids = [db.session.execute(select(func.max(AuditEvent.id))
                              .where(AuditEvent.action == a)).scalar() for a in actions]
    found = [i for i in ids if i is not None]
    return db.session.get(AuditEvent, max(found)) if found else None


def iter_events(filters: Filters, up_to: int | None = None, batch: int = 1000) -> Iterator[Any]:
    """Matching events newest first as plain rows, a batch at a time (bounded memory)."""
    query = events_query(filters).with_only_columns(*AuditEvent.__table__.columns)
    upper = up_to
    while True:
        page = query
        if upper is not None:
            page = page.where(AuditEvent.id <= upper)
        rows = db.session.execute(page.order_by(AuditEvent.id.desc()).limit(batch)).all()
        if not rows:
            return
        yield from rows
        upper = rows[-1].id - 1


def inquiry_codes() -> dict[int, str]:
    return dict(db.session.execute(select(Inquiry.id, Inquiry.code)).all())


# ---- CSV ----


def neutralise(value: object) -> str:
    """The cell as text, with a leading apostrophe if a spreadsheet would run it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_row(event: Any, codes: Mapping[int, str]) -> list[str]:
    values: list[object] = [
        event.id,
        event.at.isoformat(timespec="microseconds"),
        event.actor,
        event.ip,
        event.action,
        event.object_type,
        event.object_id,
        codes.get(event.inquiry_id, event.inquiry_id) if event.inquiry_id else "",
        event.details,
        event.hash,
    ]
    return [neutralise(v) for v in values]


class _Line:
    """A file-like sink that hands back what csv.writer wrote for one row."""

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def csv_lines(filters: Filters, up_to: int | None = None) -> Iterator[str]:
    """The export as lines of CSV text (header first), for streaming."""
    codes = inquiry_codes()
    line = _Line()
    writer = csv.writer(line)
    writer.writerow(CSV_COLUMNS)
    yield line.text
    for event in iter_events(filters, up_to):
        writer.writerow(csv_row(event, codes))
        yield line.text


def write_csv(fh: IO[str], filters: Filters, up_to: int | None = None) -> int:
    """Write the export to an open text file; returns the number of events written."""
    written = -1
    for text in csv_lines(filters, up_to):
        fh.write(text)
        written += 1
    return written


def record_export(
    filters: Filters,
    *,
    by: User | None,
    rows: int,
    up_to: int,
    channel: str,
    actor: str = "",
    **extra: Any,
) -> AuditEvent:
    """Record that the trail was exported (what was asked for, and how much), and commit."""
    event = audit.record(
        "audit_exported",
        user=by,
        actor=actor,
        object_type="audit",
        filters=filters.as_args(),
        rows=rows,
        up_to_event=up_to,
        channel=channel,
        **extra,
    )
    db.session.commit()
    return event


# ---- who has seen a document ----


@dataclass(frozen=True)
class SeenRow:
    user_id: int | None
    email: str
    first_seen: datetime
    last_seen: datetime
    views: int
    downloads: int

    @property
    def downloaded(self) -> bool:
        return self.downloads > 0


def _seen_events(document_id: int) -> Select[Any]:
    return select(AuditEvent).where(
        AuditEvent.object_type == "document",
        AuditEvent.object_id == str(document_id),
        AuditEvent.action.in_(SEEN_ACTIONS),
    )


def seen_by(document_id: int) -> list[SeenRow]:
    """Each person who opened or downloaded the document, earliest first."""
    seen = _seen_events(document_id).subquery()
    rows = db.session.execute(
        select(
            seen.c.user_id,
            seen.c.actor,
            func.min(seen.c.at),
            func.max(seen.c.at),
            func.sum(case((seen.c.action == "document_viewed", 1), else_=0)),
            func.sum(case((seen.c.action == "original_downloaded", 1), else_=0)),
        )
        .group_by(seen.c.user_id, seen.c.actor)
        .order_by(func.min(seen.c.at), seen.c.actor)
    ).all()
    return [
        SeenRow(user_id, actor, first, last, int(views or 0), int(downloads or 0))
        for user_id, actor, first, last, views, downloads in rows
    ]


def views_of(
    document_id: int, page: int = 1, per_page: int = PER_PAGE
) -> tuple[list[AuditEvent], int]:
    """Every view and download of the document, newest first, a page at a time."""
    query = _seen_events(document_id)
    total = db.session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    events = (
        db.session.execute(
            query.order_by(AuditEvent.id.desc()).offset((page - 1) * per_page).limit(per_page)
        )
        .scalars()
        .all()
    )
    return list(events), total


def details_of(event: Any) -> dict[str, Any]:
    try:
        value = json.loads(event.details or "{}")
    except ValueError:
        return {"details": event.details}
    return value if isinstance(value, dict) else {"details": value}


def details_lines(event: Any, limit: int = 200, word: int = 40) -> list[tuple[str, str]]:
    """The details as short (name, value) lines for a page; the CSV keeps them whole.

    Values are cut to `limit` characters and any single word (a hash, say) to `word`, so
    one long value cannot stretch the table.
    """
    lines = []
    for key, value in details_of(event).items():
        text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "))
        if len(text) > limit:
            text = text[:limit] + "…"
        text = " ".join(w if len(w) <= word else w[: word // 2] + "…" for w in text.split(" "))
        lines.append((str(key), text))
    return lines
