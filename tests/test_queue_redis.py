"""The job queue on Redis (RedisHuey), on either stack: the real consumer threads in this
process, and separate `inquiry-docs worker` processes killed (SIGKILL) in the middle of a
task, which must leave their document retryable and never half-indexed.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from inquiry_docs import queue
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import indexing, ingest
from inquiry_docs.models import Document, Page
from inquiry_docs.operations import workers
from inquiry_docs.operations.check import run_check
from tests import samples
from tests.conftest import build_app

pytestmark = pytest.mark.slow


@pytest.fixture
def redis_app(tmp_path: Path, redis_url: str) -> Iterator[Flask]:
    # INDEX_DELAY short: a document left "extracting" by a killed worker makes index runs
    # wait that long for it.
    app = build_app(tmp_path, QUEUE_IMMEDIATE=False, QUEUE_URL=redis_url, INDEX_DELAY=1.0)
    assert type(queue.huey(app)).__name__ == "RedisHuey"
    with app.app_context():
        yield app
        workers.stop_consumer(app)
        db.session.remove()
        db.engine.dispose()


def _wait_for(predicate, timeout: float = 60.0) -> None:
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


def _receive(count: int) -> list[int]:
    inquiry = create_inquiry("OLD", "Oldham")
    return [ingest.receive(ingest.Incoming(
        io.BytesIO(samples.make_pdf([f"redis queued {n}", f"marker{n} on page two"])),
        f"r{n}.pdf", inquiry)).document.id for n in range(count)]


def _worker(app: Flask, fault: str) -> subprocess.CompletedProcess:
    """`inquiry-docs worker` on this app's database and queue, armed to die at `fault`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    for name in ("DATABASE_URL", "QUEUE_URL", "INSTANCE_DIR", "UPLOAD_DIR", "INDEX_DIR",
                 "SECRET_KEY", "AUDIT_KEY", "ANCHOR_KEY", "SECRETS_KEY"):
        env[f"INQUIRY_DOCS_{name}"] = str(app.config[name])
    env["INQUIRY_DOCS_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "inquiry_docs.cli", "worker", "--workers", "1"],
                          env=env, capture_output=True, text=True, timeout=120)


def _indexed_pages(app: Flask) -> dict[int, int]:
    return app.extensions["search"].indexed_page_counts()


def test_consumer_threads_take_uploads_from_redis(redis_app):
    ids = _receive(5)
    assert _statuses() == ["received"] * 5
    assert queue.depth(redis_app) == 5  # the jobs wait in Redis
    workers.start_consumer(redis_app, workers=2)
    _wait_for(lambda: _statuses() == ["indexed"] * 5)
    assert _indexed_pages(redis_app) == dict.fromkeys(ids, 2)
    assert run_check(echo=lambda _: None) == 0


def test_a_worker_killed_while_extracting_leaves_the_document_to_retry(redis_app):
    first, second = _receive(2)
    died = _worker(redis_app, "extracting")
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    # The first job went with the worker: its document says so, with nothing half-done.
    assert _statuses() == ["extracting", "received"]
    assert db.session.execute(select(Page).where(Page.document_id == first)).first() is None
    assert _indexed_pages(redis_app) == {}
    messages: list[str] = []
    assert run_check(echo=messages.append) == 0  # a live worker may still be reading it
    redis_app.config["STUCK_MINUTES"] = 0  # nobody is: the first is unfinished, the
    assert run_check(echo=messages.append) == 1  # second waits in Redis for a worker
    assert any(m.startswith("UNFINISHED OLD000001") for m in messages)
    assert "note: 1 document(s) wait in the queue to be read by a worker" in messages

    workers.start_consumer(redis_app, workers=2)  # the second job is still waiting in Redis
    _wait_for(lambda: _statuses() == ["extracting", "indexed"])
    assert ingest.retry(db.session.get(Document, first), None)  # the Retry button's call
    _wait_for(lambda: _statuses() == ["indexed", "indexed"])
    assert _indexed_pages(redis_app) == {first: 2, second: 2}
    assert db.session.get(Document, first).attempts == 2
    assert run_check(echo=lambda _: None) == 0


def test_a_worker_killed_between_extraction_and_index_is_resumed_by_the_next(redis_app):
    (only,) = _receive(1)
    died = _worker(redis_app, "after_pages_commit")
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert _statuses() == ["indexing"]  # its pages are committed, its index run never asked
    assert _indexed_pages(redis_app) == {}
    workers.start_consumer(redis_app, workers=1)  # a worker starting resumes waiting documents
    _wait_for(lambda: _statuses() == ["indexed"])
    assert _indexed_pages(redis_app) == {only: 2}


def test_a_run_request_lost_with_a_worker_does_not_hold_up_later_documents(redis_app):
    workers.start_consumer(redis_app, workers=2)
    huey = queue.huey(redis_app)
    # A worker that died while its index run waited left the request behind, long ago.
    huey.put(indexing.INDEX_REQUESTED, str(time.time() - indexing.INDEX_REQUEST_LOST
                                       - redis_app.config["INDEX_DELAY"] - 1))
    ids = _receive(2)
    _wait_for(lambda: _statuses() == ["indexed"] * 2)
    assert _indexed_pages(redis_app) == dict.fromkeys(ids, 2)
