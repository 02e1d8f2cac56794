"""`inquiry-docs migrate-to`: an embedded (SQLite) installation moves into PostgreSQL.

A pilot with read documents (PDF, DOCX, an email with an attachment), review work, users,
tokens, sessions and audit events is copied into a fresh database on the test cluster;
the copy is proved by row counts, per-table SHA-256 and the audit chain, the app then runs
on it, and a changed row afterwards is caught. The moved installation searches with the
stack's search backend: Whoosh on the sqlite stack, PostgreSQL on the postgres stack.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import func, select

from inquiry_docs import create_app
from inquiry_docs.access import signin as auth
from inquiry_docs.db import db
from inquiry_docs.models import Document, Status
from inquiry_docs.operations import transfer
from tests import pilot as pilots
from tests import stack
from tests.conftest import build_app, login

pytestmark = pytest.mark.slow
TARGET_SEARCH = "postgres" if stack.is_postgres() else "whoosh"


def _target_app(tmp_path: Path, url: str) -> Flask:
    """The moved installation: same folders and keys, the PostgreSQL database."""
    return create_app({"DATABASE_URL": url, "SEARCH_BACKEND": TARGET_SEARCH,
                       "INSTANCE_DIR": str(tmp_path / "instance"),
                       "UPLOAD_DIR": str(tmp_path / "uploads"),
                       "INDEX_DIR": str(tmp_path / "index"), "SECRET_KEY": "test-secret",
                       "QUEUE_URL": f"sqlite:///{tmp_path}/queue.db", "QUEUE_IMMEDIATE": True,
                       "TESTING": True, "WTF_CSRF_ENABLED": False})


def _sql(postgres_server, name: str, statement: str) -> None:
    with psycopg.connect(postgres_server.database_url(name).replace("+psycopg", ""),
                         autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture
def pilot(tmp_path: Path):
    app = build_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite",
                    SEARCH_BACKEND="whoosh")  # embedded
    with app.app_context():
        pilots.fill()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_migrate_to_copies_verifies_and_runs_on_postgres(pilot, tmp_path, postgres_server):
    postgres_server.execute("CREATE DATABASE moved")
    url = postgres_server.database_url("moved")
    runner = pilot.test_cli_runner()
    documents = db.session.execute(select(Document).order_by(Document.id)).scalars().all()
    assert [d.status for d in documents] == [Status.INDEXED] * 4
    assert any(d.parent_id for d in documents)  # the email's attachment

    result = runner.invoke(args=["migrate-to", url, "--search-backend", TARGET_SEARCH])
    assert result.exit_code == 0, result.output
    assert "The copy matches" in result.output and "audit trail intact" in result.output
    assert "DIFFERENT" not in result.output and "Search index rebuilt: 4 documents" in \
        result.output

    target = _target_app(tmp_path, url)
    outcome = transfer.verify(target)
    assert outcome.ok, outcome.problems()
    checked = {t.table: t for t in outcome.tables}
    assert set(checked) == {t.name for t in db.metadata.sorted_tables}
    for table in ("documents", "pages", "tags", "document_tags", "notes", "codings",
                  "evidence_links", "users", "memberships", "api_tokens", "user_sessions",
                  "audit_events", "recommendations", "receipts"):
        assert checked[table].target_rows > 0, table
    assert checked["documents"].target_rows == 4
    events = db.session.execute(select(func.count()).select_from(
        db.metadata.tables["audit_events"])).scalar_one()
    assert checked["audit_events"].target_rows == events
    assert outcome.audit.ok and outcome.audit.checked == events

    # The app on the target: sign in, search, open a document; new rows get new ids.
    with target.app_context():
        client = target.test_client()
        login(client, "reader@example.org")
        found = client.get("/?q=referral")
        assert found.status_code == 200 and b"OLD000001" in found.data
        page = client.get(f"/documents/{documents[0].id}")
        assert page.status_code == 200 and b"Safeguarding referral" in page.data
        assert target.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
        user, _ = auth.create_user("new@example.org", role="admin")
        assert user.id == 3
        db.session.remove()
        db.engine.dispose()


def test_verification_catches_a_changed_row_and_a_tampered_audit_event(pilot, tmp_path,
                                                                       postgres_server):
    postgres_server.execute("CREATE DATABASE tampered")
    url = postgres_server.database_url("tampered")
    runner = pilot.test_cli_runner()
    assert runner.invoke(args=["migrate-to", url]).exit_code == 0
    assert runner.invoke(args=["migrate-to", url, "--verify-only"]).exit_code == 0

    _sql(postgres_server, "tampered", "UPDATE pages SET text = 'nothing to see' WHERE id = 1")
    result = runner.invoke(args=["migrate-to", url, "--verify-only"])
    assert result.exit_code == 1
    assert "pages: the rows differ" in result.output and "does NOT match" in result.output

    _sql(postgres_server, "tampered",
         "UPDATE audit_events SET actor = 'someone else' WHERE id = 2")
    _sql(postgres_server, "tampered", "DELETE FROM document_tags WHERE id = 1")
    result = runner.invoke(args=["migrate-to", url, "--verify-only"])
    assert result.exit_code == 1
    assert "document_tags: 3 rows in the source, 2 in the target" in result.output
    assert "audit trail on the target: event 2: this event was altered" in result.output

    # A used target is refused, unless forced: then it is emptied and copied again.
    result = runner.invoke(args=["migrate-to", url])
    assert result.exit_code == 1 and "already holds data" in result.output
    result = runner.invoke(args=["migrate-to", url, "--force"])
    assert result.exit_code == 0 and "The copy matches" in result.output, result.output


def test_migrate_to_refuses_what_it_cannot_do(pilot, tmp_path):
    runner = pilot.test_cli_runner()
    result = runner.invoke(args=["migrate-to", f"sqlite:///{tmp_path}/other.db"])
    assert result.exit_code == 1
    assert "copies into PostgreSQL only, not sqlite" in result.output
    result = runner.invoke(args=["migrate-to", "not a url"])
    assert result.exit_code == 1 and "is not a database URL" in result.output


def test_a_database_that_cannot_be_reached_is_named(pilot, postgres_server):
    url = postgres_server.database_url("never_created")
    result = pilot.test_cli_runner().invoke(args=["migrate-to", url])
    assert result.exit_code == 1
    assert "Cannot use postgresql+psycopg://postgres@127.0.0.1" in result.output
    assert 'database "never_created" does not exist' in result.output


def test_values_postgres_would_refuse_are_listed_before_anything_is_copied(pilot):
    document = db.session.get(Document, 1)
    document.title = "Bad\x00title"
    db.session.commit()
    db.session.execute(db.metadata.tables["audit_events"].update()
                       .where(db.metadata.tables["audit_events"].c.id == 1)
                       .values(ip="x" * 60))
    db.session.commit()
    problems = transfer.check_source(db.engine)
    assert "documents id=1: title holds a NUL character, which PostgreSQL does not store" in \
        problems
    assert "audit_events id=1: ip is longer than the column's 45 characters" in problems


def test_canonical_values_agree_between_the_dialects():
    from datetime import datetime

    from sqlalchemy import Boolean, Column, DateTime, Float, Integer

    assert transfer.canonical(Column("b", Boolean), 1) is True
    assert transfer.canonical(Column("b", Boolean), False) is False
    assert transfer.canonical(Column("d", DateTime), datetime(2024, 1, 2, 3, 4, 5)) == \
        "2024-01-02T03:04:05.000000"
    assert transfer.canonical(Column("f", Float), 0.1) == "0.1"
    assert transfer.canonical(Column("i", Integer), memoryview(b"\x00\xff")) == "00ff"
