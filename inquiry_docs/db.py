"""The SQLAlchemy handle and connection settings shared by every module."""

from __future__ import annotations

import weakref
from typing import Any

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session, scoped_session

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING))
migrate = Migrate()


# How long a writer waits for another's lock before its job fails and is retried.
LOCK_WAIT_MS = 30_000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work during a write; FULL sync and a busy timeout keep writers safe."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


@event.listens_for(Engine, "connect")
def _postgres_settings(dbapi_connection: Any, _record: Any) -> None:
    """The same promises on PostgreSQL: a commit is on disk before the index is written
    from it (whatever the server's default), and a lock is waited for, not forever."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # SET outside a transaction lasts the session
        cursor = dbapi_connection.cursor()
        cursor.execute("SET synchronous_commit = on")
        cursor.execute(f"SET lock_timeout = {LOCK_WAIT_MS}")
        cursor.close()
        dbapi_connection.autocommit = autocommit


# --- one writer at a time ------------------------------------------------------------------
# SQLite lets one transaction write at a time; the app relies on it (the audit chain appends
# to its newest event). On PostgreSQL a transaction-scoped advisory lock, taken before its
# first write, keeps that promise; being the first lock a writer takes, it also means two
# writers can never deadlock over rows. It is released at commit or rollback.
WRITER_LOCK = 727274
_LOCKED = "inquiry_docs.writer_lock"


def lock_for_writing(session: Session | scoped_session) -> None:
    """Wait until this transaction is the one writer (PostgreSQL; SQLite does it itself)."""
    if isinstance(session, scoped_session):
        session = session()
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    held = session.info.get(_LOCKED)
    if transaction is not None and held is not None and held() is transaction:
        return  # this transaction took it already
    session.connection().execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": WRITER_LOCK})
    session.info[_LOCKED] = weakref.ref(session.get_transaction())


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    lock_for_writing(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        lock_for_writing(state.session)


# Ids and numbers live in 32-bit INTEGER columns; PostgreSQL refuses even to compare one with
# a bigger value (SQLite just finds nothing), so numbers from requests are checked first.
MAX_INT = 2**31 - 1


def to_int(value: object) -> int:
    """A whole number that fits an INTEGER column; ValueError otherwise.

    Usable as `request.args.get(name, type=to_int)`, which then gives the default instead.
    """
    number = int(str(value).strip())
    if not -MAX_INT - 1 <= number <= MAX_INT:
        raise ValueError(f"{value!r} is out of range")
    return number


def to_int_or_none(value: object) -> int | None:
    try:
        return to_int(value)
    except ValueError:
        return None


def upgrade_database() -> None:
    """Bring the schema to the latest migration (inside an app context)."""
    from flask_migrate import upgrade

    upgrade()
