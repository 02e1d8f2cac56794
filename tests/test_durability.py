"""Durability settings: WAL, synchronous=FULL and a busy timeout on SQLite, synchronous
commits and a lock timeout on PostgreSQL, and fsync of what is stored."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from inquiry_docs.access import audit
from inquiry_docs.db import db
from inquiry_docs.evidence import ingest
from tests import samples
from tests.conftest import with_whoosh


@pytest.mark.stack("sqlite")
def test_sqlite_runs_in_wal_mode_with_full_sync_and_a_busy_timeout(app):
    with db.engine.connect() as con:
        assert con.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert con.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert con.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


@pytest.mark.stack("postgres")
def test_postgres_commits_synchronously_and_waits_a_while_for_locks(app):
    # The test cluster runs with synchronous_commit=off: the app's connections turn it on.
    with db.engine.connect() as con:
        assert con.execute(text("SHOW synchronous_commit")).scalar() == "on"
        assert con.execute(text("SHOW lock_timeout")).scalar() == "30s"


def test_two_concurrent_writers_wait_for_each_other_instead_of_failing(app):
    holding = threading.Event()
    errors: list[BaseException] = []
    took: dict[str, float] = {}

    def first() -> None:
        with app.app_context():
            try:
                audit.record("first_writer", actor="test")  # takes the audit trail's lock
                holding.set()
                time.sleep(1.5)
                db.session.commit()
            except BaseException as error:
                errors.append(error)
                holding.set()
            finally:
                db.session.remove()

    def second() -> None:
        holding.wait(10)
        started = time.monotonic()
        with app.app_context():
            try:
                audit.record("second_writer", actor="test")
                db.session.commit()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()
        took["second"] = time.monotonic() - started

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert took["second"] >= 1.0  # it waited for the first writer's commit...
    verdict = audit.verify()  # ...and the chain did not fork
    assert verdict.ok and verdict.checked == 2
    actions = db.session.execute(text("SELECT action FROM audit_events ORDER BY id")).scalars()
    assert list(actions) == ["first_writer", "second_writer"]


def test_writers_taking_rows_and_the_audit_trail_in_opposite_orders_both_finish(app, inquiry):
    # One changes a row, then records; the other records, then changes the same row. With
    # row locks and the audit trail's lock taken in those orders, PostgreSQL would find a
    # deadlock and fail one of them; one writer at a time (as SQLite has) lets both finish.
    row_first, audit_first = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    model, inquiry_id = type(inquiry), inquiry.id  # the threads use sessions of their own

    def write(name: str, mine: threading.Event, other: threading.Event) -> None:
        with app.app_context():
            try:
                inquiry_row = db.session.get(model, inquiry_id)
                if name == "row first":
                    inquiry_row.name = name
                    db.session.flush()
                    mine.set()
                    other.wait(2)
                    audit.record(name, actor="test")
                else:
                    row_first.wait(10)
                    mine.set()
                    audit.record(name, actor="test")
                    inquiry_row.name = name
                    db.session.flush()
                db.session.commit()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=("row first", row_first, audit_first)),
               threading.Thread(target=write, args=("audit first", audit_first, row_first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    db.session.expire_all()
    assert db.session.get(model, inquiry_id).name == "audit first"
    assert audit.verify().ok


@with_whoosh
def test_originals_and_the_whoosh_index_folder_are_fsynced(app, inquiry, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    outcome = ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["durable"])),
                                             "d.pdf", inquiry))
    monkeypatch.setattr(os, "fsync", real_fsync)
    original = ingest.store().path_for(outcome.sha256)
    index_dir = Path(app.config["INDEX_DIR"]).resolve()
    assert any(p.startswith(str(original.parent.parent.parent / "tmp")) for p in synced)
    assert str(original.parent) in synced  # the new link's directory entry
    assert str(index_dir) in synced  # after the index commit
    assert any(p.startswith(str(index_dir) + "/") and p.endswith(".toc") for p in synced)
