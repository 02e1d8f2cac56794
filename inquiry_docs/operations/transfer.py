"""Moving up: copy an embedded installation's database into PostgreSQL, then prove the copy.

`inquiry-docs migrate-to URL` runs with the pilot's settings (its database is the source):

1. check   the target is PostgreSQL, the source schema is current, and no value in the
           source is one PostgreSQL would refuse (a NUL character, text over a column's
           length: SQLite enforces neither);
2. prepare the target: the Alembic migrations, then refuse it if it holds any row (unless
           forced, when it is emptied first);
3. copy    every table in foreign-key order, in one transaction (a failure leaves the target
           empty), keeping every id; sequences are then set past the highest id;
4. index   rebuild the search index for the target's configuration, through the same
           function as `inquiry-docs reindex`;
5. verify  per table, the row count and a SHA-256 over a canonical serialisation of the rows
           read back from both databases, and `audit verify` on the target.

Originals are not copied: both installations use the same UPLOAD_DIR (move it to shared
storage with ordinary tools).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    String,
    Table,
    bindparam,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from ..access import audit, vault
from ..db import db

BATCH = 1000
Echo = Callable[[str], None]


class TransferError(Exception):
    """A move that cannot go ahead; the message says why and what to do."""


@dataclass
class TableCheck:
    """One table read back from both databases."""

    table: str
    source_rows: int
    target_rows: int
    source_sha256: str
    target_sha256: str

    @property
    def ok(self) -> bool:
        return (self.source_rows, self.source_sha256) == (self.target_rows, self.target_sha256)


@dataclass
class Outcome:
    tables: list[TableCheck] = field(default_factory=list)
    audit: audit.Verdict | None = None
    indexed: int | None = None

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and self.audit is not None and self.audit.ok

    def problems(self) -> list[str]:
        found = [f"{t.table}: {t.source_rows} rows in the source, {t.target_rows} in the "
                 "target" if t.source_rows != t.target_rows else
                 f"{t.table}: the rows differ (SHA-256 {t.source_sha256[:12]}… in the source, "
                 f"{t.target_sha256[:12]}… in the target)" for t in self.tables if not t.ok]
        if self.audit is not None and not self.audit.ok:
            found.append(f"audit trail on the target: event {self.audit.broken_at}: "
                         f"{self.audit.problem}")
        return found


# --- the two databases ---------------------------------------------------------------------

def target_url(raw: str) -> URL:
    """The target as a SQLAlchemy URL; only PostgreSQL is accepted."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise TransferError(f"{raw!r} is not a database URL. Give one such as "
                            "postgresql+psycopg://user:password@host:5432/inquiry_docs") from None
    if url.get_backend_name() != "postgresql":
        raise TransferError(f"migrate-to copies into PostgreSQL only, not {url.get_backend_name()}:"
                            " give a URL such as "
                            "postgresql+psycopg://user:password@host:5432/inquiry_docs")
    if url.drivername == "postgresql":  # the driver this project installs
        url = url.set(drivername="postgresql+psycopg")
    if not url.database:
        raise TransferError("The URL names no database: add /DATABASE_NAME at its end.")
    return url


def describe(url: URL | str) -> str:
    """A URL fit to print and to record: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def tables() -> list[Table]:
    """Every table of the schema, parents before children."""
    return list(db.metadata.sorted_tables)


def columns(table: Table) -> list[Column]:
    """The stored columns (a generated column is the database's to compute)."""
    return [c for c in table.columns if c.computed is None]


def _order(table: Table, dialect: str) -> list[Any]:
    """Primary-key order, the same in both databases: bytewise for text keys."""
    keys = list(table.primary_key.columns)
    if dialect == "postgresql":
        return [c.collate("C") if isinstance(c.type, String) else c for c in keys]
    return keys


def build_target_app(url: URL, index_dir: str | None = None,
                     search_backend: str | None = None) -> Flask:
    """This installation's settings, with the target database (and index, if given)."""
    from .. import config

    source = current_app.config
    overrides: dict[str, Any] = {
        key: source[key] for key in ("INSTANCE_DIR", "UPLOAD_DIR", "INDEX_DIR", "SECRET_KEY",
                                     "AUDIT_KEY", "ANCHOR_KEY", "QUEUE_URL")
    }
    # The rows are copied as stored: the target opens the sealed secrets with the same key.
    overrides["SECRETS_KEY"] = vault.sealer().key_text()
    overrides["DATABASE_URL"] = url.render_as_string(hide_password=False)
    overrides["QUEUE_IMMEDIATE"] = True  # the move queues nothing
    if index_dir:
        overrides["INDEX_DIR"] = str(Path(index_dir).resolve())
    if search_backend:
        if "SEARCH_BACKEND" not in config.SETTINGS_BY_NAME:
            raise TransferError("This version has one search backend (Whoosh): leave out "
                                "--search-backend.")
        overrides["SEARCH_BACKEND"] = search_backend
    try:
        # The factory that built this app (kept by create_app), so the import runs downwards.
        return current_app.extensions["create_app"](overrides)
    except ImportError as error:  # psycopg is an extra
        raise TransferError(f"The PostgreSQL driver is not installed ({error}): "
                            "pip install -e '.[postgres]'") from None


# --- 1. check ------------------------------------------------------------------------------

def _schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    from ..config import PROJECT_ROOT

    return ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_current_head()


def check_source(engine: Engine) -> list[str]:
    """Why this database cannot be copied as it is (nothing when it can)."""
    if _schema_revision(engine) != _head_revision():
        return ["The database schema is not current: run `inquiry-docs init` (it upgrades "
                "the database) and try again."]
    return _refused_values(engine) if engine.dialect.name == "sqlite" else []


def _refused_values(engine: Engine, per_column: int = 5) -> list[str]:
    problems = []
    with engine.connect() as conn:
        for table in tables():
            key = next(iter(table.primary_key.columns))
            for column in columns(table):
                if not isinstance(column.type, String):
                    continue
                for why, condition in _refusals(column):
                    rows = conn.execute(select(key).where(condition).limit(per_column)).all()
                    problems += [f"{table.name} {key.name}={row[0]}: {column.name} {why}"
                                 for row in rows]
    return problems


def _refusals(column: Column) -> Iterator[tuple[str, Any]]:
    yield "holds a NUL character, which PostgreSQL does not store", \
        func.instr(column, func.char(0)) > 0
    length = column.type.length
    if length:
        yield f"is longer than the column's {length} characters", func.length(column) > length


# --- 2. prepare ----------------------------------------------------------------------------

def _occupied(conn: Connection) -> list[str]:
    return [t.name for t in tables()
            if conn.execute(select(literal(1)).select_from(t).limit(1)).first()]


def prepare_target(force: bool) -> None:
    """Migrate the target (inside its app context) and make sure it holds no rows."""
    from ..db import upgrade_database

    upgrade_database()
    with db.engine.begin() as conn:
        occupied = _occupied(conn)
        if occupied and not force:
            raise TransferError("The target database already holds data (in "
                                + ", ".join(occupied[:5]) + "). Give an empty database, or "
                                "--force to empty this one first.")
        if occupied:
            names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables())
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


# --- 3. copy -------------------------------------------------------------------------------

def bar(progress: bool, **kwargs: Any) -> Any:
    from tqdm import tqdm

    return tqdm(disable=not (progress and sys.stderr.isatty()), **kwargs)


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in tables()}


def copy_rows(source: Engine, target: Engine, progress: bool = False) -> int:
    """Every row of every table, ids kept, in one target transaction; returns the rows."""
    total = sum(row_counts(source).values())
    with source.connect() as src, target.begin() as dst, \
            bar(progress, total=total, desc="Copying", unit="row") as shown:
        for table in tables():
            shown.set_postfix_str(table.name)
            _copy_table(src, dst, table, shown.update)
        _reset_sequences(dst)
    return total


def _self_references(table: Table) -> list[Column]:
    return [fk.parent for fk in table.foreign_keys if fk.column.table is table]


def _copy_table(src: Connection, dst: Connection, table: Table,
                advance: Callable[[int], Any]) -> None:
    cols = columns(table)
    refs = _self_references(table)
    deferred: list[dict[str, Any]] = []
    result = src.execution_options(yield_per=BATCH).execute(
        select(*cols).order_by(*_order(table, src.dialect.name)))
    for rows in result.partitions():
        records = []
        for row in rows:
            record = dict(row._mapping)
            # A row may point at a later row of its own table (an attachment's parent):
            # insert it without the link, and put the links back once every row is in.
            if any(record[c.name] is not None for c in refs):
                deferred.append(record)
                record = {**record, **{c.name: None for c in refs}}
            records.append(record)
        dst.execute(table.insert(), records)
        advance(len(records))
    if deferred:
        _relink(dst, table, refs, deferred)


def _relink(dst: Connection, table: Table, refs: list[Column],
            records: list[dict[str, Any]]) -> None:
    (key,) = table.primary_key.columns
    # Columns with an onupdate default are set to their copied values, so the update
    # changes nothing but the links.
    pinned = [*refs, *(c for c in table.columns if c.onupdate is not None)]
    statement = table.update().where(key == bindparam("_key")).values(
        {c.name: bindparam(f"_{c.name}") for c in pinned})
    for start in range(0, len(records), BATCH):
        dst.execute(statement, [{"_key": r[key.name], **{f"_{c.name}": r[c.name] for c in pinned}}
                                for r in records[start:start + BATCH]])


def _reset_sequences(dst: Connection) -> None:
    """Rows came with their ids: the next id each sequence hands out must be past them."""
    for table in tables():
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or not isinstance(keys[0].type, Integer):
            continue
        highest = dst.execute(select(func.max(keys[0]))).scalar() or 0
        dst.execute(text("SELECT setval(pg_get_serial_sequence(:table, :column), :next, false)"),
                    {"table": table.name, "column": keys[0].name, "next": highest + 1})


# --- 5. verify -----------------------------------------------------------------------------

def canonical(column: Column, value: Any) -> Any:
    """One value as both databases' drivers agree to show it (JSON-ready)."""
    if value is None:
        return None
    if isinstance(column.type, Boolean):
        return bool(value)  # SQLite keeps 0/1
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, int | str):
        return value
    return str(value)


def table_digest(conn: Connection, table: Table,
                 advance: Callable[[int], Any] = lambda _: None) -> tuple[int, str]:
    """Row count and SHA-256 of the table's rows in key order, one JSON line per row."""
    cols = columns(table)
    digest = hashlib.sha256(json.dumps([c.name for c in cols]).encode() + b"\n")
    count = 0
    result = conn.execution_options(yield_per=BATCH).execute(
        select(*cols).order_by(*_order(table, conn.dialect.name)))
    for rows in result.partitions():
        for row in rows:
            line = [canonical(c, v) for c, v in zip(cols, row, strict=True)]
            digest.update(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode()
                          + b"\n")
        count += len(rows)
        advance(len(rows))
    return count, digest.hexdigest()


def compare(source: Engine, target: Engine, progress: bool = False) -> list[TableCheck]:
    total = sum(row_counts(source).values()) * 2
    checks = []
    with source.connect() as src, target.connect() as dst, \
            bar(progress, total=total, desc="Verifying", unit="row") as shown:
        for table in tables():
            shown.set_postfix_str(table.name)
            source_rows, source_sha = table_digest(src, table, shown.update)
            target_rows, target_sha = table_digest(dst, table, shown.update)
            checks.append(TableCheck(table.name, source_rows, target_rows, source_sha,
                                     target_sha))
    return checks


def verify(target_app: Flask, progress: bool = False) -> Outcome:
    """Compare this installation's database with the target's, and check its audit chain."""
    source = db.engine
    with target_app.app_context():
        target = db.engine
        outcome = Outcome(tables=compare(source, target, progress))
        outcome.audit = audit.verify()
        db.session.remove()
    return outcome


# --- the whole move ------------------------------------------------------------------------

def migrate_to(raw_url: str, *, force: bool = False, index_dir: str | None = None,
               search_backend: str | None = None, progress: bool = False,
               echo: Echo = print, actor: str = "command line") -> Outcome:
    """Copy this installation's database into the PostgreSQL database at `raw_url`."""
    from .check import rebuild_index

    url = target_url(raw_url)
    source = db.engine
    if source.url.render_as_string(hide_password=False) == \
            url.render_as_string(hide_password=False):
        raise TransferError("The target is this installation's own database.")
    problems = check_source(source)
    if problems:
        raise TransferError("The source cannot be copied as it is:\n  " + "\n  ".join(problems))
    target_app = build_target_app(url, index_dir, search_backend)
    try:
        with target_app.app_context():
            echo(f"Preparing {describe(url)}: running the migrations")
            with _reachable(url):
                prepare_target(force)
            db.session.remove()
        # Recorded before the copy, so both trails hold it and end on the same event.
        audit.record("database_copied", actor=actor, object_type="database",
                     object_id=url.database, target=describe(url))
        db.session.commit()
        with target_app.app_context():
            target = db.engine
        rows = copy_rows(source, target, progress)
        echo(f"Copied {rows} rows in {len(tables())} tables")
        with target_app.app_context():
            echo("Rebuilding the search index for the target")
            indexed = rebuild_index(progress=progress)
            db.session.remove()
        echo("Verifying the copy")
        outcome = verify(target_app, progress)
        outcome.indexed = indexed
        return outcome
    finally:
        _dispose(target_app)


def verify_only(raw_url: str, *, progress: bool = False) -> Outcome:
    """Compare again later (before switching over, or after a suspicion)."""
    url = target_url(raw_url)
    target_app = build_target_app(url)
    try:
        with _reachable(url):
            return verify(target_app, progress)
    finally:
        _dispose(target_app)


@contextmanager
def _reachable(url: URL) -> Iterator[None]:
    """A database that cannot be reached is a message, not a traceback."""
    try:
        yield
    except OperationalError as error:
        raise TransferError(f"Cannot use {describe(url)}: {error.orig}") from None


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
