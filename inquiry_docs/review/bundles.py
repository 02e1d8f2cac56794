"""Disclosure bundles and the coding index: what leaves the system, always audited.

A bundle is a ZIP of the selected originals named by URN, `index.csv` (each document with
its coding) and `manifest.txt` (the SHA-256 of every file in the ZIP). It is built by a
background job that records its progress a document at a time; the job checks again that
the person who asked may still see each document.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from .. import queue
from ..access import audit, permissions
from ..db import db
from ..evidence import ingest
from ..models import PRIVILEGE, RELEVANCE, REVIEW_STATUS, Bundle, Document, User, utcnow
from ..search.export import safe_cell
from . import coding as coding_
from . import tags as tags_
from .selection import Outcome, documents

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATUS_LABELS = {QUEUED: "Waiting to start", RUNNING: "Building", DONE: "Ready",
                 FAILED: "Stopped"}
INDEX_HEADER = ("URN", "Title", "Inquiry", "Date", "Type", "Source", "Marking",
                "Restriction order", "Relevance", "Privilege", "Review status", "Reviewer",
                "Redaction pages", "Redaction reason", "Tags", "SHA-256", "File")
EXTENSIONS = {"application/pdf": ".pdf", "message/rfc822": ".eml", "text/plain": ".txt"}


def file_name(document: Document) -> str:
    """The name inside the ZIP: the URN, never the uploaded name (untrusted text)."""
    extension = EXTENSIONS.get(document.mime,
                               ".docx" if "wordprocessingml" in document.mime else "")
    return f"{document.urn}{extension}"


def index_row(document: Document, with_file: bool = True) -> list[str]:
    """One document and its coding, every cell safe to open in a spreadsheet."""
    coding = coding_.current(document.id)
    reviewer = coding.reviewer.email if coding.reviewer_id and coding.reviewer else ""
    row = [document.urn, document.title, document.inquiry.code,
           document.document_date.date().isoformat() if document.document_date else "",
           document.type_label, document.source, document.marking,
           document.restriction_ref if document.restricted else "",
           RELEVANCE.get(coding.relevance, coding.relevance),
           PRIVILEGE.get(coding.privilege, coding.privilege),
           REVIEW_STATUS.get(coding.review_status, coding.review_status), reviewer,
           coding.redaction_pages, coding.redaction_reason,
           "; ".join(t.name for t in tags_.of_document(document.id)), document.sha256,
           file_name(document) if with_file else ""]
    return [safe_cell(v) for v in row]


def may_export(user: User | None, document: Document) -> bool:
    return permissions.can_see(user, document) and permissions.can(
        user, "export", document.inquiry_id)


def coding_csv(user: User, docs: list[Document], skipped: int = 0) -> Iterator[str]:
    """The coding index of the documents the user may export, as CSV lines (audited)."""
    allowed = [d for d in docs if may_export(user, d)]
    audit.record("coding_exported", user=user, object_type="export", rows=len(allowed),
                 skipped=skipped + len(docs) - len(allowed))
    db.session.commit()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(INDEX_HEADER[:-1])
    for document in allowed:
        writer.writerow(index_row(document)[:-1])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


# --- bundles -------------------------------------------------------------------------------

def start(user: User, docs: list[Document], name: str, skipped: int = 0
          ) -> tuple[Bundle | None, Outcome]:
    """Record the bundle with the documents the user may export, audit it, queue the job."""
    allowed = [d.id for d in docs if may_export(user, d)]
    outcome = Outcome(changed=len(allowed), skipped=skipped + len(docs) - len(allowed))
    if not allowed:
        return None, outcome
    bundle = Bundle(user_id=user.id, name=name.strip()[:100] or "Disclosure bundle",
                    document_ids=json.dumps(allowed), total=len(allowed), status=QUEUED)
    db.session.add(bundle)
    db.session.flush()
    audit.record("bundle_requested", user=user, object_type="bundle", object_id=bundle.id,
                 documents=len(allowed), skipped=outcome.skipped,
                 urns=[d.urn for d in docs if d.id in set(allowed)][:1000])
    db.session.commit()
    build_bundle.enqueue(bundle.id)
    db.session.refresh(bundle)
    return bundle, outcome


def path_of(bundle: Bundle) -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / "bundles" / f"bundle-{bundle.id}.zip"


@queue.task("build_bundle")
def build_bundle(bundle_id: int) -> str:
    """The job: write the ZIP to a temporary name, then move it into place."""
    bundle = db.session.get(Bundle, bundle_id)
    if bundle is None:
        return "missing"
    if bundle.status in (DONE, FAILED):
        return bundle.status
    user = db.session.get(User, bundle.user_id)
    bundle.status, bundle.done = RUNNING, 0
    db.session.commit()
    target = path_of(bundle)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    try:
        _write(bundle, user, partial)
    except OperationalError:
        db.session.rollback()
        raise  # busy database: the queue retries from the start
    except Exception:
        log.exception("bundle %s failed", bundle_id)
        db.session.rollback()
        partial.unlink(missing_ok=True)
        bundle = db.session.get(Bundle, bundle_id)
        bundle.status, bundle.error = FAILED, "The bundle could not be built. Try again later."
        bundle.finished_at = utcnow()
        db.session.commit()
        return FAILED
    partial.replace(target)
    bundle.sha256 = _sha256(target)
    bundle.status, bundle.finished_at = DONE, utcnow()
    audit.record("bundle_built", user=user, object_type="bundle", object_id=bundle.id,
                 documents=bundle.done, sha256=bundle.sha256)
    db.session.commit()
    return DONE


def _write(bundle: Bundle, user: User | None, path: Path) -> None:
    ids = json.loads(bundle.document_ids)
    store = ingest.store()
    manifest: list[str] = []
    index = io.StringIO()
    writer = csv.writer(index)
    writer.writerow(INDEX_HEADER)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for document in documents(ids):
            # Reach is checked again now: access may have been withdrawn since the request.
            if user is not None and user.active and may_export(user, document):
                name = f"originals/{file_name(document)}"
                archive.write(store.path_for(document.sha256), name)
                manifest.append(f"{document.sha256}  {name}")
                writer.writerow(index_row(document))
            bundle.done += 1
            db.session.commit()
        data = index.getvalue().encode("utf-8")
        archive.writestr("index.csv", data)
        manifest.append(f"{hashlib.sha256(data).hexdigest()}  index.csv")
        archive.writestr("manifest.txt", "\n".join(manifest) + "\n")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def get_for(user: User | None, bundle_id: int) -> Bundle | None:
    """The bundle when this user asked for it; None otherwise (a bundle is personal)."""
    bundle = db.session.get(Bundle, bundle_id)
    if bundle is None or user is None or not user.active or bundle.user_id != user.id:
        return None
    return bundle


def recent_for(user: User, limit: int = 10) -> list[Bundle]:
    return list(db.session.execute(select(Bundle).where(Bundle.user_id == user.id)
                                   .order_by(Bundle.id.desc()).limit(limit)).scalars())


def record_download(user: User, bundle: Bundle) -> None:
    audit.record("bundle_downloaded", user=user, object_type="bundle", object_id=bundle.id,
                 sha256=bundle.sha256)
    db.session.commit()
