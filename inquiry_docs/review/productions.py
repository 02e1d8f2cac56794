"""Productions: documents produced to a recipient (core participants, a publication).

A production is a ZIP of redacted PDFs (review/redacted.py: approved redactions burned in,
each page stamped with its production number, `OLD000123_0004`, and the document's
marking in the footer), a load file (`loadfile.csv`: number range, URN, title, date,
pages, redactions by reason) and `manifest.txt` (SHA-256 of every file). It is built by a
background job that re-checks the requester's reach for each document and leaves out any
document whose redactions still wait for approval. The ZIP is reproducible: fixed entry
dates and order, no random ids, PDFs that depend only on their input; building the same
production twice gives the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from .. import queue
from ..access import audit, permissions
from ..db import db
from ..evidence import page_images
from ..models import PROPOSED, Document, Production, Redaction, User, utcnow
from ..search.export import safe_cell
from . import redacted
from . import redactions as redactions_
from .bundles import may_export
from .selection import documents

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUS_LABELS = {QUEUED: "Waiting to start", RUNNING: "Building", DONE: "Ready",
                 FAILED: "Stopped"}
PREFIX = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
MAX_START = 999_999
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the earliest a ZIP can say: the same in every build
LOAD_HEADER = ("Production number from", "Production number to", "URN", "Title", "Date",
               "Pages", "Marking", "Redactions",
               *(f"Redactions: {label}" for label in redactions_.REASONS.values()))


@dataclass
class Request:
    name: str
    recipient: str
    prefix: str
    start: str


def validate(data: Request) -> dict[str, str]:
    errors = {}
    if not data.name.strip() or len(data.name) > 100:
        errors["name"] = "Enter a name of up to 100 characters"
    if not data.recipient.strip() or len(data.recipient) > 200:
        errors["recipient"] = "Enter who receives it, in up to 200 characters"
    if not PREFIX.match(data.prefix.strip()):
        errors["prefix"] = "Enter a prefix of 1 to 10 capital letters and digits, " \
                           "starting with a letter, like OLD"
    if not data.start.strip().isdigit() or not 1 <= int(data.start) <= MAX_START:
        errors["start"] = f"Enter the first number, from 1 to {MAX_START:,}"
    return errors


@dataclass
class Eligibility:
    allowed: list[Document] = field(default_factory=list)
    skipped: int = 0  # beyond the user's reach or rights
    no_images: list[str] = field(default_factory=list)  # URNs without page images
    pending: list[str] = field(default_factory=list)  # URNs with redactions to approve

    def message(self) -> str:
        parts = [f"{len(self.allowed)} document{'s' if len(self.allowed) != 1 else ''} "
                 "can be produced"]
        if self.pending:
            parts.append(f"{len(self.pending)} left out: redactions waiting for approval "
                         f"({_some(self.pending)})")
        if self.no_images:
            parts.append(f"{len(self.no_images)} left out: no page images to produce from "
                         f"({_some(self.no_images)})")
        if self.skipped:
            parts.append(f"{self.skipped} skipped because you may not export "
                         f"{'them' if self.skipped != 1 else 'it'}")
        return "; ".join(parts) + "."


def _some(urns: list[str]) -> str:
    return ", ".join(urns[:10]) + (" …" if len(urns) > 10 else "")


def eligible(user: User | None, docs: list[Document], skipped: int = 0) -> Eligibility:
    """Which documents can go into a production now, and why the others cannot."""
    out = Eligibility(skipped=skipped)
    pending = redactions_.pending_counts([d.id for d in docs])
    for document in docs:
        if not may_export(user, document):
            out.skipped += 1
        elif not page_images.has_images(document):
            out.no_images.append(document.urn)
        elif pending.get(document.id):
            out.pending.append(document.urn)
        else:
            out.allowed.append(document)
    out.allowed.sort(key=lambda d: d.urn)
    return out


def start(user: User, docs: list[Document], data: Request, skipped: int = 0
          ) -> tuple[Production | None, Eligibility]:
    """Record the production with the documents that can go in, audit it, queue the job."""
    found = eligible(user, docs, skipped)
    if not found.allowed:
        return None, found
    production = Production(
        user_id=user.id, name=data.name.strip()[:100], recipient=data.recipient.strip()[:200],
        prefix=data.prefix.strip(), start=int(data.start),
        document_ids=json.dumps([d.id for d in found.allowed]), total=len(found.allowed),
        status=QUEUED)
    db.session.add(production)
    db.session.flush()
    audit.record("production_requested", user=user, object_type="production",
                 object_id=production.id, name=production.name,
                 recipient=production.recipient, prefix=production.prefix,
                 start=production.start, documents=len(found.allowed),
                 urns=[d.urn for d in found.allowed][:1000], pending=found.pending[:1000],
                 skipped=found.skipped)
    db.session.commit()
    build_production.enqueue(production.id)
    db.session.refresh(production)
    return production, found


def rebuild(user: User, production: Production) -> None:
    """Build the same production again (after a failure, or to prove it reproduces)."""
    production.status, production.done, production.error = QUEUED, 0, ""
    audit.record("production_rebuild_requested", user=user, object_type="production",
                 object_id=production.id, previous_sha256=production.sha256)
    db.session.commit()
    build_production.enqueue(production.id)


def number(production: Production, index: int) -> str:
    """The production number of the index-th document produced (from 0)."""
    return f"{production.prefix}{production.start + index:06d}"


def path_of(production: Production) -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "productions" / \
        f"production-{production.id}.zip"


@queue.task("build_production")
def build_production(production_id: int) -> str:
    """The job: write the ZIP under a temporary name, then move it into place."""
    production = db.session.get(Production, production_id)
    if production is None:
        return "missing"
    if production.status in (DONE, FAILED):
        return production.status
    user = db.session.get(User, production.user_id)
    production.status, production.done, production.pages = RUNNING, 0, 0
    db.session.commit()
    target = path_of(production)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    try:
        left_out = _write(production, user, partial)
    except OperationalError:
        db.session.rollback()
        raise  # busy database: the queue retries from the start
    except Exception:
        log.exception("production %s failed", production_id)
        db.session.rollback()
        partial.unlink(missing_ok=True)
        production = db.session.get(Production, production_id)
        production.status = FAILED
        production.error = "The production could not be built. Try again later."
        production.finished_at = utcnow()
        db.session.commit()
        return FAILED
    partial.replace(target)
    production.sha256 = _sha256(target)
    production.left_out = "\n".join(left_out)
    production.status, production.finished_at = DONE, utcnow()
    audit.record("production_built", user=user, object_type="production",
                 object_id=production.id, documents=production.done - len(left_out),
                 pages=production.pages, left_out=left_out[:1000], sha256=production.sha256)
    db.session.commit()
    return DONE


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info


def _by_reason(found: list[Redaction]) -> list[int]:
    return [sum(1 for r in found if r.reason == code) for code in redactions_.REASONS]


def _write(production: Production, user: User | None, path: Path) -> list[str]:
    """Write the ZIP; returns the documents left out, with why."""
    docs = sorted(documents(json.loads(production.document_ids)), key=lambda d: d.urn)
    manifest: list[str] = []
    left_out: list[str] = []
    load = io.StringIO()
    writer = csv.writer(load, lineterminator="\r\n")
    writer.writerow(LOAD_HEADER)
    produced = 0
    with zipfile.ZipFile(path, "w") as archive:
        for document in docs:
            # Reach and approval are checked again now: either may have changed.
            pending = db.session.execute(select(Redaction.id).where(
                Redaction.document_id == document.id, Redaction.status == PROPOSED)).first()
            if user is None or not user.active or not may_export(user, document):
                left_out.append(f"{document.urn}: no longer within your reach")
            elif pending is not None:
                left_out.append(f"{document.urn}: redactions waiting for approval")
            else:
                code = number(production, produced)
                approved = redactions_.of_document(document.id, approved_only=True)
                footer = redacted.Footer(document.marking,
                                         lambda page, code=code: f"{code}_{page:04d}")
                data = redacted.render_pdf(document, approved, footer)
                name = f"documents/{code}.pdf"
                archive.writestr(_entry(name), data, compresslevel=6)
                manifest.append(f"{hashlib.sha256(data).hexdigest()}  {name}")
                reasons = _by_reason(approved)
                row = [f"{code}_0001", f"{code}_{document.page_count:04d}", document.urn,
                       document.title,
                       document.document_date.date().isoformat() if document.document_date
                       else "", document.page_count, document.marking, len(approved),
                       *reasons]
                writer.writerow([safe_cell(v) for v in row])
                produced += 1
                production.pages += document.page_count
            production.done += 1
            db.session.commit()
        data = load.getvalue().encode("utf-8")
        archive.writestr(_entry("loadfile.csv"), data, compresslevel=6)
        manifest.append(f"{hashlib.sha256(data).hexdigest()}  loadfile.csv")
        archive.writestr(_entry("manifest.txt"), "\n".join(manifest) + "\n", compresslevel=6)
    return left_out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def get_for(user: User | None, production_id: int) -> Production | None:
    """The production when this user asked for it; None otherwise (like a bundle)."""
    production = db.session.get(Production, production_id)
    if production is None or user is None or not user.active \
            or production.user_id != user.id:
        return None
    return production


def recent_for(user: User, limit: int = 20) -> list[Production]:
    return list(db.session.execute(select(Production).where(Production.user_id == user.id)
                                   .order_by(Production.id.desc()).limit(limit)).scalars())


def record_download(user: User, production: Production) -> None:
    audit.record("production_downloaded", user=user, object_type="production",
                 object_id=production.id, sha256=production.sha256)
    db.session.commit()


def may_produce(user: User | None) -> bool:
    return permissions.can(user, "export")
