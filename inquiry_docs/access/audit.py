"""Append-only, hash-chained audit events.

Each event's hash is an HMAC-SHA-256 of its content and the previous event's hash, keyed
with AUDIT_KEY (kept in the instance folder, not in the database). Editing, inserting or
deleting any row breaks the chain from that point on, and someone who can write to the
database but not read the key cannot forge a replacement chain; `verify` names the first
bad row. Events are written in the caller's transaction, so a change and its record commit
together.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..db import db, lock_for_writing
from ..models import AuditEvent, User, utcnow

GENESIS = "0" * 64
# Set by the web layer for each request, so domain code need not know about requests.
current_ip: ContextVar[str] = ContextVar("audit_ip", default="")


def _digest(event: Any, prev_hash: str) -> str:
    """The HMAC of one event (an ORM object or a table row) chained to the previous hash."""
    body = json.dumps(
        [
            event.id,
            event.at.isoformat(timespec="microseconds"),
            event.user_id,
            event.actor,
            event.ip,
            event.action,
            event.object_type,
            event.object_id,
            event.inquiry_id,
            event.details,
            prev_hash,
        ],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    key = current_app.config["AUDIT_KEY"].encode()
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()


def record(
    action: str,
    *,
    user: User | None = None,
    actor: str = "",
    object_type: str = "",
    object_id: object = "",
    inquiry_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event to the current transaction; the caller commits."""
    lock_for_writing(db.session)  # writers append one at a time, so the chain never forks
    # Cut to the columns' sizes: PostgreSQL refuses longer text where SQLite kept it (a
    # backup folder's name, say); the full value can go in the details.
    event = AuditEvent(
        at=utcnow(),
        user_id=user.id if user is not None else None,
        actor=(actor or (user.email if user is not None else "system"))[:254],
        ip=current_ip.get()[:45],
        action=action,
        object_type=object_type[:30],
        object_id=str(object_id)[:60],
        inquiry_id=inquiry_id,
        details=json.dumps(details, sort_keys=True, default=str),
    )
    db.session.add(event)
    # The writer's lock is held (SQLite's, or ours on PostgreSQL): the row read next is final.
    db.session.flush()
    prev = db.session.execute(
        select(AuditEvent.hash).where(AuditEvent.id < event.id).order_by(AuditEvent.id.desc())
        .limit(1)
    ).scalar()
    event.prev_hash = prev or GENESIS
    event.hash = _digest(event, event.prev_hash)
    return event


@dataclass
class Verdict:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""
    head: tuple[int, str] | None = None  # the last event's id and hash
    anchor: str = ""  # the anchor the trail contradicts, when one does


@dataclass(frozen=True)
class Checkpoint:
    """A head recorded outside the database (a signed anchor): this event, with this hash,
    was the `count`th event of the trail (count None: not recorded)."""

    event_id: int
    hash: str
    count: int | None = None
    name: str = ""


def parse_head(text: str) -> tuple[int, str]:
    """An `ID:HASH` pair as `inquiry-docs audit head` prints it."""
    number, _, digest = text.strip().partition(":")
    if not number.isdigit() or len(digest) != 64:
        raise ValueError("expected ID:HASH as printed by `inquiry-docs audit head`")
    return int(number), digest.lower()


def _events(batch: int = 1000) -> Iterator[Any]:
    """Every event in id order as plain rows, a batch at a time (bounded memory, and the
    caller's session objects are left alone)."""
    table = AuditEvent.__table__
    last = 0
    while True:
        rows = db.session.execute(
            select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify(expected_head: tuple[int, str] | None = None,
           anchors: Sequence[Checkpoint] = ()) -> Verdict:
    """Walk the whole chain in bounded memory.

    The chain alone cannot show that its newest events were cut off, nor that someone with
    the key rewrote it; heads recorded earlier outside this system can (`audit head`, or
    the signed anchors of `audit anchor`): each event must still be there, with the same
    hash and as many events up to it. The first checkpoint contradicted is named.
    """
    points = sorted(anchors, key=lambda a: a.event_id)
    if expected_head is not None:
        points.append(Checkpoint(expected_head[0], expected_head[1], None, HEAD))
        points.sort(key=lambda a: a.event_id)
    prev = GENESIS
    checked = 0
    head: tuple[int, str] | None = None
    at = 0  # the next checkpoint to reach
    for event in _events():
        if event.prev_hash != prev:
            return Verdict(False, checked, event.id, "an earlier event was removed or altered")
        if _digest(event, prev) != event.hash:
            return Verdict(False, checked, event.id, "this event was altered")
        if at < len(points) and points[at].event_id < event.id:
            return _missing(points[at], checked, head)
        while at < len(points) and points[at].event_id == event.id:
            point = points[at]
            if event.hash != point.hash:
                return Verdict(False, checked, event.id, "this event differs from the recorded "
                               "head" if point.name == HEAD else "its hash differs from the "
                               "anchored one", anchor=_anchor(point))
            if point.count is not None and checked + 1 != point.count:
                return Verdict(False, checked, event.id,
                               f"{checked + 1} events lead up to it where the anchor counted "
                               f"{point.count}: events were removed or added",
                               anchor=_anchor(point))
            at += 1
        checked += 1
        prev = event.hash
        head = (event.id, event.hash)
    if at < len(points):
        return _missing(points[at], checked, head)
    return Verdict(True, checked, head=head)


HEAD = "the recorded head"


def _anchor(point: Checkpoint) -> str:
    return "" if point.name == HEAD else point.name


def _missing(point: Checkpoint, checked: int, head: tuple[int, str] | None) -> Verdict:
    if point.name == HEAD:
        return Verdict(False, checked, point.event_id,
                       "the recorded head event is missing: the trail was cut short", head)
    return Verdict(False, checked, point.event_id, "the anchored event is missing: the trail "
                   "was cut short or rewritten", head, anchor=point.name)
