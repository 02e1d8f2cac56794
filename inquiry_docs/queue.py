"""The job queue (Huey) and its tasks. The indexer here is the only writer of the index.

Tasks run inside an app context; the worker process builds the app with create_app().
The queue is built per app from QUEUE_URL, so nothing connects at import time.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from flask import Flask, current_app
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from .db import db
from .models import Document, Page, Status
from .search import IndexPage, backend
from .search.whoosh.backend import IndexLocked

log = logging.getLogger(__name__)

RETRIES = 5
RETRY_DELAY = 2


@dataclass
class Jobs:
    huey: Huey
    process: Any
    index: Any
    consumer: Consumer | None = None
    thread: threading.Thread | None = None
    batch_search: Any = None
    bundle: Any = None


def make_huey(url: str, *, immediate: bool = False) -> Huey:
    if immediate or url == "memory://":
        return MemoryHuey("inquiry-docs", immediate=immediate)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return SqliteHuey("inquiry-docs", filename=url.removeprefix("sqlite:///"))
    if parsed.scheme in ("redis", "rediss"):
        return RedisHuey("inquiry-docs", url=url)
    raise ValueError(f"Unsupported QUEUE_URL {url!r}: use sqlite:///path or redis://host")


def init_app(app: Flask) -> None:
    huey = make_huey(app.config["QUEUE_URL"], immediate=app.config.get("QUEUE_IMMEDIATE", False))

    def in_app(fn):
        def run(*args):
            with app.app_context():
                try:
                    return fn(*args)
                finally:
                    db.session.remove()
        run.__name__ = fn.__name__
        return run

    transient = (IndexLocked, OperationalError)
    process = huey.task(retries=RETRIES, retry_delay=RETRY_DELAY, name="process_document")(
        in_app(_retry_on(transient)(process_document)))
    index = huey.task(retries=RETRIES, retry_delay=RETRY_DELAY, name="index_pending")(
        in_app(_retry_on(transient)(index_run)))
    from .search.batch import run_batch_search

    batch_search = huey.task(retries=3, retry_delay=RETRY_DELAY, name="run_batch_search")(
        in_app(_retry_on((OperationalError,))(run_batch_search)))
    from .review.bundles import build_bundle

    bundle = huey.task(retries=3, retry_delay=RETRY_DELAY, name="build_bundle")(
        in_app(_retry_on((OperationalError,))(build_bundle)))
    app.extensions["jobs"] = Jobs(huey, process, index, batch_search=batch_search,
                                  bundle=bundle)


def _retry_on(kinds: tuple[type[BaseException], ...]):
    """Log transient errors (Huey retries any exception) so a retry says why."""
    def wrap(fn):
        def run(*args):
            try:
                return fn(*args)
            except kinds as error:
                log.warning("%s will be retried: %s", fn.__name__, error)
                db.session.rollback()
                raise
        run.__name__ = fn.__name__
        return run
    return wrap


def jobs() -> Jobs:
    return current_app.extensions["jobs"]


def enqueue_process(document_id: int) -> None:
    jobs().process(document_id)


def process_document(document_id: int) -> str | None:
    from .evidence import ingest

    return ingest.process(document_id)


INDEX_REQUESTED = "index-requested"  # holds the time the waiting run was asked for
INDEX_POLL = 0.5  # seconds between looks while a run waits for more documents
# A request older than INDEX_DELAY plus this was lost with a worker that died while its run
# waited (a run takes the request away before indexing): it no longer stands for a run.
INDEX_REQUEST_LOST = 60.0


def enqueue_index() -> None:
    """Ask for an index run unless one is already asked for: that one takes this document too."""
    state = jobs()
    if state.huey.immediate:
        state.index()
        return
    now = time.time()
    if state.huey.put_if_empty(INDEX_REQUESTED, str(now)):
        state.index.schedule(delay=INDEX_POLL)
        return
    asked = state.huey.get(INDEX_REQUESTED, peek=True)
    if asked is not None and now - float(asked) > current_app.config["INDEX_DELAY"] + \
            INDEX_REQUEST_LOST:
        # Other workers go on (a shared Redis queue), so no restart would clear it: ask anew.
        log.warning("an index run asked for at %s never ran; asking again", asked)
        state.huey.put(INDEX_REQUESTED, str(now))
        state.index.schedule(delay=INDEX_POLL)


def index_run() -> int:
    """The queued index task: index what is waiting, one run at a time in this process.

    Each commit costs a merge of the index's small segments, so while other documents are
    still being extracted the run waits (up to INDEX_DELAY seconds) for INDEX_MIN_PAGES
    pages to share one commit; a single upload is indexed at once.
    """
    state = jobs()
    if state.huey.immediate:
        return index_pending()
    if not _INDEXING.acquire(blocking=False):
        # Another thread is indexing and may have looked before this run's documents
        # arrived: come back later rather than hold a worker thread waiting on the lock.
        state.index.schedule(delay=INDEX_POLL)
        return 0
    try:
        asked = state.huey.get(INDEX_REQUESTED, peek=True)
        if asked is not None and _worth_waiting(float(asked)):
            state.index.schedule(delay=INDEX_POLL)
            return 0
        state.huey.get(INDEX_REQUESTED)  # from here on, a new document asks for a new run
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


def index_pending(batch: int | None = None) -> int:
    """Index every document waiting in status `indexing`, a batch per commit."""
    batch = batch or current_app.config["INDEX_BATCH"]
    total = 0
    while True:
        ids = db.session.execute(
            select(Document.id).where(Document.status == Status.INDEXING)
            .order_by(Document.id).limit(batch)
        ).scalars().all()
        if not ids:
            return total
        index_documents(ids)
        total += len(ids)


def index_documents(ids: list[int]) -> None:
    """Write these documents' committed pages to the index, then mark them indexed."""
    documents = db.session.execute(select(Document).where(Document.id.in_(ids))).scalars().all()
    pages = [
        page
        for document in documents
        for page in index_pages_of(document)
    ]
    backend().index_pages([d.id for d in documents], pages)
    for document in documents:
        if document.status == Status.INDEXING:
            document.status = Status.INDEXED
    db.session.commit()


def index_pages_of(document: Document) -> list[IndexPage]:
    from .recommendations.links import refs_by_page
    from .review.coding import index_fields

    review = index_fields(document.id)
    rows = db.session.execute(
        select(Page.number, Page.text).where(Page.document_id == document.id)
        .order_by(Page.number)
    )
    recs = refs_by_page(document.id)
    return [
        IndexPage(document.id, document.urn, number, text, document.title,
                  document.inquiry_id, document.doc_type, document.source, document.marking,
                  document.document_date, document.restricted, tuple(recs.get(number, ())),
                  **review)
        for number, text in rows if text.strip()
    ]


# --- consumers ----------------------------------------------------------------------------

class InProcessConsumer(Consumer):
    """A consumer that leaves the host process's signal handling alone."""

    def _set_signal_handlers(self) -> None:
        return None


def start_consumer(app: Flask, workers: int | None = None) -> None:
    """Run job workers as threads inside this process (the embedded default)."""
    state: Jobs = app.extensions["jobs"]
    if state.consumer is not None:
        return
    count = workers if workers is not None else app.config["WORKERS_IN_SERVER"]
    if count <= 0 or state.huey.immediate:
        return
    from . import extract

    extract.warm_up()  # start the parsers' fork server before threads exist
    resume_indexing(app)
    state.consumer = InProcessConsumer(
        state.huey, workers=count, worker_type="thread", periodic=False,
        check_worker_health=False, initial_delay=0.05, backoff=1.2, max_delay=1.0,
        shutdown_timeout=30,
    )
    state.consumer.start()


def resume_indexing(app: Flask) -> None:
    """Queue an index run for documents left waiting by a process that stopped.

    A stopped process may also have left the "run requested" flag set with its run
    unfinished; clearing it lets the next extracted document ask again.
    """
    with app.app_context():
        state: Jobs = app.extensions["jobs"]
        state.huey.get(INDEX_REQUESTED)
        waiting = db.session.execute(
            select(Document.id).where(Document.status == Status.INDEXING).limit(1)
        ).first()
        db.session.remove()
        if waiting is not None and not state.huey.immediate:
            state.huey.put(INDEX_REQUESTED, str(time.time()))
            state.index()


def graceful_on_sigterm() -> dict[str, str]:
    """Consumer options that make SIGTERM (what service managers send) a graceful stop,
    where this Huey supports choosing; older ones stop gracefully on SIGINT only."""
    accepts = inspect.signature(Consumer.__init__).parameters
    return {"graceful_signal": "TERM"} if "graceful_signal" in accepts else {}


def stop_consumer(app: Flask) -> None:
    state: Jobs = app.extensions["jobs"]
    if state.consumer is not None:
        state.consumer.stop(graceful=True)
        state.consumer = None


def queue_depth(app: Flask) -> int:
    return len(app.extensions["jobs"].huey)
