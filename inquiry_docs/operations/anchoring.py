"""Anchoring the audit trail: its signed head (access/anchors.py) written to every sink
configured, on demand (`inquiry-docs audit anchor`, the audit trail page) and by the
server on its own every ANCHOR_HOURS.

Sinks: a folder (ANCHOR_DIR: one new read-only file per anchor, never overwritten, fsynced),
email (ANCHOR_EMAIL through SMTP_*) and an HTTP endpoint (ANCHOR_URL, POSTed as JSON). Every
sink is tried even when one fails; each attempt is one audit event, `audit_anchored` when
every sink took the anchor, `audit_anchor_failed` (with each sink's reason) otherwise.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flask import current_app
from sqlalchemy import func, select

from .. import queue
from ..access import anchors, audit
from ..db import db
from ..models import AuditEvent, User, utcnow

log = logging.getLogger(__name__)

OK_ACTION = "audit_anchored"
FAILED_ACTION = "audit_anchor_failed"
RETRY_AFTER = timedelta(hours=1)  # a failed automatic anchor is tried again this much later
TIMEOUT = 20  # seconds a mail server or endpoint may take
LOCK = "audit-anchor.lock"  # in the queue's storage: one automatic anchor at a time
STALE_LOCK = 15 * 60  # seconds after which a claim left by a dead consumer is ignored


class SinkFailed(Exception):
    """A sink did not take the anchor; the message is the reason."""


@dataclass
class Outcome:
    head: anchors.Head | None = None
    document: dict[str, Any] | None = None
    results: dict[str, str] = field(default_factory=dict)  # sink -> "ok" or the reason
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and bool(self.results) and \
            all(r == "ok" for r in self.results.values())


def sinks(config: Any = None) -> list[str]:
    """The configured sinks, named as they appear in the audit trail."""
    config = config or current_app.config
    found = []
    if config.get("ANCHOR_DIR"):
        found.append(f"folder {config['ANCHOR_DIR']}")
    for address in _addresses(config):
        found.append(f"email {address}")
    if config.get("ANCHOR_URL"):
        found.append(f"http {config['ANCHOR_URL']}")
    return found


def _addresses(config: Any) -> list[str]:
    return [a.strip() for a in str(config.get("ANCHOR_EMAIL") or "").split(",") if a.strip()]


def anchor(*, trigger: str, by: User | None = None, actor: str = "") -> Outcome:
    """Anchor the trail's head now, to every sink; the attempt is audited either way."""
    outcome = Outcome()
    config = current_app.config
    if not sinks(config):
        outcome.problem = ("no anchor sinks are configured: set INQUIRY_DOCS_ANCHOR_DIR, "
                           "INQUIRY_DOCS_ANCHOR_EMAIL or INQUIRY_DOCS_ANCHOR_URL")
    else:
        try:
            outcome.head = anchors.current_head()
            outcome.document = anchors.make(outcome.head)
        except anchors.AnchorError as error:
            outcome.problem = str(error)
    db.session.commit()  # no transaction stays open while mail servers and endpoints answer
    if outcome.document is not None:
        data = anchors.dumps(outcome.document).encode()
        name = anchors.file_name(outcome.document)
        writers = []
        if config.get("ANCHOR_DIR"):
            writers.append((f"folder {config['ANCHOR_DIR']}",
                            lambda: write_folder(Path(config["ANCHOR_DIR"]), name, data)))
        for address in _addresses(config):
            writers.append((f"email {address}",
                            lambda a=address: send_email(a, outcome.document, name, data)))
        if config.get("ANCHOR_URL"):
            writers.append((f"http {config['ANCHOR_URL']}", lambda: post_json(data)))
        for sink, write in writers:
            try:
                write()
                outcome.results[sink] = "ok"
            except Exception as error:  # any failure of one sink leaves the others to try
                outcome.results[sink] = (str(error) or error.__class__.__name__)[:300]
                log.warning("audit anchor not written to %s: %s", sink, error)
    head = outcome.head
    audit.record(
        OK_ACTION if outcome.ok else FAILED_ACTION,
        user=by,
        actor=actor,
        object_type="audit_event",
        object_id=head.event_id if head else "",
        trigger=trigger,
        hash=head.hash if head else "",
        count=head.count if head else 0,
        sinks=outcome.results,
        problem=outcome.problem,
        anchored_at=outcome.document["anchor"]["anchored_at"] if outcome.document else "",
    )
    db.session.commit()
    return outcome


# ---- sinks ----


def write_folder(folder: Path, name: str, data: bytes) -> Path:
    """A new file in `folder`, never an existing one replaced; fsynced with its folder."""
    if not folder.is_dir():
        # Never made here: a missing folder is usually an unmounted disk, and an anchor
        # written to the disk beneath it would not be off the box at all.
        raise SinkFailed(f"{folder} is not a folder (is the disk mounted?)")
    stem = name.removesuffix(".json")
    for attempt in range(100):
        path = folder / (name if attempt == 0 else f"{stem}-{attempt}.json")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        return path
    raise SinkFailed(f"no free file name for {name} in {folder}")


def send_email(address: str, document: dict[str, Any], name: str, data: bytes) -> None:
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        raise SinkFailed("INQUIRY_DOCS_SMTP_HOST is not set")
    payload = document["anchor"]
    who = config.get("ORGANISATION_NAME") or "Inquiry Docs"
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = address
    message["Subject"] = f"Audit anchor of {who}: event #{payload['event_id']}"
    message.set_content(
        f"The audit trail of {who} was anchored at {payload['anchored_at']}.\n\n"
        f"Newest event: #{payload['event_id']} ({payload['count']} events), recorded at "
        f"{payload['event_at']}\nHash: {payload['hash']}\nSigning key: {payload['key_id']}\n\n"
        "Keep the attached file where the service's administrators cannot change it. To "
        "prove the trail later, put the anchors in one folder and run\n"
        "  inquiry-docs audit verify --anchors FOLDER --public-key KEY.pem\n")
    message.add_attachment(data, maintype="application", subtype="json", filename=name)
    mode = str(config.get("SMTP_TLS") or "starttls").lower()
    port = int(config.get("SMTP_PORT") or 587)
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if mode == "ssl":
        server = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
    elif mode in ("starttls", "none"):
        server = smtplib.SMTP(host, port, timeout=TIMEOUT)
    else:
        raise SinkFailed(f"SMTP_TLS is {mode!r}: use starttls, ssl or none")
    with server:
        if mode == "starttls":
            server.starttls(context=context)
        if config.get("SMTP_USER"):
            server.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        refused = server.send_message(message)
    if refused:
        raise SinkFailed(f"the mail server refused {', '.join(refused)}")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET without the anchor: treat it as a failure."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_json(data: bytes) -> None:
    config = current_app.config
    url = str(config["ANCHOR_URL"])
    if urlparse(url).scheme not in ("http", "https"):
        raise SinkFailed("ANCHOR_URL must start with https:// or http://")
    headers = {"Content-Type": "application/json", "User-Agent": "inquiry-docs-anchor/1"}
    # The scheme was checked above: no file:// or other opener is reached.
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310
    if config.get("ANCHOR_URL_TOKEN"):
        request.add_header("Authorization", f"Bearer {config['ANCHOR_URL_TOKEN']}")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except urllib.error.URLError as error:
        raise SinkFailed(f"could not reach {url}: {error.reason}") from error
    if not 200 <= status < 300:
        raise SinkFailed(f"{url} answered HTTP {status}")


# ---- on its own ----


def last_attempts() -> tuple[datetime | None, datetime | None]:
    """When the newest successful and the newest failed anchor were recorded."""
    def newest(action: str) -> datetime | None:
        last = db.session.execute(select(func.max(AuditEvent.id))
                                  .where(AuditEvent.action == action)).scalar()
        if last is None:
            return None
        return db.session.execute(select(AuditEvent.at).where(AuditEvent.id == last)).scalar()
    return newest(OK_ACTION), newest(FAILED_ACTION)


def due(now: datetime | None = None) -> bool:
    """Whether the server should anchor now: sinks are set, ANCHOR_HOURS is not 0, and the
    last anchor is that old (or the last attempt failed more than RETRY_AFTER ago)."""
    hours = current_app.config.get("ANCHOR_HOURS") or 0
    if hours <= 0 or not sinks():
        return False
    now = now or utcnow()
    last_ok, last_failed = last_attempts()
    if last_failed is not None and (last_ok is None or last_failed > last_ok):
        return now - last_failed >= RETRY_AFTER
    return last_ok is None or now - last_ok >= timedelta(hours=hours)


def every_minute(_when: datetime) -> bool:
    return True


@queue.task("anchor_audit_trail", retries=0, periodic=every_minute)
def anchor_when_due() -> None:
    """Queued each minute by every consumer that runs periodic tasks; anchors only when due,
    and only one at a time however many consumers queued it."""
    ready = due()
    db.session.rollback()  # the check below must read afresh, not this snapshot
    if not ready or not _claim():
        return
    try:
        if due():  # another consumer may have anchored while this one waited
            anchor(trigger="schedule", actor="schedule")
    finally:
        queue.huey().delete(LOCK)


def _claim() -> bool:
    huey = queue.huey()
    now = time.time()
    if huey.put_if_empty(LOCK, now):
        return True
    held = huey.get(LOCK, peek=True)
    if held is not None and now - float(held) > STALE_LOCK:
        huey.delete(LOCK)  # left by a consumer that died while anchoring
        return bool(huey.put_if_empty(LOCK, now))
    return False
