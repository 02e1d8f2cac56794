"""Batch search: a list of queries run in the background as the user who submitted it.

Each query runs with the submitting user's scope (checked again when the job runs, and
every few queries while it runs), so counts and URNs never include documents the user
may not see. Results are stored a line at a time, which lets the page show progress and
lets a retried job carry on where it stopped. No Flask request objects here: the web
pages, the job queue and tests call the same functions.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from .. import queue
from ..access import audit, permissions
from ..db import db
from ..models import BatchSearch, BatchSearchLine, Document, User, utcnow
from . import backend
from .query import QueryTooBroad

log = logging.getLogger(__name__)

MAX_QUERIES = 1000
MAX_QUERY_CHARS = 500
MAX_FILE_BYTES = 2 * 1024 * 1024
TOP = 5  # URNs kept per query
RECHECK_EVERY = 50  # queries between checks that the user may still search

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUS_LABELS = {QUEUED: "Waiting to start", RUNNING: "Running", DONE: "Finished",
                 FAILED: "Stopped"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_HEADINGS = ("Query", "Matching documents", "Matching pages", "Top URNs", "Problem")


class BadInput(ValueError):
    """The list of queries cannot be used; the message says why, for the person."""


# --- reading the list ------------------------------------------------------------------------

def clean(lines: Iterable[str]) -> list[str]:
    """Queries in order: blank lines skipped, duplicates kept once, limits enforced."""
    seen: dict[str, None] = {}
    for number, raw in enumerate(lines, start=1):
        query = " ".join(raw.split())
        if not query:
            continue
        if len(query) > MAX_QUERY_CHARS:
            raise BadInput(f"Query {number} is longer than {MAX_QUERY_CHARS} characters. "
                           "Shorten it or split it into several queries.")
        seen.setdefault(query, None)
        if len(seen) > MAX_QUERIES:
            raise BadInput(f"The list has more than {MAX_QUERIES:,} different queries. "
                           "Split it into smaller lists.")
    if not seen:
        raise BadInput("Enter at least one query")
    return list(seen)


def from_text(text: str) -> list[str]:
    """Queries pasted one per line."""
    return clean(text.splitlines())


def from_csv(data: bytes, column: str) -> list[str]:
    """Queries from one column of a CSV file, chosen by heading or by number (from 1).

    With a heading, the first row holds the headings and is not a query; with a number,
    every row is read."""
    column = column.strip()
    if not column:
        raise BadInput("Enter the column heading or number that holds the queries")
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"The file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB. "
                       "Split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput("The file must be a CSV file saved as UTF-8") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        raise BadInput("The file could not be read as CSV") from None
    if not rows:
        raise BadInput("The file is empty")
    if column.isdigit():
        index = int(column) - 1
        if index < 0:
            raise BadInput("Column numbers start at 1")
        body = rows
    else:
        headings = [h.strip().casefold() for h in rows[0]]
        if column.casefold() not in headings:
            raise BadInput(f"The file has no column headed “{column}”")
        index = headings.index(column.casefold())
        body = rows[1:]
    return clean(row[index] if index < len(row) else "" for row in body)


# --- starting and running --------------------------------------------------------------------

def start(user: User, queries: Sequence[str], inquiry_id: int | None = None) -> BatchSearch:
    """Store the batch with one line per query, audit it, and queue the job."""
    batch = BatchSearch(user_id=user.id, inquiry_id=inquiry_id, status=QUEUED,
                        total=len(queries), done=0)
    db.session.add(batch)
    db.session.flush()
    db.session.add_all(BatchSearchLine(batch_search_id=batch.id, position=n, query=q)
                       for n, q in enumerate(queries, start=1))
    audit.record("batch_search_started", user=user, object_type="batch_search",
                 object_id=batch.id, inquiry_id=inquiry_id, count=len(queries))
    db.session.commit()
    run_batch_search.enqueue(batch.id)
    db.session.refresh(batch)
    return batch


def _user_may_search(user_id: int) -> User | None:
    user = db.session.get(User, user_id)
    if user is not None:
        db.session.refresh(user)
    return user if user is not None and user.active else None


def _fail(batch: BatchSearch, message: str) -> None:
    batch.status = FAILED
    batch.error = message
    batch.finished_at = utcnow()
    db.session.commit()


@queue.task("run_batch_search")
def run_batch_search(batch_search_id: int) -> str:
    """The job: run every line not yet finished, committing each result as it comes."""
    batch = db.session.get(BatchSearch, batch_search_id)
    if batch is None:
        return "missing"
    if batch.status in (DONE, FAILED):
        return batch.status
    user = _user_may_search(batch.user_id)
    if user is None:
        _fail(batch, "The person who started this search can no longer sign in.")
        return FAILED
    batch.status = RUNNING
    batch.started_at = batch.started_at or utcnow()
    db.session.commit()
    try:
        pending = db.session.execute(
            select(BatchSearchLine.id).where(BatchSearchLine.batch_search_id == batch.id,
                                             BatchSearchLine.finished.is_(False))
            .order_by(BatchSearchLine.position)
        ).scalars().all()
        scope = permissions.scope_for(user).only(batch.inquiry_id)
        for count, line_id in enumerate(pending):
            if count and count % RECHECK_EVERY == 0:
                user = _user_may_search(batch.user_id)
                if user is None:
                    _fail(batch, "The person who started this search can no longer sign in.")
                    return FAILED
                scope = permissions.scope_for(user).only(batch.inquiry_id)
            line = db.session.get(BatchSearchLine, line_id)
            _run_line(line, scope)
            batch.done = batch.done + 1
            db.session.commit()
    except OperationalError:
        db.session.rollback()
        raise  # the database was busy: the queue retries, carrying on from here
    except Exception:
        log.exception("batch search %s failed", batch_search_id)
        db.session.rollback()
        _fail(db.session.get(BatchSearch, batch_search_id),
              "Something went wrong while running the searches. Try again later.")
        return FAILED
    batch.status = DONE
    batch.finished_at = utcnow()
    db.session.commit()
    return DONE


def _run_line(line: BatchSearchLine, scope: permissions.Scope) -> None:
    try:
        results = backend().search(line.query, scope, offset=0, limit=TOP)
    except QueryTooBroad as error:
        line.error = f"{error.message} {error.advice}".strip()
        line.documents = line.pages = None
        line.top = "[]"
    else:
        line.documents = results.total_documents
        line.pages = results.total_pages
        line.top = json.dumps([[d.document_id, d.urn] for d in results.documents[:TOP]])
        line.notice = results.notice or ""
        line.error = ""
    line.finished = True


# --- reading the results ---------------------------------------------------------------------

def get_for(user: User | None, batch_search_id: int) -> BatchSearch | None:
    """The batch if this user may see it (its owner, or an administrator)."""
    batch = db.session.get(BatchSearch, batch_search_id)
    if batch is None or user is None or not user.active:
        return None
    if batch.user_id != user.id and not user.is_admin:
        return None
    return batch


def recent_for(user: User, limit: int = 20) -> list[BatchSearch]:
    return list(db.session.execute(
        select(BatchSearch).where(BatchSearch.user_id == user.id)
        .order_by(BatchSearch.id.desc()).limit(limit)
    ).scalars())


@dataclass
class Row:
    position: int
    query: str
    finished: bool
    documents: int | None
    pages: int | None
    top: list[tuple[int, str]]
    error: str
    notice: str


def rows(viewer: User, batch: BatchSearch) -> list[Row]:
    """The table, with top URNs limited to documents the viewer may still see now."""
    lines = db.session.execute(
        select(BatchSearchLine).where(BatchSearchLine.batch_search_id == batch.id)
        .order_by(BatchSearchLine.position)
    ).scalars().all()
    tops = {line.id: [(int(i), str(u)) for i, u in json.loads(line.top or "[]")]
            for line in lines}
    visible = visible_ids(viewer, {i for top in tops.values() for i, _ in top})
    return [
        Row(line.position, line.query, line.finished, line.documents, line.pages,
            [(i, u) for i, u in tops[line.id] if i in visible], line.error, line.notice)
        for line in lines
    ]


def visible_ids(user: User, ids: Iterable[int], chunk: int = 500) -> set[int]:
    """Which of these documents the user may see, asked in bounded batches."""
    wanted = sorted(set(ids))
    seen: set[int] = set()
    base = permissions.visible_documents(user).with_only_columns(Document.id)
    for start_at in range(0, len(wanted), chunk):
        part = wanted[start_at:start_at + chunk]
        seen.update(db.session.execute(base.where(Document.id.in_(part))).scalars())
    return seen


def neutralise(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(table: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADINGS)
    for row in table:
        writer.writerow([neutralise(v) for v in (
            row.query,
            "" if row.documents is None else row.documents,
            "" if row.pages is None else row.pages,
            " ".join(urn for _, urn in row.top),
            row.error or row.notice,
        )])
    return out.getvalue()


def export(viewer: User, batch: BatchSearch) -> str:
    """The table as CSV, recorded in the audit trail."""
    table = rows(viewer, batch)
    audit.record("batch_search_exported", user=viewer, object_type="batch_search",
                 object_id=batch.id, inquiry_id=batch.inquiry_id, count=len(table))
    db.session.commit()
    return to_csv(table)
