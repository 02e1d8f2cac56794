"""The PostgreSQL backend's rows: each page's weighted text vectors, written in the
caller's transaction (so a page is searchable once committed), rebuilt in one statement."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from ... import faults
from ...db import db
from ..contract import IndexPage

# What migration 0009 adds to a PostgreSQL database for this backend (not ORM models).
SCHEMA_OBJECTS = ("search_pages", "search_documents", "ix_documents_source_words")
TERMS = ("setweight(to_tsvector('english', d.title), 'A') || "
         "setweight(to_tsvector('english', p.text), 'B')")
WORDS = ("setweight(to_tsvector('simple', d.title), 'A') || "
         "setweight(to_tsvector('simple', p.text), 'D')")
# A batch's rows: each title's vectors made once for its document (the CTE is
# materialised, so not again for every page), each page's text once per vector.
INSERT_ROWS = ("INSERT INTO search_pages (document_id, number, terms, words) "
               "WITH t AS MATERIALIZED (SELECT d.id, "
               "setweight(to_tsvector('english', d.title), 'A') AS terms, "
               "setweight(to_tsvector('simple', d.title), 'A') AS words "
               "FROM documents d WHERE {where}) "
               "SELECT p.document_id, p.number, "
               "t.terms || setweight(to_tsvector('english', p.text), 'B'), "
               "t.words || setweight(to_tsvector('simple', p.text), 'D') "
               "FROM pages p JOIN t ON t.id = p.document_id WHERE p.text ~ '\\S'")
INSERT_TITLES = ("INSERT INTO search_documents (document_id, title) "
                 "SELECT d.id, d.title FROM documents d WHERE {where} "
                 "ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title")


class SearchRows:
    """The writing half of PostgresBackend (and what it shares with readers: locks, ping)."""

    _rum: bool | None = None
    text_index: str = "gin"  # the PG_TEXT_INDEX setting: what rebuild and prepare build

    def index_pages(self, document_ids: list[int], pages: list[IndexPage]) -> None:
        """Rewrite these documents' rows from their committed-or-pending page rows.

        `pages` is not needed: the rows are built from the database in the same statement.
        """
        if not document_ids:
            return
        db.session.flush()
        conn = db.session.connection()
        ids = {"ids": sorted(set(document_ids))}
        conn.execute(text("DELETE FROM search_pages WHERE document_id = ANY(:ids)"), ids)
        conn.execute(text(INSERT_ROWS.format(where="d.id = ANY(:ids)")), ids)
        conn.execute(text(INSERT_TITLES.format(where="d.id = ANY(:ids)")), ids)
        # The crash tests' point between writing the rows and the caller's commit.
        faults.point("index_commit")

    def refresh(self, document_ids: list[int]) -> None:
        """After a document change: rewrite the rows of those whose title changed (the
        only document field held in the vectors), in the caller's transaction."""
        if not document_ids:
            return
        db.session.flush()
        stale = db.session.connection().execute(text(
            "SELECT d.id FROM documents d LEFT JOIN search_documents sd ON sd.document_id = d.id "
            "WHERE d.id = ANY(:ids) AND sd.title IS DISTINCT FROM d.title"),
            {"ids": list(document_ids)}).scalars().all()
        self.index_pages(list(stale), [])

    def delete_documents(self, document_ids: list[int]) -> None:
        conn = db.session.connection()
        ids = {"ids": list(document_ids)}
        conn.execute(text("DELETE FROM search_pages WHERE document_id = ANY(:ids)"), ids)
        conn.execute(text("DELETE FROM search_documents WHERE document_id = ANY(:ids)"), ids)
        db.session.commit()

    def clear(self) -> None:
        conn = db.session.connection()
        conn.execute(text("DELETE FROM search_pages"))
        conn.execute(text("DELETE FROM search_documents"))

    def rebuild(self, statuses: tuple[str, ...], method: str | None = None) -> int:
        """Rebuild every row, in one transaction, into a new table that then replaces
        the old one: searches keep reading the old rows until the swap. The rows are
        made by one CREATE TABLE ... AS SELECT (PostgreSQL computes the vectors in
        parallel workers there, not in an INSERT), then the indexes are built once, which
        is far quicker than keeping them up to date row by row. Returns the documents.

        `method` ("gin" or "rum") chooses the kind of index; None takes RUM when the
        extension can be had (so installing it and re-indexing is the upgrade), else GIN.
        """
        conn = db.session.connection()
        conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        # The page rows are narrow (their text is stored out of line), so the planner
        # would not split the scan between workers; the text analysis is the real cost.
        for setting in ("parallel_setup_cost", "parallel_tuple_cost",
                        "min_parallel_table_scan_size"):
            conn.execute(text(f"SET LOCAL {setting} = 0"))
        method = _index_method(conn, method or self.text_index)
        # CREATE TABLE AS takes no parameters: the statuses are our own words, checked.
        wanted = ", ".join(f"'{s}'" for s in statuses if re.fullmatch(r"[a-z_]+", s))
        where = f"d.status IN ({wanted or 'NULL'})"
        conn.execute(text("DROP TABLE IF EXISTS search_pages_build"))
        conn.execute(text(
            "CREATE TABLE search_pages_build WITH (toast_tuple_target = 128) AS "
            f"SELECT p.document_id, p.number, {TERMS} AS terms, {WORDS} AS words "
            f"FROM pages p JOIN documents d ON d.id = p.document_id "
            f"WHERE p.text ~ '\\S' AND {where}"))
        conn.execute(text(
            "ALTER TABLE search_pages_build ALTER COLUMN document_id SET NOT NULL, "
            "ALTER COLUMN number SET NOT NULL, ALTER COLUMN terms SET NOT NULL, "
            "ALTER COLUMN words SET NOT NULL, "
            "ADD CONSTRAINT pk_search_pages_build PRIMARY KEY (document_id, number)"))
        ops = " rum_tsvector_ops" if method == "rum" else ""
        for column in ("terms", "words"):
            conn.execute(text(f"CREATE INDEX ix_search_pages_build_{column} ON "
                              f"search_pages_build USING {method} ({column}{ops})"))
        # The swap: names as migration 0009 gave them. Dropping search_pages also locks
        # documents (its foreign key's trigger); a worker writes documents first, then the
        # search rows, so take the locks in that order, or the two can deadlock.
        conn.execute(text("LOCK TABLE documents, search_pages, search_documents "
                          "IN ACCESS EXCLUSIVE MODE"))
        conn.execute(text("DROP TABLE search_pages"))
        conn.execute(text("ALTER TABLE search_pages_build RENAME TO search_pages"))
        conn.execute(text("ALTER TABLE search_pages RENAME CONSTRAINT pk_search_pages_build "
                          "TO pk_search_pages"))
        for column in ("terms", "words"):
            conn.execute(text(f"ALTER INDEX ix_search_pages_build_{column} "
                              f"RENAME TO ix_search_pages_{column}"))
        conn.execute(text(
            "ALTER TABLE search_pages ADD CONSTRAINT fk_search_pages_document_id_documents "
            "FOREIGN KEY (document_id) REFERENCES documents (id) ON DELETE CASCADE"))
        conn.execute(text("TRUNCATE search_documents"))
        done = conn.execute(text(INSERT_TITLES.format(where=where))).rowcount
        conn.execute(text("ANALYZE search_pages"))
        db.session.commit()
        self._rum = None
        return done

    def prepare(self) -> None:
        """Make the two text indexes the kind PG_TEXT_INDEX names (at `init`): RUM ranks
        inside the index, which keeps searches for common words quick at a million pages,
        but costs about 5 ms of server time for each page written; GIN about 0.1 ms."""
        conn = db.session.connection()
        current = {"rum" if " rum " in d else "gin" for _, d in text_indexes(conn)}
        if current == {self.text_index}:
            return
        method = _index_method(conn, self.text_index)
        ops = " rum_tsvector_ops" if method == "rum" else ""
        for column in ("terms", "words"):
            conn.execute(text(f"DROP INDEX IF EXISTS ix_search_pages_{column}"))
            conn.execute(text(f"CREATE INDEX ix_search_pages_{column} ON search_pages "
                              f"USING {method} ({column}{ops})"))
        db.session.commit()
        self._rum = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Nothing to hold: the rows are in the database, which backs itself up whole."""
        yield

    def reopen(self) -> None:
        self._rum = None

    def ping(self) -> int:
        db.session.connection().execute(text("SELECT 1 FROM search_pages LIMIT 1")).first()
        return int(db.session.connection().execute(text(
            "SELECT GREATEST(reltuples, 0) FROM pg_class WHERE oid = "
            "CAST('search_pages' AS regclass)")).scalar_one())

    def indexed_page_counts(self) -> dict[int, int]:
        rows = db.session.connection().execute(text(
            "SELECT document_id, count(*) FROM search_pages GROUP BY document_id"))
        return {int(document_id): int(count) for document_id, count in rows.all()}


def text_indexes(conn: Connection) -> list[tuple[str, str]]:
    return [tuple(row) for row in conn.execute(text(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'search_pages' "
        "AND indexdef ~ 'USING (gin|rum) '"))]  # type: ignore[misc]


def _index_method(conn: Connection, wanted: str | None) -> str:
    """RUM when asked for or when None and the extension can be created here, else GIN."""
    if wanted == "gin":
        return "gin"
    available = conn.execute(text(
        "SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")).first() is not None
    if available:
        savepoint = db.session.begin_nested()
        try:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS rum"))
            savepoint.commit()
            return "rum"
        except DBAPIError:
            savepoint.rollback()
            if wanted == "rum":
                raise
    if wanted == "rum":
        raise RuntimeError("The rum extension is not installed (Debian: postgresql-15-rum).")
    return "gin"
