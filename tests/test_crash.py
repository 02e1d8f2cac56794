"""Hard crashes (SIGKILL) of a separate worker process lose nothing: `check --repair` heals.

The worker is the real `inquiry-docs worker` command on the stack's real queue (SQLite, or
Redis on the postgres stack); a named crash point (inquiry_docs/faults.py) kills it at the
chosen moment. `index_commit` is the middle of writing the stack's search index: inside
Whoosh's commit; with tantivy, once the batch is with its writer and before the commit
names the new segments; or with PostgreSQL search, after the rows are written and before
the transaction that also holds the pages commits. Each runs on the stack's own search
and again with tantivy.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from inquiry_docs import create_app
from inquiry_docs.db import db, upgrade_database
from inquiry_docs.evidence import ingest
from inquiry_docs.evidence.storage import Store
from inquiry_docs.models import Document, Status
from tests import samples, stack

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, fault: str | None = None, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INQUIRY_DOCS_")}
    env.update({f"INQUIRY_DOCS_{name}": value for name, value in stack.settings(tmp_path).items()})
    env.update({
        "INQUIRY_DOCS_INSTANCE_DIR": str(tmp_path / "instance"),
        "INQUIRY_DOCS_UPLOAD_DIR": str(tmp_path / "uploads"),
        "INQUIRY_DOCS_INDEX_DIR": str(tmp_path / "index"),
        "INQUIRY_DOCS_SECRET_KEY": "crash-test",
    })
    env.update({f"INQUIRY_DOCS_{name}": value for name, value in settings.items()})
    if fault:
        env["INQUIRY_DOCS_FAULT"] = fault
    return env


def _cli(tmp_path: Path, *args: str, fault: str | None = None, timeout: float = 60,
         **settings: str):
    return subprocess.run(
        [sys.executable, "-m", "inquiry_docs.cli", *args],
        env=_env(tmp_path, fault, **settings), capture_output=True, text=True,
        timeout=timeout,
    )


def _receive_files(tmp_path: Path, count: int, **settings: str) -> list[str]:
    """Store and register files, queueing their jobs for a worker that is not running yet."""
    os.environ.update(_env(tmp_path, None, **settings))
    try:
        app = create_app()
    finally:
        for key in _env(tmp_path, None, **settings):
            if key.startswith("INQUIRY_DOCS_"):
                os.environ.pop(key, None)
    with app.app_context():
        upgrade_database()
        from inquiry_docs.access.inquiries import create_inquiry

        inquiry = create_inquiry("OLD", "Oldham")
        for n in range(count):
            ingest.receive(ingest.Incoming(
                stream=io.BytesIO(samples.make_pdf([f"crash word{n} page one",
                                                                  f"unique{n} second page"])),
                filename=f"f{n}.pdf", inquiry=inquiry, channel="cli"))
        shas = db.session.execute(select(Document.sha256)).scalars().all()
        db.session.remove()
        db.engine.dispose()
    return shas


def _statuses(tmp_path: Path) -> list[str]:
    app = create_app({**stack.settings(tmp_path),
                      "INSTANCE_DIR": str(tmp_path / "instance"),
                      "UPLOAD_DIR": str(tmp_path / "uploads"),
                      "INDEX_DIR": str(tmp_path / "index"), "SECRET_KEY": "x"})
    with app.app_context():
        statuses = [str(s) for s in db.session.execute(
            select(Document.status).order_by(Document.id)).scalars()]
        db.engine.dispose()
    return statuses


@pytest.mark.parametrize("search", ["stack", "tantivy"])
@pytest.mark.parametrize("fault", ["after_pages_commit", "index_commit"])
def test_sigkill_then_check_repair_loses_nothing(tmp_path, fault, search):
    settings = {} if search == "stack" else {"SEARCH_BACKEND": search}
    shas = _receive_files(tmp_path, 3, **settings)
    worker = _cli(tmp_path, "worker", "--workers", "1", fault=fault, **settings)
    assert worker.returncode == -signal.SIGKILL, worker.stderr[-2000:]
    statuses = _statuses(tmp_path)
    assert Status.INDEXED not in statuses or len(set(statuses)) > 1, statuses

    # What the worker died on is found at once (STUCK_MINUTES=0: nobody else is reading
    # it); documents it never took are only noted, their tasks still queued.
    before = _cli(tmp_path, "check", STUCK_MINUTES="0", **settings)
    # With PostgreSQL search, pages committed before the crash are searchable already.
    finished = stack.is_postgres() and fault == "after_pages_commit" and not settings
    assert before.returncode == (0 if finished else 1), before.stdout
    assert "ORPHAN" not in before.stdout  # nothing searchable that is not finished

    repaired = _cli(tmp_path, "check", "--repair", STUCK_MINUTES="0", **settings)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    drained = _cli(tmp_path, "worker", "--workers", "1", "--until-idle", STUCK_MINUTES="0",
                   **settings)
    assert drained.returncode == 0, drained.stderr[-2000:]
    after = _cli(tmp_path, "check", **settings)
    assert after.returncode == 0, after.stdout
    assert _statuses(tmp_path) == ["indexed"] * 3

    store = Store(tmp_path / "uploads")
    assert sorted(store.all_hashes()) == sorted(shas)
    for n in range(3):
        found = json.loads(_cli(tmp_path, "search", f"unique{n}", "--json",
                                **settings).stdout)
        assert [(h["urn"], h["page"]) for h in found["hits"]] == [(f"OLD00000{n + 1}", 2)]


def test_a_document_a_killed_worker_was_reading_is_found_and_read_again(tmp_path):
    _receive_files(tmp_path, 2)
    worker = _cli(tmp_path, "worker", "--workers", "1", fault="extracting")
    assert worker.returncode == -signal.SIGKILL, worker.stderr[-2000:]
    assert "extracting" in _statuses(tmp_path)

    # Within STUCK_MINUTES a document being read may still be in a live worker's hands.
    patient = _cli(tmp_path, "check")
    assert patient.returncode == 0, patient.stdout
    assert "UNFINISHED" not in patient.stdout

    found = _cli(tmp_path, "check", STUCK_MINUTES="0")
    assert found.returncode == 1
    assert "UNFINISHED OLD000001" in found.stdout and "its worker stopped" in found.stdout

    repaired = _cli(tmp_path, "check", "--repair", STUCK_MINUTES="0")
    assert "queued 1 unfinished document(s) to be read again" in repaired.stdout
    drained = _cli(tmp_path, "worker", "--workers", "1", "--until-idle")
    assert drained.returncode == 0, drained.stderr[-2000:]
    assert _statuses(tmp_path) == ["indexed", "indexed"]
    assert _cli(tmp_path, "check", STUCK_MINUTES="0").returncode == 0


def test_a_received_document_whose_task_was_lost_is_found_and_queued_again(tmp_path):
    """A reading task taken by someone else's consumer (a shared queue) leaves its document
    `received` with nothing queued: check finds it, repair queues it again."""
    _receive_files(tmp_path, 1)
    app = create_app({**stack.settings(tmp_path), "INSTANCE_DIR": str(tmp_path / "instance"),
                      "UPLOAD_DIR": str(tmp_path / "uploads"),
                      "INDEX_DIR": str(tmp_path / "index"), "SECRET_KEY": "x"})
    from inquiry_docs import queue

    with app.app_context():
        queue.huey().flush()  # the task is gone; the document is still `received`
        db.engine.dispose()
    found = _cli(tmp_path, "check", STUCK_MINUTES="0")
    assert found.returncode == 1 and "UNFINISHED OLD000001" in found.stdout
    _cli(tmp_path, "check", "--repair", STUCK_MINUTES="0")
    assert _cli(tmp_path, "worker", "--until-idle").returncode == 0
    assert _statuses(tmp_path) == ["indexed"]
