"""The ingest pipeline as named stages.

receive(): stage -> validate -> store -> register -> enqueue   (in the request or CLI)
process_documents(): extract (several files to a child) -> OCR -> save pages -> hand to
                     the indexer, one transaction per batch (in a job)

A file refused by validation leaves nothing behind. A file that passed is stored and has a
Document row before any parser sees it, so every later failure is visible and retryable.
"""

from __future__ import annotations

import errno
import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from .. import extract, faults, queue
from ..access import audit
from ..db import db
from ..models import Batch, BatchItem, Document, Inquiry, Page, Receipt, Status, User
from ..search import IndexLocked, backend
from . import citations, dates, near_duplicates, ocr
from .indexing import RETRIES, enqueue_index
from .storage import Store, TooLarge

log = logging.getLogger(__name__)

RECEIVED, DUPLICATE, REJECTED = "received", "duplicate", "rejected"
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
# For files OCR does not apply to (Word, plain text, e-mail); scans get ocr.py's reasons.
NO_TEXT_REASON = "No text was found in this file: it has no words to read or search."
MAX_ATTACHMENT_DEPTH = 3
# Files stored, registered and read together (one transaction, one reader child each).
BATCH_FILES = 16
BATCH_BYTES = 32 * 1024 * 1024


@dataclass
class Incoming:
    """One file arriving, with who sent it and how."""

    stream: BinaryIO
    filename: str
    inquiry: Inquiry
    user: User | None = None
    channel: str = "web"
    batch: Batch | None = None
    doc_type: str = "other"
    source: str = ""
    title: str = ""
    parent: Document | None = None
    # A date the sender gave for this file: recorded as entered by hand, so reading the
    # file later does not replace it.
    document_date: datetime | None = None


@dataclass
class Outcome:
    filename: str
    outcome: str  # received, duplicate, rejected
    reason: str = ""
    document: Document | None = None
    sha256: str = ""
    # Read before the commit that expires `document`: using these costs no reload.
    document_id: int | None = None
    size: int | None = None  # None: not known (the disk filled while it was read)

    def __post_init__(self) -> None:
        if self.document is not None and self.document_id is None:
            self.document_id, self.size = self.document.id, self.document.size


def store() -> Store:
    return Store(current_app.config["UPLOAD_DIR"])


def clean_filename(name: str) -> str:
    """A display name: the last path component, without control or bidi-override characters.

    Never used as a path; originals are stored by hash.
    """
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip()[:255] or "unnamed"


def receive(incoming: Incoming, *, enqueue: bool = True) -> Outcome:
    """Validate and store one file, and register it; the caller's batch row is updated.
    With `enqueue=False` the caller queues the reading itself (see ReadingBatches)."""
    return receive_many([incoming], enqueue=enqueue)[0]


@dataclass
class _Stored:
    """A file that passed validation and is in the store, waiting to be registered."""

    incoming: Incoming
    sha256: str
    size: int
    mime: str


def receive_many(incomings: list[Incoming], *, enqueue: bool = True) -> list[Outcome]:
    """receive() for several files: each is staged, checked and stored on its own, then all
    are registered in one transaction (one commit, not one a file). With `enqueue`, the
    files received are queued to be read together."""
    staged: list[Outcome | _Stored] = [_store_one(incoming) for incoming in incomings]
    outcomes = _register_all(staged)
    for incoming, outcome in zip(incomings, outcomes, strict=True):
        _note_in_batch(incoming, outcome)
        if outcome.outcome == REJECTED:
            audit.record("upload_rejected", user=incoming.user, object_type="file",
                         inquiry_id=incoming.inquiry.id, filename=incoming.filename,
                         reason=outcome.reason, sha256=outcome.sha256)
    db.session.commit()
    received = [o.document_id for o in outcomes
                if o.outcome == RECEIVED and o.document_id is not None]
    if enqueue and received:
        process_documents.enqueue(received)
    return outcomes


def _store_one(incoming: Incoming) -> Outcome | _Stored:
    """Stage, check and store one file: what to register, or why it was refused."""
    incoming.filename = clean_filename(incoming.filename)
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    try:
        with store().stage(incoming.stream, max_bytes) as staged:
            if staged.size == 0:
                return Outcome(incoming.filename, REJECTED, "The file is empty.",
                               sha256=staged.sha256, size=0)
            try:
                mime = extract.check_type(str(staged.path), incoming.filename)
            except extract.Rejected as refused:
                return Outcome(incoming.filename, REJECTED, refused.reason,
                               sha256=staged.sha256, size=staged.size)
            store().commit(staged)  # the original is linked into the store: it stays
            return _Stored(incoming, staged.sha256, staged.size, mime)
    except TooLarge:
        limit = current_app.config["MAX_UPLOAD_MB"]
        return Outcome(incoming.filename, REJECTED, f"The file is larger than the {limit} MB "
                       "limit. Ask an administrator to ingest it from the command line.",
                       size=max_bytes + 1)  # at least: reading stopped past the limit
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise
        # The staged copy is removed on the way out and nothing was linked: no partial original.
        log.error("disk full while storing %s: %s", incoming.filename, error)
        return Outcome(incoming.filename, REJECTED, "The server ran out of disk space, so "
                       "the file was not stored. Nothing was kept: try again later, and tell "
                       "an administrator.")


def _register_all(staged: list[Outcome | _Stored]) -> list[Outcome]:
    return [register(item.incoming, item.sha256, item.size, item.mime)
            if isinstance(item, _Stored) else item for item in staged]


def register(incoming: Incoming, sha256: str, size: int, mime: str) -> Outcome:
    """Create the Document (or note a duplicate) in the caller's transaction."""
    existing = _existing(incoming.inquiry.id, sha256)
    if existing is None:
        try:
            with db.session.begin_nested():  # a refused insert undoes this file only
                document = _new_document(incoming, sha256, size, mime)
            return Outcome(incoming.filename, RECEIVED, "", document, sha256, document.id,
                           size)
        except IntegrityError:
            # The same bytes were registered by a concurrent upload a moment ago.
            existing = _existing(incoming.inquiry.id, sha256)
            if existing is None:
                raise
    _add_receipt(existing, incoming, duplicate=True)
    audit.record("duplicate_received", user=incoming.user, object_type="document",
                 object_id=existing.id, inquiry_id=existing.inquiry_id,
                 filename=incoming.filename, urn=existing.urn)
    return Outcome(incoming.filename, DUPLICATE, f"Already held as {existing.urn}.", existing,
                   sha256)


def _existing(inquiry_id: int, sha256: str) -> Document | None:
    return db.session.execute(
        select(Document).where(Document.inquiry_id == inquiry_id, Document.sha256 == sha256)
    ).scalar()


def allocate_urn(inquiry: Inquiry) -> str:
    """Take the next number atomically, inside the caller's transaction."""
    number = db.session.execute(
        update(Inquiry).where(Inquiry.id == inquiry.id)
        .values(last_number=Inquiry.last_number + 1).returning(Inquiry.last_number)
    ).scalar_one()
    return f"{inquiry.code}{number:06d}"


def _new_document(incoming: Incoming, sha256: str, size: int, mime: str) -> Document:
    document = Document(
        inquiry_id=incoming.inquiry.id,
        urn=allocate_urn(incoming.inquiry),
        title=incoming.title.strip()[:500] or Path(incoming.filename).stem[:500] or "Untitled",
        original_filename=incoming.filename,
        mime=mime,
        size=size,
        sha256=sha256,
        doc_type=incoming.doc_type,
        source=incoming.source.strip()[:200],
        document_date=incoming.document_date,
        date_source=dates.MANUAL if incoming.document_date else None,
        status=Status.RECEIVED,
        parent_id=incoming.parent.id if incoming.parent else None,
        uploaded_by_id=incoming.user.id if incoming.user else None,
    )
    db.session.add(document)
    db.session.flush()
    _add_receipt(document, incoming, duplicate=False)
    audit.record("document_received", user=incoming.user, object_type="document",
                 object_id=document.id, inquiry_id=document.inquiry_id, urn=document.urn,
                 filename=incoming.filename, sha256=sha256, channel=incoming.channel)
    return document


def _add_receipt(document: Document, incoming: Incoming, *, duplicate: bool) -> None:
    db.session.add(Receipt(
        document_id=document.id, filename=incoming.filename, channel=incoming.channel,
        duplicate=duplicate, received_by_id=incoming.user.id if incoming.user else None,
        batch_id=incoming.batch.id if incoming.batch else None,
    ))


def _note_in_batch(incoming: Incoming, outcome: Outcome) -> None:
    if incoming.batch is None:
        return
    db.session.add(BatchItem(
        batch_id=incoming.batch.id, filename=outcome.filename, outcome=outcome.outcome,
        reason=outcome.reason, document_id=outcome.document_id,
        size=outcome.size,
    ))


# --- processing (runs in a job) -------------------------------------------------------------

@queue.task("process_documents", retries=RETRIES, transient=(IndexLocked, OperationalError))
def process_documents(document_ids: list[int]) -> None:
    """Read stored documents' text into Page rows, several files to a reader child, and
    commit them together: one transaction and one index request for the whole batch."""
    documents = _claim(document_ids)
    if not documents:
        return
    faults.point("extracting")
    paths = [str(store().path_for(d.sha256)) for d in documents]
    results = extract.extract_many([(path, d.mime) for path, d in zip(paths, documents,
                                                                       strict=True)],
                                   **_limits())
    with_text = [document for document, path, result in zip(documents, paths, results,
                                                             strict=True)
                 if _settle(document, path, result)]
    read = [d.id for d in documents]  # ids now: the commit below expires the rows
    search = backend()
    if search.transactional:
        # The search rows are written in this transaction (also clearing those a retry
        # left behind): committed pages are searchable at once, with no index job.
        search.index_pages([d.id for d in documents], [])
    db.session.commit()
    faults.point("after_pages_commit")
    for document, result in zip(documents, results, strict=True):
        if isinstance(result, extract.Extracted) and result.attachments:
            _receive_attachments(document, result.attachments)
    if with_text and not search.transactional:
        enqueue_index()
    near_duplicates.find_near_duplicates.enqueue(read)  # versions, from the saved text


def process(document_id: int) -> str | None:
    """Read one document now, in this process (check --repair, tools); its new status."""
    process_documents([document_id])
    document = db.session.get(Document, document_id)
    return document.status if document is not None else None


def _claim(document_ids: list[int]) -> list[Document]:
    """The documents still waiting to be read, marked as being read (one commit)."""
    documents = db.session.execute(
        select(Document).where(Document.id.in_(document_ids),
                               Document.status.in_((Status.RECEIVED, Status.EXTRACTING)))
        .order_by(Document.id)).scalars().all()
    for document in documents:
        document.status = Status.EXTRACTING
        document.attempts += 1
        document.ocr_done = document.ocr_total = 0
    db.session.commit()
    return list(documents)


def _limits() -> dict:
    config = current_app.config
    return {
        "cpu_seconds": config["EXTRACT_TIMEOUT"], "memory_mb": config["EXTRACT_MEMORY_MB"],
        "zip_limits": extract.ZipLimits(
            max_uncompressed_bytes=config["ZIP_MAX_UNCOMPRESSED_MB"] * 1024 * 1024,
            max_ratio=config["ZIP_MAX_RATIO"], max_entries=config["ZIP_MAX_ENTRIES"],
        ),
        "pdf_text": config["PDF_TEXT"],
    }


def _settle(document: Document, path: str, result: extract.Extracted | Exception) -> bool:
    """Stage one document's outcome in the session; True when pages with text were saved."""
    if isinstance(result, extract.ExtractionError):
        return _fail(document, str(result.reason), result.detail)
    try:
        no_text_reason = ocr.fill(document, path, result)
    except extract.ExtractionError as error:
        return _fail(document, str(error.reason), error.detail)
    if not store().exists(document.sha256):
        return _fail(document, "The stored original is missing.")
    return _save_pages(document, result, no_text_reason or NO_TEXT_REASON)


def _fail(document: Document, reason: str, detail: str = "") -> bool:
    document.status = Status.FAILED
    document.reason = reason
    document.reason_detail = detail  # the technical cause: the log and admins only
    log.warning("%s could not be read: %s (%s)", document.urn, reason, detail or "no detail")
    audit.record("extraction_failed", object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, reason=reason)
    return False


def _save_pages(document: Document, result: extract.Extracted, no_text_reason: str) -> bool:
    db.session.execute(delete(Page).where(Page.document_id == document.id))
    if result.pages:
        # Core's executemany, not ORM objects: a page row costs microseconds, not a flush.
        db.session.execute(insert(Page), [
            {"document_id": document.id, "number": number, "text": text,
             "ocr": number in result.ocr, "ocr_confidence": result.ocr.get(number)}
            for number, text in result.pages])
    citations.record_pages(document.id, result.pages)
    document.page_count = len(result.pages)
    document.page_label = result.page_label
    if result.title and document.title == Path(document.original_filename).stem[:500]:
        document.title = result.title.strip()[:500]
    document.author = (result.author or "").strip()[:300] or document.author
    # A date entered by hand while the file was being read must win: look again now.
    db.session.refresh(document, ["document_date", "date_source"])
    dates.settle(document, result.created, result.pages[0][1] if result.pages else "")
    has_text = any(text.strip() for _, text in result.pages)
    in_step = has_text and backend().transactional
    document.status = (Status.INDEXED if in_step else Status.INDEXING) if has_text \
        else Status.NO_TEXT
    document.reason = " ".join(r for r in ("" if has_text else no_text_reason,
                                           result.unread_reason) if r)
    document.reason_detail = result.detail
    document.ocr_total = document.ocr_done = 0  # progress is over; pages carry the flag
    audit.record("text_extracted", object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn, pages=len(result.pages),
                 ocr_pages=len(result.ocr), status=str(document.status))
    return has_text


def _receive_attachments(parent: Document, attachments: list[extract.Attachment]) -> None:
    depth, ancestor = 0, parent
    while ancestor.parent is not None:
        depth, ancestor = depth + 1, ancestor.parent
    if depth >= MAX_ATTACHMENT_DEPTH:
        return
    for attachment in attachments:
        receive(Incoming(
            stream=io.BytesIO(attachment.data), filename=attachment.filename,
            inquiry=parent.inquiry, user=parent.uploaded_by, channel="email attachment",
            doc_type=parent.doc_type, source=parent.source, parent=parent,
        ))


def retry(document: Document, user: User | None) -> bool:
    """Send a failed or text-less document through extraction again."""
    if document.status not in (Status.FAILED, Status.NO_TEXT, Status.EXTRACTING,
                               Status.RECEIVED):
        return False
    document.status = Status.RECEIVED
    document.reason = ""
    audit.record("retry_requested", user=user, object_type="document", object_id=document.id,
                 inquiry_id=document.inquiry_id, urn=document.urn)
    db.session.commit()
    process_documents.enqueue([document.id])
    return True


def read_again(documents: list[Document]) -> None:
    """Queue documents a worker left unread (check --repair); audited."""
    for document in documents:
        document.status = Status.RECEIVED
        audit.record("reading_requeued", object_type="document", object_id=document.id,
                     inquiry_id=document.inquiry_id, urn=document.urn)
    db.session.commit()
    ids = [d.id for d in documents]
    for start in range(0, len(ids), BATCH_FILES):
        process_documents.enqueue(ids[start:start + BATCH_FILES])


def queued_for_reading() -> set[int]:
    """The documents a reading task waiting in the queue (or scheduled to retry) names."""
    huey = queue.huey()
    if huey.immediate:
        return set()
    found: set[int] = set()
    for task in [*huey.pending(), *huey.scheduled()]:
        if task.name == process_documents.name and task.args:
            found.update(task.args[0])
    return found


def waiting_for_ocr() -> list[Document]:
    """Documents that OCR could still read: scans and PDFs that ended without text."""
    return list(db.session.execute(
        select(Document).where(Document.status == Status.NO_TEXT,
                               Document.mime.in_(sorted(extract.PAGED)))
        .order_by(Document.id)
    ).scalars())


def queue_ocr(documents: list[Document]) -> int:
    """Send documents through reading again (text layer, then OCR); audited."""
    for document in documents:
        document.status = Status.RECEIVED
        document.reason = ""
        audit.record("ocr_requested", object_type="document", object_id=document.id,
                     inquiry_id=document.inquiry_id, urn=document.urn)
    db.session.commit()
    for document in documents:
        process_documents.enqueue([document.id])
    return len(documents)
