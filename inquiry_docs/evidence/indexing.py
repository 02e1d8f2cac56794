"""Writing committed pages to the search index: the index task, the only index writer.

Rows are committed first; an index run then reads them back with their labels (tags,
coding, linked recommendations) and writes a batch of documents per commit.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from .. import queue
from ..db import db
from ..models import Coding, Document, DocumentTag, EvidenceLink, Page, Recommendation, Status
from ..search import IndexLocked, IndexPage, backend

log = logging.getLogger(__name__)

INDEX_REQUESTED = "index-requested"  # holds the time the waiting run was asked for
INDEX_POLL = 0.5  # seconds between looks while a run waits for more documents
# A request older than INDEX_DELAY plus this was lost with a worker that died while its run
# waited (a run takes the request away before indexing): it no longer stands for a run.
INDEX_REQUEST_LOST = 60.0
RETRIES = 5


def enqueue_index() -> None:
    """Ask for an index run unless one is already asked for: that one takes this document too."""
    huey = queue.huey()
    if huey.immediate:
        index_run.enqueue()
        return
    now = time.time()
    if huey.put_if_empty(INDEX_REQUESTED, str(now)):
        index_run.schedule(delay=INDEX_POLL)
        return
    asked = huey.get(INDEX_REQUESTED, peek=True)
    if asked is not None and now - float(asked) > current_app.config["INDEX_DELAY"] + \
            INDEX_REQUEST_LOST:
        # Other workers go on (a shared Redis queue), so no restart would clear it: ask anew.
        log.warning("an index run asked for at %s never ran; asking again", asked)
        huey.put(INDEX_REQUESTED, str(now))
        index_run.schedule(delay=INDEX_POLL)


@queue.task("index_pending", retries=RETRIES, transient=(IndexLocked, OperationalError))
def index_run() -> int:
    """The queued index task: index what is waiting, one run at a time in this process.

    Each commit costs a merge of the index's small segments, so while other documents are
    still being extracted the run waits (up to INDEX_DELAY seconds) for INDEX_MIN_PAGES
    pages to share one commit; a single upload is indexed at once.
    """
    huey = queue.huey()
    if huey.immediate:
        return index_pending()
    if not _INDEXING.acquire(blocking=False):
        # Another thread is indexing and may have looked before this run's documents
        # arrived: come back later rather than hold a worker thread waiting on the lock.
        index_run.schedule(delay=INDEX_POLL)
        return 0
    try:
        asked = huey.get(INDEX_REQUESTED, peek=True)
        if asked is not None and _worth_waiting(float(asked)):
            index_run.schedule(delay=INDEX_POLL)
            return 0
        huey.get(INDEX_REQUESTED)  # from here on, a new document asks for a new run
        return index_pending()
    finally:
        _INDEXING.release()


_INDEXING = threading.Lock()


def _worth_waiting(asked_at: float) -> bool:
    config = current_app.config
    if time.time() - asked_at >= config["INDEX_DELAY"]:
        return False
    extracting = db.session.execute(
        select(Document.id).where(Document.status.in_((Status.RECEIVED, Status.EXTRACTING)))
        .limit(1)
    ).first()
    if extracting is None:
        return False
    waiting = db.session.execute(
        select(func.coalesce(func.sum(Document.page_count), 0))
        .where(Document.status == Status.INDEXING)
    ).scalar_one()
    return waiting < config["INDEX_MIN_PAGES"]


def waiting_for_index():
    """Documents the index has yet to write: new text (status `indexing`), or searchable
    documents whose labels changed (`labels_stale`, status left `indexed`)."""
    return (Document.status == Status.INDEXING) | (
        (Document.status == Status.INDEXED) & Document.labels_stale.is_(True))


def index_pending(batch: int | None = None) -> int:
    """Index every document waiting (see waiting_for_index), a batch per commit."""
    batch = batch or current_app.config["INDEX_BATCH"]
    total = 0
    while True:
        ids = db.session.execute(
            select(Document.id).where(waiting_for_index())
            .order_by(Document.id).limit(batch)
        ).scalars().all()
        if not ids:
            return total
        index_documents(ids)
        total += len(ids)


def index_documents(ids: list[int]) -> None:
    """Write these documents' committed pages to the index, then mark them indexed."""
    documents = db.session.execute(select(Document).where(Document.id.in_(ids))).scalars().all()
    backend().index_pages([d.id for d in documents], pages_for_index(documents))
    for document in documents:
        if document.status == Status.INDEXING:
            document.status = Status.INDEXED
        document.labels_stale = False
    db.session.commit()


def index_pages_of(document: Document) -> list[IndexPage]:
    """The index records of one document's pages with text, labels included."""
    return pages_for_index([document])


def pages_for_index(documents: list[Document]) -> list[IndexPage]:
    """The index records of these documents' pages with text, labels included, read in a
    few statements for the whole batch (not several a document)."""
    if not documents:
        return []
    ids = [d.id for d in documents]
    review = review_fields(ids)
    recs = recommendations_by_page(ids)
    rows = db.session.execute(
        select(Page.document_id, Page.number, Page.text).where(Page.document_id.in_(ids))
        .order_by(Page.document_id, Page.number))
    by_id = {d.id: d for d in documents}
    out = []
    for document_id, number, text in rows:
        if not text.strip():
            continue
        d = by_id[document_id]
        out.append(IndexPage(
            d.id, d.urn, number, text, d.title, d.inquiry_id, d.doc_type, d.source, d.marking,
            d.document_date, d.restricted, tuple(recs.get((d.id, number), ())),
            **review.get(d.id, {})))
    return out


def review_fields(ids: list[int]) -> dict[int, dict]:
    """What the index holds about each document's review: tag ids and coding values (no
    entry: IndexPage's defaults, the values of an uncoded document)."""
    fields: dict[int, dict] = {}
    for document_id, tag_id in db.session.execute(
            select(DocumentTag.document_id, DocumentTag.tag_id)
            .where(DocumentTag.document_id.in_(ids)).order_by(DocumentTag.tag_id)):
        tags = fields.setdefault(document_id, {}).setdefault("tags", ())
        fields[document_id]["tags"] = (*tags, tag_id)
    for coding in db.session.execute(select(Coding).where(Coding.document_id.in_(ids))
                                     ).scalars():
        fields.setdefault(coding.document_id, {}).update(
            relevance=coding.relevance, privilege=coding.privilege,
            review=coding.review_status, reviewer=coding.reviewer_id,
            redaction=coding.redaction_needed)
    return fields


def recommendations_by_page(ids: list[int]) -> dict[tuple[int, int], list[str]]:
    """Each linked page's recommendations, as search names them (`13`, `gbe2025-3`)."""
    rows = db.session.execute(
        select(EvidenceLink.document_id, EvidenceLink.page, Recommendation)
        .join(Recommendation).where(EvidenceLink.document_id.in_(ids))).all()
    out: dict[tuple[int, int], list[str]] = {}
    for document_id, page, rec in rows:
        names = out.setdefault((document_id, page), [])
        if rec.ref not in names:
            names.append(rec.ref)
    return out


def resume_indexing(app: Flask) -> None:
    """Queue an index run for documents left waiting by a process that stopped.

    A stopped process may also have left the "run requested" flag set with its run
    unfinished; clearing it lets the next extracted document ask again.
    """
    with app.app_context():
        huey = queue.huey()
        huey.get(INDEX_REQUESTED)
        waiting = db.session.execute(
            select(Document.id).where(waiting_for_index()).limit(1)
        ).first()
        db.session.remove()
        if waiting is not None and not huey.immediate:
            huey.put(INDEX_REQUESTED, str(time.time()))
            index_run.enqueue()
