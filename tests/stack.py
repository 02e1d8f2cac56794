"""The stack the suite runs on: INQUIRY_DOCS_TEST_STACK=sqlite (the default) or postgres.

sqlite    SQLite files and the Huey SQLite queue under each test's tmp_path, searched by
          the Whoosh index in INDEX_DIR (the embedded default of a fresh installation);
          the database file is a copy of one migrated once per session.
postgres  a fresh PostgreSQL database per app on the session's throwaway cluster, cloned
          from a template migrated once, searched by the PostgreSQL search backend
          (SEARCH_BACKEND=postgres: the search rows live in that database), and a Redis
          database per app for the job queue and the sign-in throttling counts
          (tests/services.py starts both servers).

`settings(tmp_path)` is the one place where the stacks differ: an app whose data lives
under tmp_path gets these settings from conftest's make_config/build_app, the browser
tests' live servers and the tests that run the command line in a subprocess.

What runs where (each rule deselects at collection, in conftest's
pytest_collection_modifyitems; nothing is skipped):

- A test of what only one stack has is marked `stack(name)` and deselected on the other.
- The search, access and fault tests parametrised over the search backends (the
  search_app fixture, test_api's on_each_backend, test_relevance, on_tantivy_too's
  tantivy run) run each backend on its own stack, conftest.BACKEND_STACK: Whoosh and
  tantivy on sqlite, PostgreSQL search on postgres (the parameter carries a `stack`
  mark). A run elsewhere would differ only by the database holding the rows, so between
  the two stacks of `make test` each such test runs once on each of the three backends.
- The tests of an embedded index's own files (`conftest.with_whoosh`, `with_embedded`,
  EMBEDDED, test_crash's tantivy run, test_tantivy_search) keep Whoosh and tantivy on
  both stacks, as an installation may pair either with PostgreSQL.
- A module marked `pytest.mark.stack_free(reason)` (extraction, the sandbox, the
  benchmarks' smoke runs on servers of their own, parsers, charts, settings, storage,
  the import rules) uses no database, queue or search of the stack's: it runs on
  STACK_FREE_ON only. Such a test may not ask for the stack's fixtures (conftest's
  STACK_FIXTURES, checked at collection) and while it runs `settings()` and the other
  entry points here raise, so a wrongly marked test fails rather than runs half-tested.

test_stack_split.py collects both stacks and checks the first two rules and the last.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from tests.services import Postgres, Redis

STACKS = ("sqlite", "postgres")
# The stack that runs the tests marked `stack_free` (deselected on the other).
STACK_FREE_ON = "sqlite"
NAME = os.environ.get("INQUIRY_DOCS_TEST_STACK", "sqlite") or "sqlite"
if NAME not in STACKS:
    raise RuntimeError(f"INQUIRY_DOCS_TEST_STACK={NAME!r}: choose one of {', '.join(STACKS)}")

# Redis databases the server is started with (services.start_redis); db 0 is left unused.
REDIS_DATABASES = 1024


def is_postgres() -> bool:
    return NAME == "postgres"


def settings(tmp_path: Path) -> dict[str, Any]:
    """Database, search and queue settings for an app whose data lives under tmp_path.

    The same tmp_path always gets the same database, as it would the same SQLite file.
    """
    if NAME == "postgres":
        services = _running()
        return {"DATABASE_URL": services.database_url(tmp_path),
                "SEARCH_BACKEND": "postgres",
                # An immediate queue ignores it; the sign-in throttle keeps its counts there.
                "QUEUE_URL": services.redis_url(tmp_path)}
    _sqlite_copy(tmp_path / "db.sqlite")
    return {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite",
            "SEARCH_BACKEND": "whoosh",
            "QUEUE_URL": f"sqlite:///{tmp_path}/queue.db"}


def _migrate(directory: str, database_url: str) -> None:
    """Run the migrations on an empty database (used for both stacks' templates)."""
    from inquiry_docs import create_app
    from inquiry_docs.db import db, upgrade_database

    app = create_app({
        "INSTANCE_DIR": f"{directory}/instance", "UPLOAD_DIR": f"{directory}/uploads",
        "INDEX_DIR": f"{directory}/index", "SECRET_KEY": "template",
        "DATABASE_URL": database_url,
        "QUEUE_URL": "memory://", "QUEUE_IMMEDIATE": True, "TESTING": True,
    })
    with app.app_context():
        upgrade_database()
        db.session.remove()
        db.engine.dispose()  # closes the SQLite WAL; PostgreSQL's TEMPLATE needs it unused


_sqlite_template: Path | None = None
_sqlite_lock = threading.Lock()


def _sqlite_copy(path: Path) -> None:
    """Give `path` a copy of a SQLite database migrated once per session, unless it exists.

    Migrating an empty SQLite file takes about a second; copying the result a millisecond.
    The app's own upgrade_database() then finds it at the newest revision, as the postgres
    stack's copies of its template are.
    """
    global _sqlite_template
    if path.exists():
        return
    with _sqlite_lock:
        if _sqlite_template is None:
            directory = Path(tempfile.mkdtemp(prefix="inquiry-docs-sqlite-template-"))
            atexit.register(shutil.rmtree, directory, ignore_errors=True)
            _migrate(str(directory), f"sqlite:///{directory}/db.sqlite")
            leftovers = {p.name for p in directory.glob("db.sqlite-*")}
            if leftovers:
                raise RuntimeError(f"the template left {leftovers} behind: not closed")
            _sqlite_template = directory / "db.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template, path)


class PostgresStack:
    """Per-app databases cloned from one migrated template, and per-app Redis databases."""

    TEMPLATE = "inquiry_docs_template"

    def __init__(self, postgres: Postgres, redis: Redis) -> None:
        self.postgres = postgres
        self.redis = redis
        self._apps: dict[str, tuple[str, int]] = {}  # tmp_path -> (database, Redis db)
        self._order: list[str] = []  # tmp_paths in the order their databases were made
        self._free_redis = list(range(REDIS_DATABASES - 1, 0, -1))
        self._count = 0
        self._lock = threading.Lock()
        self._migrate_template()

    def _migrate_template(self) -> None:
        """Run the migrations once; each test's database is a cheap copy of the result."""
        self.postgres.execute(f"CREATE DATABASE {self.TEMPLATE}")
        with tempfile.TemporaryDirectory(prefix="inquiry-docs-template-") as tmp:
            _migrate(tmp, self.postgres.database_url(self.TEMPLATE))

    def _for(self, tmp_path: Path) -> tuple[str, int]:
        key = str(tmp_path)
        with self._lock:
            if key not in self._apps:
                self._count += 1
                name = f"t{self._count}"
                self.postgres.execute(f"CREATE DATABASE {name} TEMPLATE {self.TEMPLATE}")
                number = self._free_redis.pop()
                client = self.redis.client(number)
                client.flushdb()  # a database given back by an earlier test
                client.close()
                self._apps[key] = (name, number)
                self._order.append(key)
            return self._apps[key]

    def database_url(self, tmp_path: Path) -> str:
        return self.postgres.database_url(self._for(tmp_path)[0])

    def redis_url(self, tmp_path: Path) -> str:
        return self.redis.database_url(self._for(tmp_path)[1])

    def mark(self) -> int:
        return len(self._order)

    def drop_since(self, mark: int) -> None:
        """Drop what was made since `mark` (for one test), whoever still holds it open."""
        with self._lock:
            keys, self._order[mark:] = self._order[mark:], []
            released = [self._apps.pop(key) for key in keys]
        for name, number in released:
            self.postgres.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            self._free_redis.append(number)


_services: PostgresStack | None = None


def start(postgres: Postgres, redis: Redis) -> PostgresStack:
    global _services
    _services = PostgresStack(postgres, redis)
    return _services


def _running() -> PostgresStack:
    if _services is None:
        raise RuntimeError("the postgres stack is not running: conftest's `_stack` fixture "
                           "starts it for the session")
    return _services


def postgres() -> Postgres:
    """The session's PostgreSQL cluster (postgres stack only)."""
    return _running().postgres


def mark() -> int:
    return _services.mark() if _services is not None else 0


def release(mark_: int) -> None:
    if _services is not None:
        _services.drop_since(mark_)
