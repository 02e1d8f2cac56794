"""The real queue: Huey on the stack's storage (SQLite, or Redis on the postgres stack) with
consumer threads, and retries of transient errors.

The index runs (their lock, shared commits, a lost request) belong to Whoosh, whose index
a separate job writes: those tests search with Whoosh on both stacks. PostgreSQL search
writes its rows with the pages, so there a document is searchable when its extraction job
commits (the first test, on the postgres stack).
"""

from __future__ import annotations

import fcntl
import io
import os
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select

from inquiry_docs import queue
from inquiry_docs.db import db
from inquiry_docs.evidence import indexing, ingest
from inquiry_docs.models import Document
from inquiry_docs.operations import workers
from tests import samples, stack
from tests.conftest import EMBEDDED, build_app


def _wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting for the queue")


def _statuses() -> list[str]:
    db.session.expire_all()
    return [str(s) for s in db.session.execute(
        select(Document.status).order_by(Document.id)).scalars()]


def test_queue_with_consumer_threads_processes_uploads(tmp_path):
    app = build_app(tmp_path, QUEUE_IMMEDIATE=False, WORKERS_IN_SERVER=2)
    expected = "RedisHuey" if stack.is_postgres() else "SqliteHuey"
    assert type(queue.huey(app)).__name__ == expected
    assert type(app.extensions["search"]).__name__ == \
        ("PostgresBackend" if stack.is_postgres() else "WhooshBackend")
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham")
        for n in range(6):
            ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf([f"queued {n}"])),
                                           f"q{n}.pdf", inquiry))
        assert _statuses() == ["received"] * 6
        assert queue.depth(app) == 6
        workers.start_consumer(app)
        try:
            _wait_for(lambda: _statuses() == ["indexed"] * 6)
        finally:
            workers.stop_consumer(app)
        assert app.extensions["search"].indexed_page_counts() == dict.fromkeys(range(1, 7), 1)


@pytest.mark.parametrize("backend", EMBEDDED)
def test_index_lock_timeout_is_retried_until_the_index_is_free(tmp_path, backend):
    app = build_app(tmp_path, SEARCH_BACKEND=backend, QUEUE_IMMEDIATE=False,
                    INDEX_LOCK_TIMEOUT=0.2)
    index_dir = app.extensions["search"].directory
    os.makedirs(index_dir, exist_ok=True)
    fd = os.open(os.path.join(index_dir, "write.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the index
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham")
        ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["locked out"])), "l.pdf",
                                       inquiry))
        workers.start_consumer(app, workers=1)
        try:
            _wait_for(lambda: _statuses() == ["indexing"])
            time.sleep(1.0)  # at least one attempt has failed on the lock by now
            assert _statuses() == ["indexing"]
            threading.Timer(0, lambda: os.close(fd)).start()
            _wait_for(lambda: _statuses() == ["indexed"], timeout=30)
        finally:
            workers.stop_consumer(app)


HOLD_TANTIVY_WRITER = """
import sys, time, tantivy
index = tantivy.Index.open(sys.argv[1])
writer = index.writer(16_000_000, 1)
print("holding", flush=True)
sys.stdin.read()
"""


def test_tantivy_writer_lock_held_elsewhere_is_retried_until_free(tmp_path):
    # Another process holds tantivy's own writer lock (not ours): the index job meets
    # LockBusy, raises IndexLocked and is retried until the other writer is gone.
    app = build_app(tmp_path, SEARCH_BACKEND="tantivy", QUEUE_IMMEDIATE=False,
                    INDEX_LOCK_TIMEOUT=0.2)
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        app.extensions["search"].prepare()
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_TANTIVY_WRITER, str(app.extensions["search"].directory)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "holding"
            inquiry = create_inquiry("OLD", "Oldham")
            ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["held elsewhere"])),
                                           "h.pdf", inquiry))
            workers.start_consumer(app, workers=1)
            try:
                _wait_for(lambda: _statuses() == ["indexing"])
                time.sleep(1.0)  # at least one attempt has met the lock by now
                assert _statuses() == ["indexing"]
                holder.stdin.close()
                holder.wait(10)
                _wait_for(lambda: _statuses() == ["indexed"], timeout=30)
            finally:
                workers.stop_consumer(app)
        finally:
            holder.kill()
            holder.wait()
        assert app.extensions["search"].indexed_page_counts() == {1: 1}


def _generation(app) -> int:
    from whoosh import index

    return index.open_dir(app.config["INDEX_DIR"]).latest_generation()


def test_documents_extracted_together_share_index_commits(tmp_path):
    # A commit per document would merge the index's segments a dozen times over.
    app = build_app(tmp_path, SEARCH_BACKEND="whoosh", QUEUE_IMMEDIATE=False,
                    INDEX_MIN_PAGES=1000, INDEX_DELAY=60)
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham")
        workers.start_consumer(app, workers=2)
        started = time.monotonic()
        try:
            for n in range(12):  # arriving while earlier ones are being read
                ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf([f"together {n}"])),
                                               f"t{n}.pdf", inquiry))
                time.sleep(0.05)
            _wait_for(lambda: _statuses() == ["indexed"] * 12, timeout=50)
        finally:
            workers.stop_consumer(app)
        # Once nothing is left to extract the run goes ahead: no waiting out INDEX_DELAY.
        assert time.monotonic() - started < 50
        assert _generation(app) <= 4
        assert sum(app.extensions["search"].indexed_page_counts().values()) == 12


def test_a_run_requested_by_a_stopped_process_is_resumed(tmp_path):
    app = build_app(tmp_path, SEARCH_BACKEND="whoosh", QUEUE_IMMEDIATE=False)
    with app.app_context():
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham")
        outcome = ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["left over"])),
                                                 "left.pdf", inquiry))
        ingest.process(outcome.document.id)  # extracted; its index run is queued
        huey = queue.huey(app)
        huey.flush()  # ...and lost with the process that queued it
        huey.put(indexing.INDEX_REQUESTED, str(time.time()))  # whose request flag stayed set
        assert _statuses() == ["indexing"]
        workers.start_consumer(app, workers=1)
        try:
            _wait_for(lambda: _statuses() == ["indexed"])
        finally:
            workers.stop_consumer(app)
