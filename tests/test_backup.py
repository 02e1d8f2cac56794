"""Backups: made while real queue workers ingest, verified, restored on a fresh installation.

Everything is real: the stack's database (SQLite in WAL mode and its online backup, or
PostgreSQL with pg_dump and pg_restore), its queue with consumer threads, its search index
(Whoosh's files, or PostgreSQL search's rows in the database), the `inquiry-docs` commands
through Flask's CLI runner.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from inquiry_docs import recommendations
from inquiry_docs.access.inquiries import create_inquiry
from inquiry_docs.db import db
from inquiry_docs.evidence import indexing, ingest
from inquiry_docs.models import Document, Status
from inquiry_docs.operations import backup_pg, workers
from inquiry_docs.recommendations import links
from inquiry_docs.review import coding, notes, tags
from tests import samples, services, stack
from tests.conftest import build_app, make_user

pytestmark = pytest.mark.slow
DONE = {Status.INDEXED, Status.NO_TEXT, Status.FAILED}
DB_FILE = "database.dump" if stack.is_postgres() else "database.sqlite"


@pytest.fixture(autouse=True)
def _postgres_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """pg_dump, pg_restore and psql of the test cluster's own version (Debian keeps one
    set per version; the installation finds them on PATH)."""
    if stack.is_postgres():
        monkeypatch.setenv("PATH", f"{services.postgres_bin()}{os.pathsep}{os.environ['PATH']}")


def _wait_for(predicate, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(Document.status).order_by(Document.id)).scalars())


def _rows(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite:///"):  # sqlite3 itself: the app's engine would switch on WAL
        con = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()
    engine = create_engine(url)
    try:
        with engine.connect() as con:
            return [tuple(row) for row in con.execute(text(sql))]
    finally:
        engine.dispose()


def _snapshot(dest: Path, scratch: Path) -> str:
    """The URL of a database holding the backup's copy, to read its rows."""
    if not stack.is_postgres():
        return f"sqlite:///{dest / DB_FILE}"
    url = stack.settings(scratch)["DATABASE_URL"]
    backup_pg.restore(url, dest / DB_FILE)
    return url


COMPARED = {
    "documents": "SELECT id, urn, sha256, title, inquiry_id, marking, restricted, status, "
                 "page_count, mime FROM documents ORDER BY id",
    "pages": "SELECT document_id, number, text FROM pages ORDER BY document_id, number",
    "tags": "SELECT * FROM tags ORDER BY id",
    "document_tags": "SELECT * FROM document_tags ORDER BY 1, 2",
    "codings": "SELECT * FROM codings ORDER BY id",
    "notes": "SELECT * FROM notes ORDER BY id",
    "evidence_links": "SELECT * FROM evidence_links ORDER BY id",
    "recommendations": "SELECT * FROM recommendations ORDER BY id",
    "users": "SELECT id, email, password_hash, is_admin FROM users ORDER BY id",
    "inquiries": "SELECT * FROM inquiries ORDER BY id",
}


def _reviewed_collection(app):
    """An inquiry with one read document carrying a tag, a note, a coding and a link."""
    rset = recommendations.ensure_default_set()
    inquiry = create_inquiry("OLD", "Oldham local inquiry")
    admin = make_user("admin@example.org", "admin")
    first = ingest.receive(ingest.Incoming(
        io.BytesIO(samples.make_pdf(["Safeguarding referral", "Police disclosure"])),
        "first.pdf", inquiry)).document
    ingest.process(first.id)
    indexing.index_pending()
    tag = tags.create(admin, inquiry.id, "Operation Fern", "blue", "Police operation")
    tags.apply(admin, tag, [first])
    notes.add(admin, first, 1, "Contradicts the earlier account")
    coding.save(first, coding.Change("relevant", "none", False, "", "", "done", None), admin)
    links.add(admin, rset.recommendations[0], first, links.LinkInput(1, "supports"), None)
    return inquiry


def test_backup_during_ingest_restores_every_row_original_and_audit_event(tmp_path):
    live = build_app(tmp_path / "live", QUEUE_IMMEDIATE=False, WORKERS_IN_SERVER=2)
    dest = tmp_path / "backups" / "b1"
    with live.app_context():
        inquiry = _reviewed_collection(live)
        for n in range(40):
            ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(
                [f"Statement {n} page {p} about the referral" for p in range(1, 4)])),
                f"s{n}.pdf", inquiry))
        workers.start_consumer(live)
        try:
            # Back up once the workers are well under way, not before and not after.
            _wait_for(lambda: sum(s != Status.RECEIVED for s in _statuses()) >= 6)
            result = live.test_cli_runner().invoke(args=["backup", str(dest)])
            assert result.exit_code == 0, result.output
            assert "Backup written to" in result.output
            _wait_for(lambda: set(_statuses()) <= DONE)
        finally:
            workers.stop_consumer(live)
        live_statuses = _statuses()
        db.session.remove()
        db.engine.dispose()
    snapshot = _rows(_snapshot(dest, tmp_path / "snapshot"), "SELECT status FROM documents")
    assert len(snapshot) == 41
    unfinished = [s for (s,) in snapshot if s not in DONE]
    assert unfinished, "the backup was meant to be taken during the ingest"
    assert set(live_statuses) == {Status.INDEXED}

    manifest = json.loads((dest / "manifest.json").read_text())
    originals = [p for p in manifest["files"] if p.startswith("uploads/")]
    assert len(originals) == 41
    assert {DB_FILE, "keys/secret_key", "keys/audit_key", "keys/anchor_key",
            "keys/secrets_key"} <= set(manifest["files"])

    verify = live.test_cli_runner().invoke(args=["verify", str(dest)])
    assert verify.exit_code == 0 and "is intact: 46 files checked" in verify.output, \
        verify.output

    fresh = build_app(tmp_path / "fresh")  # another machine: new keys, empty database
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["restore", str(dest)])
    assert result.exit_code == 0, result.output
    assert "rebuilt from the database" in result.output
    assert "still being read when the backup was made: they are queued" in result.output
    result = runner.invoke(args=["check", "--repair"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "Audit trail intact" in result.output, result.output
    head = f"{manifest['audit_head'][0]}:{manifest['audit_head'][1]}"
    result = runner.invoke(args=["audit", "verify", "--head", head])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["check"]).exit_code == 0

    live_db, fresh_db = live.config["DATABASE_URL"], fresh.config["DATABASE_URL"]
    for table, sql in COMPARED.items():
        live_rows, restored_rows = _rows(live_db, sql), _rows(fresh_db, sql)
        assert restored_rows == live_rows, f"{table} differs after restore"
        assert restored_rows or table == "codings", table
    head_id = manifest["audit_head"][0]
    audit_sql = f"SELECT * FROM audit_events WHERE id <= {int(head_id)} ORDER BY id"  # noqa: S608
    assert _rows(fresh_db, audit_sql) == _rows(live_db, audit_sql)
    assert len(_rows(fresh_db, audit_sql)) == head_id
    restored_actions = [a for (a,) in _rows(fresh_db, "SELECT action FROM audit_events")]
    live_actions = [a for (a,) in _rows(live_db, "SELECT action FROM audit_events")]
    assert "backup_restored" in restored_actions and "backup_made" in live_actions
    for rel in originals:
        assert (tmp_path / "fresh" / rel).read_bytes() == (tmp_path / "live" / rel).read_bytes()
    with fresh.app_context():
        from inquiry_docs.operations.check import run_check

        assert run_check(echo=lambda _: None) == 0
        from inquiry_docs.models import User
        from inquiry_docs.search.find import run_search

        results, _ = run_search(User(is_admin=True, active=True), "referral", None, 0, 50)
        assert results.total_documents == 41
        db.session.remove()
        db.engine.dispose()


def test_verify_names_altered_and_missing_files_and_restore_refuses_them(app, inquiry,
                                                                          tmp_path, runner):
    ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["kept"])), "k.pdf", inquiry))
    dest = tmp_path / "b"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 1  # never into a used folder
    original = next((dest / "uploads").rglob("*" * 1 + "?" * 63))
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))
    (dest / "keys" / "audit_key").unlink()
    result = runner.invoke(args=["verify", str(dest)])
    assert result.exit_code == 1
    assert f"ALTERED uploads/{original.relative_to(dest / 'uploads').as_posix()}" in \
        result.output
    assert "MISSING keys/audit_key" in result.output and "NOT intact" in result.output

    fresh = build_app(tmp_path / "fresh")
    with fresh.app_context():  # the command runs in the current app
        result = fresh.test_cli_runner().invoke(args=["restore", str(dest)])
        assert result.exit_code == 1 and "failed verification; nothing was restored" in \
            result.output
        assert db.session.execute(select(Document)).first() is None
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("app", [None, "tantivy"], indirect=True)  # the stack's, and tantivy
def test_restore_refuses_to_replace_existing_data_unless_forced(app, inquiry, tmp_path,
                                                               runner):
    ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["first"])), "1.pdf", inquiry))
    dest = tmp_path / "b"
    assert runner.invoke(args=["backup", str(dest), "--with-index"]).exit_code == 0
    files = json.loads((dest / "manifest.json").read_text())["files"]
    index_files = [f for f in files if f.startswith("index/")]
    if app.config["SEARCH_BACKEND"] == "postgres":
        assert index_files == []  # its rows are in the database dump
    elif app.config["SEARCH_BACKEND"] == "tantivy":
        assert "index/meta.json" in index_files, index_files
        assert json.loads((dest / "manifest.json").read_text())["search_backend"] == "tantivy"
    else:
        assert any(f.endswith(".toc") for f in index_files), index_files
    ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["second"])), "2.pdf", inquiry))
    result = runner.invoke(args=["restore", str(dest)])
    assert result.exit_code == 1 and "already holds data" in result.output
    assert len(db.session.execute(select(Document)).all()) == 2
    result = runner.invoke(args=["restore", str(dest), "--force"])
    assert result.exit_code == 0, result.output
    assert "index was restored from the backup" in result.output
    assert [d.urn for d in db.session.execute(select(Document)).scalars()] == ["OLD000001"]
    assert app.extensions["search"].indexed_page_counts() == {1: 1}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    # the second upload's original stays on disk, unreferenced: check notes it, no error
    result = runner.invoke(args=["check"])
    assert result.exit_code == 0 and "no document refers to it" in result.output


@pytest.mark.stack("postgres")
def test_a_postgres_backup_goes_back_only_into_a_postgres_installation(app, inquiry, tmp_path,
                                                                      runner):
    ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["kept"])), "k.pdf", inquiry))
    dest = tmp_path / "b"
    assert runner.invoke(args=["backup", str(dest)]).exit_code == 0
    elsewhere = build_app(tmp_path / "sqlite", DATABASE_URL=f"sqlite:///{tmp_path}/other.db",
                          SEARCH_BACKEND="whoosh")  # an embedded installation
    with elsewhere.app_context():  # the command runs in the current app
        result = elsewhere.test_cli_runner().invoke(args=["restore", str(dest)])
        assert result.exit_code == 1 and "same kind of database" in result.output
        assert db.session.execute(select(Document)).first() is None
        db.session.remove()
        db.engine.dispose()


@pytest.mark.stack("postgres")
def test_an_index_kept_by_another_search_backend_is_rebuilt_on_restore(tmp_path):
    # Whoosh on PostgreSQL backs up its index files; an installation searching in
    # PostgreSQL has no use for them and rebuilds its rows from the restored pages.
    whoosh = build_app(tmp_path / "whoosh", SEARCH_BACKEND="whoosh")
    dest = tmp_path / "b"
    with whoosh.app_context():
        inquiry = create_inquiry("OLD", "Oldham")
        ingest.receive(ingest.Incoming(io.BytesIO(samples.make_pdf(["kept"])), "k.pdf",
                                       inquiry))
        result = whoosh.test_cli_runner().invoke(args=["backup", str(dest), "--with-index"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    fresh = build_app(tmp_path / "fresh")
    with fresh.app_context():
        assert fresh.config["SEARCH_BACKEND"] == "postgres"
        result = fresh.test_cli_runner().invoke(args=["restore", str(dest)])
        assert result.exit_code == 0, result.output
        assert "rebuilt from the database (1 documents)" in result.output
        assert fresh.extensions["search"].indexed_page_counts() == {1: 1}
        db.session.remove()
        db.engine.dispose()
