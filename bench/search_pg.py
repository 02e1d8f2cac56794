"""The PostgreSQL side of bench/search.py (`--backend postgres`).

- The database: `--database-url` (kept between runs, so `--keep` can reuse a build), or a
  throwaway cluster started from the installed binaries (tests/services.py), stopped and
  deleted when the run ends.
- Pages go in with COPY; the search rows are then built by `PostgresBackend.rebuild`,
  as `inquiry-docs reindex` builds them: one CREATE TABLE ... AS SELECT computing both
  vectors, with the text indexes (RUM when the extension is installed, else GIN) built
  after the load; then VACUUM ANALYZE (timed with the build), as autovacuum would.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A database URL for the run: the one given, or a new throwaway cluster's."""
    if url:
        yield url
        return
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests import services

    server = services.start_postgres()
    try:
        server.execute("CREATE DATABASE bench")
        print(f"Started a throwaway PostgreSQL on port {server.port}", file=sys.stderr)
        yield server.database_url("bench")
    finally:
        server.stop()


def reset(url: str) -> None:
    """Empty a kept database before a new build (the schema is made again by Alembic)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def copy_pages(session, rows: list[dict]) -> None:
    """Page rows through COPY, in the session's transaction."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            "COPY pages (document_id, number, text, ocr) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((row["document_id"], row["number"], row["text"], False))


def build_index(app, method: str | None) -> float:
    """Build every search row and the indexes; returns the seconds it took."""
    from sqlalchemy import text, update

    from inquiry_docs.db import db
    from inquiry_docs.models import Document, Status

    with app.app_context():
        start = time.perf_counter()
        backend = app.extensions["search"]
        count = backend.rebuild((Status.INDEXING, Status.INDEXED), method=method)
        db.session.execute(update(Document).where(Document.status == Status.INDEXING)
                           .values(status=Status.INDEXED))
        db.session.commit()
        # What autovacuum would have done by the time anyone searches: without statistics
        # on the freshly loaded tables the planner guesses their sizes, and badly.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        seconds = time.perf_counter() - start
        print(f"  built the search rows of {count:,} documents in {seconds:.0f} s",
              file=sys.stderr)
        db.session.remove()
    return seconds


def index_bytes(app) -> int:
    """Search rows, their out-of-line vectors and their indexes, on disk."""
    from sqlalchemy import text

    from inquiry_docs.db import db

    with app.app_context():
        size = db.session.execute(text(
            "SELECT pg_total_relation_size('search_pages') "
            "+ pg_total_relation_size('search_documents')")).scalar_one()
        db.session.remove()
    return int(size)


def describe(app) -> str:
    """The server version and the kind of text index, for the report."""
    from sqlalchemy import text

    from inquiry_docs.db import db

    with app.app_context():
        version = db.session.execute(text("SHOW server_version")).scalar_one()
        kind = "RUM" if app.extensions["search"].uses_rum() else "GIN"
        db.session.remove()
    return f"PostgreSQL {version.split()[0]}, {kind} indexes"
