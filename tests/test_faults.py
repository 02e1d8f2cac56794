"""Faults as tests: a full disk, a damaged index, an altered original, a reindex racing a worker.

The full disks are real: a small tmpfs mounted for the test (this needs root, as the test
machine and CI run; elsewhere those tests skip, under CI they fail), so the kernel itself
refuses the writes. On the postgres stack the page text goes to a tablespace on that disk.
"""

from __future__ import annotations

import contextlib
import io
import os
import pwd
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from inquiry_docs.access import audit
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import indexing, ingest
from inquiry_docs.models import Batch, BatchItem, Document, Page, Status
from inquiry_docs.operations import workers
from inquiry_docs.operations.check import rebuild_index, run_check
from tests import samples, stack
from tests.conftest import (
    EMBEDDED,
    build_app,
    index_folder,
    login,
    make_user,
    require,
    upload,
    with_embedded,
)

pytestmark = pytest.mark.slow


class SmallDisk:
    def __init__(self, path: Path) -> None:
        self.path = path

    def resize(self, megabytes: int) -> None:
        subprocess.run(["mount", "-o", f"remount,size={megabytes}m", str(self.path)],
                       check=True)

    def fill(self, leave_kb: int) -> Path:
        """Take all but `leave_kb` of the free space with a file; remove it to free the disk."""
        stat = os.statvfs(self.path)
        filler = self.path / "filler"
        with open(filler, "wb") as fh:
            fh.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - leave_kb * 1024))
        return filler


@pytest.fixture
def small_disk() -> Iterator[SmallDisk]:
    # Outside pytest's private tmp folder, so the PostgreSQL server's account can reach it.
    mount_point = Path(tempfile.mkdtemp(prefix="inquiry-docs-small-"))
    mount_point.chmod(0o755)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs",
                              str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        mount_point.rmdir()
    # .ci/run runs as root (it installs packages), so under CI the mount must work.
    require(mounted.returncode == 0,
            f"a small tmpfs cannot be mounted (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield SmallDisk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        shutil.rmtree(mount_point, ignore_errors=True)


@contextlib.contextmanager
def _page_text_on(disk: SmallDisk, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Settings that put the database's page text on the small disk: the SQLite file, or on
    PostgreSQL a tablespace holding the pages table (and its TOAST table)."""
    if not stack.is_postgres():
        yield {"DATABASE_URL": f"sqlite:///{disk.path / 'db.sqlite'}"}
        return
    with _tables_on(disk, tmp_path, ("pages",)):
        yield {}


@contextlib.contextmanager
def _tables_on(disk: SmallDisk, tmp_path: Path, tables: tuple[str, ...]) -> Iterator[None]:
    """PostgreSQL: these tables of tmp_path's database (with their TOAST tables and
    indexes) in a tablespace on the small disk."""
    url = stack.settings(tmp_path)["DATABASE_URL"]
    folder = disk.path / "tablespace"
    folder.mkdir()
    postgres = pwd.getpwnam("postgres")
    os.chown(folder, postgres.pw_uid, postgres.pw_gid)
    cluster = stack.postgres()
    cluster.execute(f"CREATE TABLESPACE small_disk LOCATION '{folder}'")
    engine = create_engine(url)
    try:
        _move(engine, tables, "small_disk")
        yield
    finally:
        _move(engine, tables, "pg_default")  # a tablespace is dropped only when empty
        engine.dispose()
        cluster.execute("DROP TABLESPACE IF EXISTS small_disk")


def _move(engine, tables: tuple[str, ...], tablespace: str) -> None:
    with engine.begin() as con:
        for table in tables:
            con.execute(text(f"ALTER TABLE {table} SET TABLESPACE {tablespace}"))
            indexes = con.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = :t"),
                                  {"t": table}).scalars().all()
            for index in indexes:
                con.execute(text(f"ALTER INDEX {index} SET TABLESPACE {tablespace}"))


def _consistent(url: str) -> None:
    if url.startswith("sqlite"):  # PostgreSQL checks foreign keys as it writes
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            con.close()
    assert audit.verify().ok


def _text_file(words: int, seed: int = 0) -> bytes:
    """Plain text of distinct-ish words (so the index cannot squeeze it much)."""
    return " ".join(f"w{seed}x{n:x}" for n in range(words)).encode()


@contextlib.contextmanager
def _app(tmp_path: Path, **overrides) -> Iterator:
    app = build_app(tmp_path, **overrides)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def test_disk_full_during_an_upload_keeps_nothing_and_uploads_resume(tmp_path, small_disk):
    with _app(tmp_path, UPLOAD_DIR=str(small_disk.path / "uploads")) as app:
        inquiry = create_inquiry("OLD", "Oldham")
        make_user("sec@example.org", "secretariat", inquiry)
        client = app.test_client()
        login(client, "sec@example.org")
        big = _text_file(300_000)  # about 3 MB on a 1 MB disk
        response = upload(client, inquiry, [(big, "statement.txt")])
        assert response.status_code == 303
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "ran out of disk space" in page and "Nothing was kept" in page
        store = ingest.store()
        assert list(store.all_hashes()) == []
        assert list((store.root / "tmp").iterdir()) == []  # no partial copy either
        assert db.session.execute(select(Document)).first() is None
        item = db.session.execute(select(BatchItem)).scalar_one()
        assert item.outcome == ingest.REJECTED
        _consistent(app.config["DATABASE_URL"])

        small_disk.resize(16)  # space returns
        response = upload(client, inquiry, [(big, "statement.txt")])
        assert response.status_code == 303
        document = db.session.execute(select(Document)).scalar_one()
        assert document.status == Status.INDEXED
        assert store.hash_of(document.sha256) == document.sha256
        assert len(db.session.execute(select(Batch)).all()) == 2
        assert run_check(echo=lambda _: None) == 0


def test_disk_full_during_a_database_write_is_retried_once_space_returns(tmp_path,
                                                                        small_disk):
    small_disk.resize(8)
    with _page_text_on(small_disk, tmp_path) as overrides, \
            _app(tmp_path, QUEUE_IMMEDIATE=False, **overrides) as app:
        inquiry = create_inquiry("OLD", "Oldham")
        filler = small_disk.fill(leave_kb=300)
        # 2 MB of page text cannot fit in the 300 KB left for the database.
        outcome = ingest.receive(ingest.Incoming(io.BytesIO(_text_file(200_000)), "big.txt",
                                                 inquiry))
        assert outcome.outcome == ingest.RECEIVED
        workers.start_consumer(app, workers=1)
        try:
            # Each attempt counts itself first: a second attempt means the first one failed.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                db.session.expire_all()
                document = db.session.get(Document, outcome.document.id)
                if document.attempts >= 2:
                    break
                time.sleep(0.1)
            assert document.attempts >= 2
            assert document.status == Status.EXTRACTING  # the failed write left no pages
            assert db.session.execute(select(Page)).first() is None
            _consistent(app.config["DATABASE_URL"])

            filler.unlink()  # space returns; the queued retry finishes the job
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                db.session.expire_all()
                if db.session.get(Document, document.id).status == Status.INDEXED:
                    break
                time.sleep(0.2)
        finally:
            workers.stop_consumer(app)
        assert db.session.get(Document, document.id).status == Status.INDEXED
        assert db.session.get(Document, document.id).page_count >= 1
        _consistent(app.config["DATABASE_URL"])
        assert run_check(echo=lambda _: None) == 0


@pytest.mark.parametrize("backend", EMBEDDED)
def test_disk_full_during_an_embedded_index_commit_is_repaired_when_space_returns(
        tmp_path, small_disk, backend):
    # The Whoosh or tantivy index folder on the small disk (on either stack's database).
    with _app(tmp_path, SEARCH_BACKEND=backend,
              INDEX_DIR=str(small_disk.path / "index")) as app:
        app.extensions["search"].prepare()  # the empty index fits; the batch will not
        inquiry = create_inquiry("OLD", "Oldham")
        small_disk.fill(leave_kb=100)
        outcome = ingest.receive(ingest.Incoming(io.BytesIO(_text_file(40_000)), "big.txt",
                                                 inquiry))
        assert outcome.outcome == ingest.RECEIVED
        db.session.expire_all()
        document = db.session.get(Document, outcome.document.id)
        assert document.status == Status.INDEXING  # pages are in the database, not yet indexed
        assert db.session.execute(select(Page)).first() is not None
        messages: list[str] = []
        assert run_check(echo=messages.append) == 1
        assert any("INDEX differs" in m for m in messages)
        _consistent(app.config["DATABASE_URL"])

        small_disk.resize(256)  # tmpfs takes memory only for what is written
        (small_disk.path / "filler").unlink()
        # Same process: the failed writer must not have left the index locked.
        assert run_check(repair=True, echo=lambda _: None) == 0
        db.session.expire_all()
        assert db.session.get(Document, document.id).status == Status.INDEXED
        assert app.extensions["search"].indexed_page_counts() == {document.id: document.page_count}


@pytest.mark.stack("postgres")
def test_disk_full_while_writing_search_rows_keeps_nothing_and_is_repaired(tmp_path,
                                                                           small_disk):
    # PostgreSQL search's counterpart of the Whoosh commit above: its rows are written in the
    # transaction that writes the pages, so a full disk there keeps neither, never one alone.
    small_disk.resize(8)
    with _tables_on(small_disk, tmp_path, ("search_pages", "search_documents")), \
            _app(tmp_path) as app:
        assert app.config["SEARCH_BACKEND"] == "postgres"
        inquiry = create_inquiry("OLD", "Oldham")
        filler = small_disk.fill(leave_kb=100)
        outcome = ingest.receive(ingest.Incoming(io.BytesIO(_text_file(40_000)), "big.txt",
                                                 inquiry))
        assert outcome.outcome == ingest.RECEIVED
        db.session.expire_all()
        document = db.session.get(Document, outcome.document.id)
        assert document.status == Status.EXTRACTING  # to be read again
        assert db.session.execute(select(Page)).first() is None
        assert app.extensions["search"].indexed_page_counts() == {}
        messages: list[str] = []
        app.config["STUCK_MINUTES"] = 0  # no live worker is reading it
        assert run_check(echo=messages.append) == 1
        assert any("UNFINISHED" in m for m in messages), messages
        _consistent(app.config["DATABASE_URL"])

        filler.unlink()  # space returns
        assert run_check(repair=True, echo=lambda _: None) == 0
        db.session.expire_all()
        document = db.session.get(Document, document.id)
        assert document.status == Status.INDEXED
        assert app.extensions["search"].indexed_page_counts() == {document.id: document.page_count}


def _two_documents(app) -> None:
    inquiry = create_inquiry("OLD", "Oldham")
    for n in range(2):
        ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf([f"doc {n} referral",
                                                                    "second page"])),
                                       f"d{n}.pdf", inquiry))


# Whoosh's segments and table of contents; tantivy's segment files and meta.json.
INDEX_FILES = (".seg", ".toc", ".idx", ".term", ".store", ".fast", ".pos", ".fieldnorm",
               ".json")


@with_embedded
@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_damaged_index_files_are_detected_and_rebuilt(app, runner, damage):
    _two_documents(app)
    files = [p for p in index_folder(app).iterdir() if p.suffix in INDEX_FILES
             and p.name != ".managed.json"]
    assert files
    for path in files:
        if damage == "delete":
            path.unlink()
        else:
            with open(path, "r+b") as fh:
                fh.truncate(path.stat().st_size // 2)
    app.extensions["search"].reopen()  # as a freshly started `check` process would
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1 and "INDEX" in result.output, result.output
    result = runner.invoke(args=["check", "--repair"])
    assert result.exit_code == 0, result.output
    assert "repaired" in result.output
    assert app.extensions["search"].indexed_page_counts() == {1: 2, 2: 2}
    assert runner.invoke(args=["search", "referral"]).output.startswith("2 documents")


def test_a_flipped_byte_in_a_stored_original_is_reported(app, runner):
    _two_documents(app)
    document = db.session.get(Document, 2)
    path = ingest.store().path_for(document.sha256)
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x20
    path.write_bytes(bytes(data))
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert f"ALTERED original for {document.urn}" in result.output


@pytest.mark.parametrize("search", [None, "tantivy"])  # the stack's search, and tantivy
def test_a_worker_and_a_reindex_at_the_same_time_lose_nothing(tmp_path, search):
    with _app(tmp_path, QUEUE_IMMEDIATE=False, INDEX_BATCH=3, INDEX_MIN_PAGES=1,
              **({"SEARCH_BACKEND": search} if search else {})) as app:
        inquiry = create_inquiry("OLD", "Oldham")
        for n in range(24):
            ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(
                [f"racing {n}", f"page two of {n}"])), f"r{n}.pdf", inquiry))
        workers.start_consumer(app, workers=2)
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                rebuild_index()  # over and over while the workers index
                db.session.expire_all()
                statuses = set(db.session.execute(select(Document.status)).scalars())
                if statuses == {Status.INDEXED}:
                    break
        finally:
            workers.stop_consumer(app)
        db.session.expire_all()
        assert set(db.session.execute(select(Document.status)).scalars()) == {Status.INDEXED}
        assert app.extensions["search"].indexed_page_counts() == \
            dict.fromkeys(range(1, 25), 2)
        assert run_check(echo=lambda _: None) == 0


@pytest.mark.parametrize("app", [None, "tantivy"], indirect=True)
def test_a_reindex_between_a_workers_index_write_and_its_commit_loses_nothing(app, inquiry):
    # The worst interleaving, step by step: the worker has written a document to the index
    # but not yet marked it indexed when `reindex` clears the index and walks the
    # documents marked indexed.
    app.config["QUEUE_IMMEDIATE"] = True
    outcome = ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["kept", "safe"])),
                                             "k.pdf", inquiry))
    document = db.session.get(Document, outcome.document.id)
    document.status = Status.INDEXING  # as extraction leaves it for the indexer
    db.session.commit()
    search = app.extensions["search"]
    search.index_pages([document.id], indexing.index_pages_of(document))  # the worker's write
    rebuild_index()  # the reindex, between the worker's two steps
    db.session.refresh(document)
    document.status = Status.INDEXED  # the worker's commit
    db.session.commit()
    assert search.indexed_page_counts() == {document.id: 2}
    assert run_check(echo=lambda _: None) == 0
