"""Backups of a PostgreSQL installation: pg_dump in, pg_restore out, every row the same.

The installation runs on a database of the test cluster; the backup is restored into a
fresh database on another "machine" (new folders, new keys), then compared table by table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from inquiry_docs.db import db
from inquiry_docs.models import AuditEvent, User
from inquiry_docs.operations import backup_pg, transfer
from tests import pilot
from tests.conftest import build_app, require

pytestmark = pytest.mark.slow


def _app(tmp_path: Path, postgres_server, name: str):
    postgres_server.execute(f"CREATE DATABASE {name}")
    return build_app(tmp_path / name, DATABASE_URL=postgres_server.database_url(name))


def _close(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_backup_of_postgres_restores_every_row_into_a_fresh_database(tmp_path,
                                                                     postgres_server):
    live = _app(tmp_path, postgres_server, "live")
    fresh = _app(tmp_path, postgres_server, "fresh")  # migrated, empty, other keys
    dest = tmp_path / "backups" / "b1"
    try:
        with live.app_context():
            pilot.fill()
            result = live.test_cli_runner().invoke(args=["backup", str(dest)])
            assert result.exit_code == 0, result.output
            live_engine = db.engine
        manifest = json.loads((dest / "manifest.json").read_text())
        assert manifest["database"] == "database.dump"
        assert manifest["audit_head"] is not None
        verify = live.test_cli_runner().invoke(args=["verify", str(dest)])
        assert verify.exit_code == 0 and "is intact" in verify.output, verify.output

        runner = fresh.test_cli_runner()
        result = runner.invoke(args=["restore", str(dest)])
        assert result.exit_code == 0, result.output
        assert "rebuilt from the database (4 documents)" in result.output
        head = "{}:{}".format(*manifest["audit_head"])
        result = runner.invoke(args=["audit", "verify", "--head", head])
        assert result.exit_code == 0, result.output
        assert runner.invoke(args=["check"]).exit_code == 0

        with fresh.app_context():
            checks = transfer.compare(live_engine, db.engine)
            # The live trail goes on with `backup_made`, the restored one with
            # `backup_restored`: every event up to the head is the same.
            assert [c.table for c in checks if not c.ok] == ["audit_events"]
            upto = manifest["audit_head"][0]
            restored = db.session.execute(
                select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id <= upto)
                .order_by(AuditEvent.id)).all()
            assert len(restored) == upto
            assert db.session.execute(select(User.email).order_by(User.id)).scalars().all() \
                == ["admin@example.org", "reader@example.org"]
            db.session.remove()
        with live.app_context():
            original = db.session.execute(
                select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id <= upto)
                .order_by(AuditEvent.id)).all()
            db.session.remove()
        assert restored == original
        for rel in manifest["files"]:
            if rel.startswith("uploads/"):
                assert (tmp_path / "fresh" / rel).read_bytes() == \
                    (tmp_path / "live" / rel).read_bytes()

        result = runner.invoke(args=["restore", str(dest)])
        assert result.exit_code == 1 and "already holds data" in result.output
        result = runner.invoke(args=["restore", str(dest), "--force"])
        assert result.exit_code == 0, result.output
        assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    finally:
        _close(live)
        _close(fresh)


def test_a_sqlite_backup_is_not_restored_into_postgres(tmp_path, postgres_server):
    embedded = build_app(tmp_path / "embedded", SEARCH_BACKEND="whoosh",
                         DATABASE_URL=f"sqlite:///{tmp_path}/embedded/db.sqlite")
    dest = tmp_path / "b"
    assert embedded.test_cli_runner().invoke(args=["backup", str(dest)]).exit_code == 0
    _close(embedded)
    target = _app(tmp_path, postgres_server, "kinds")
    try:
        result = target.test_cli_runner().invoke(args=["restore", str(dest)])
        assert result.exit_code == 1 and "migrate-to" in result.output, result.output
    finally:
        _close(target)


def test_client_tools_are_found_outside_path(monkeypatch):
    from tests import services

    require(services.postgres_bin() is not None, "PostgreSQL is not installed")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert backup_pg.tool("pg_dump").startswith("/usr/lib/postgresql/")
    with pytest.raises(backup_pg.ToolMissing, match="pg_nothing is not installed"):
        backup_pg.tool("pg_nothing")
