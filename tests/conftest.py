"""Shared fixtures: an app on fresh data directories, clients, users, and file builders.

The default `app` runs Huey in immediate mode so a request returns after its job ran;
tests of the real queue (its storage, consumer threads, retries) build their own.
Database, search and queue come from the stack under test (tests/stack.py): SQLite files
and Whoosh by default, PostgreSQL (searched in PostgreSQL) and Redis with
INQUIRY_DOCS_TEST_STACK=postgres.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient

from inquiry_docs import create_app
from inquiry_docs.access import signin as auth_module
from inquiry_docs.db import db, upgrade_database
from tests import stack

PASSWORD = "correct horse battery staple"


def make_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    config = {
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "INDEX_DIR": str(tmp_path / "index"),
        **stack.settings(tmp_path),
        "QUEUE_IMMEDIATE": True,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "EXTRACT_TIMEOUT": 20,
    }
    config.update(overrides)
    return config


def build_app(tmp_path: Path, **overrides: Any) -> Flask:
    app = create_app(make_config(tmp_path, **overrides))
    with app.app_context():
        upgrade_database()
    return app


@pytest.fixture
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """The app on the stack's settings; `with_whoosh` makes it search with Whoosh."""
    backend = getattr(request, "param", None)
    app = build_app(tmp_path, **({"SEARCH_BACKEND": backend} if backend else {}))
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


@pytest.fixture
def inquiry(app: Flask):
    from inquiry_docs.access.inquiries import create_inquiry

    return create_inquiry("OLD", "Oldham local inquiry")


def make_user(email: str, role: str, inquiry=None, clearance: str = "OFFICIAL"):
    """A user with PASSWORD; administrators also get two-factor set up (see totp_code)."""
    from inquiry_docs.access import signin as auth
    from inquiry_docs.access import totp

    user, _ = auth.create_user(email, role=role, inquiry=inquiry, password=PASSWORD,
                               clearance=clearance)
    if role == "admin":
        user.totp_secret = totp.generate_secret()
        user.totp_enabled = True
        db.session.commit()
    return user


def totp_code(email: str) -> str:
    """A security code for a user made by make_user, usable even if one was used just now."""
    from sqlalchemy import func, select

    from inquiry_docs.access import totp
    from inquiry_docs.models import User

    user = db.session.execute(
        select(User).where(func.lower(User.email) == email.lower())
    ).scalar_one()
    user.totp_last_step = None  # tests sign in more often than once per 30 seconds
    db.session.commit()
    return totp.code_at(user.totp_secret)


# Each code works once, so concurrent sign-ins by one user take turns at the second step.
_second_step = threading.Lock()


def login(client: FlaskClient, email: str) -> None:
    """Sign in, answering the security-code step when the user has two-factor."""
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.data[:500]
    if response.headers["Location"].endswith("/auth/code"):
        with _second_step:
            if has_app_context() and current_app._get_current_object() is client.application:
                code = totp_code(email)
            else:  # e.g. called from a test's worker thread
                with client.application.app_context():
                    code = totp_code(email)
            response = client.post("/auth/code", data={"code": code})
        assert response.status_code == 302, response.data[:500]


@pytest.fixture
def admin(app: Flask):
    return make_user("admin@example.org", "admin")


@pytest.fixture
def admin_client(client: FlaskClient, admin) -> FlaskClient:
    login(client, admin.email)
    return client


def upload(client: FlaskClient, inquiry, files: list[tuple[bytes, str]], **form: str):
    inquiry_id = inquiry if isinstance(inquiry, int) else inquiry.id
    data: dict[str, Any] = {"inquiry": str(inquiry_id), "doc_type": "other", **form}
    data["files"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/upload/", data=data, content_type="multipart/form-data")


@pytest.fixture(scope="session")
def bomb_pdf() -> bytes:
    """A PDF whose content stream inflates past 1 GB (built once: it takes a moment)."""
    from tests import samples

    return samples.make_bomb_pdf()


def require(present: bool, missing: str) -> None:
    """Skip a test whose system tool is missing on a developer's machine; fail it in CI,
    where `.ci/run` installs every tool the suite needs, so a skip cannot hide a gap."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{missing} in CI: .ci/run should provide it")
    pytest.skip(missing)


@pytest.fixture(scope="session")
def postgres_server():
    """One throwaway PostgreSQL cluster for the session (see tests/services.py)."""
    from tests import services

    require(services.postgres_bin() is not None, "PostgreSQL is not installed")
    server = services.start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server():
    """One throwaway Redis for the session (see tests/services.py)."""
    from tests import services

    require(services.redis_bin() is not None, "Redis is not installed")
    server = services.start_redis()
    yield server
    server.stop()


# --- the search backends ----------------------------------------------------------------
# Search tests run against both backends: a module opts in by overriding `app` with
# `search_app` (`app = pytest.fixture(lambda search_app: search_app)` reads badly, so each
# says `def app(search_app): return search_app`). The PostgreSQL one gets a fresh database
# copied from a migrated template, so each test starts empty and no test waits on Alembic.

SEARCH_BACKENDS = ("whoosh", "tantivy", "postgres")
# The stack each backend's runs of the search, access and fault tests belong to: the
# embedded indexes on SQLite's, PostgreSQL search on PostgreSQL's. Elsewhere a run would
# differ from this one only by the database the rows live in, so it is deselected there
# (a `stack` mark on the parameter) and every test still runs on all three backends
# once per `make test` (test_stack_split.py checks it).
BACKEND_STACK = {"whoosh": "sqlite", "tantivy": "sqlite", "postgres": "postgres"}


def backend_params(*names: str | None) -> list[Any]:
    """Parameters naming search backends, each marked with the stack it runs on (None, the
    stack's own backend, runs on both)."""
    return [name if name is None
            else pytest.param(name, marks=pytest.mark.stack(BACKEND_STACK[name]))
            for name in names]


SEARCH_BACKEND_PARAMS = backend_params(*SEARCH_BACKENDS)


@pytest.fixture(scope="session")
def postgres_template(postgres_server, tmp_path_factory) -> str:
    """The name of a database migrated to the newest revision, to copy per test."""
    name = "inquiry_docs_search_template"  # the postgres stack has its own template
    postgres_server.execute(f"DROP DATABASE IF EXISTS {name}")
    postgres_server.execute(f"CREATE DATABASE {name}")
    app = build_app(tmp_path_factory.mktemp("template"),
                    DATABASE_URL=postgres_server.database_url(name))
    with app.app_context():
        db.engine.dispose()
    return name


@contextmanager
def postgres_database(server, template: str) -> Iterator[str]:
    """A new database copied from `template`, dropped afterwards; yields its URL."""
    import uuid

    name = f"test_{uuid.uuid4().hex[:16]}"
    server.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield server.database_url(name)
    finally:
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def search_backend_config(request, backend: str) -> Iterator[dict[str, Any]]:
    """Settings that put the app on `backend` (a fresh PostgreSQL database for postgres)."""
    if backend in ("whoosh", "tantivy"):
        yield {"SEARCH_BACKEND": backend}  # also on the postgres stack's database
        return
    server = request.getfixturevalue("postgres_server")
    template = request.getfixturevalue("postgres_template")
    with postgres_database(server, template) as url:
        yield {"DATABASE_URL": url, "SEARCH_BACKEND": "postgres"}


@pytest.fixture(params=SEARCH_BACKEND_PARAMS)
def search_app(request, tmp_path: Path) -> Iterator[Flask]:
    """The `app` fixture, once per search backend (each on its stack: BACKEND_STACK)."""
    for overrides in search_backend_config(request, request.param):
        app = build_app(tmp_path, **overrides)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()


# A test about the Whoosh index's own files (its folder, locks, segments, commits) runs
# with Whoosh on both stacks: an installation may pair Whoosh with PostgreSQL, and the
# postgres stack's default, PostgreSQL search, keeps no index files.
with_whoosh = pytest.mark.parametrize("app", ["whoosh"], indirect=True)
# The same for a test that both embedded indexes (Whoosh's, tantivy's) must pass.
EMBEDDED = ("whoosh", "tantivy")
with_embedded = pytest.mark.parametrize("app", EMBEDDED, indirect=True)


# A test of searching, access or labels written on the `app` fixture: on the stack's own
# search backend, and again on tantivy (which reads labels from the database) on the
# sqlite stack, tantivy's in BACKEND_STACK.
on_tantivy_too = pytest.mark.parametrize("app", backend_params(None, "tantivy"),
                                         ids=["stack", "tantivy"], indirect=True)


def index_folder(app: Flask) -> Path:
    """Where the app's embedded index keeps its files."""
    return Path(app.extensions["search"].directory)


def pytest_report_header(config: pytest.Config) -> str:
    return f"stack: {stack.NAME} (INQUIRY_DOCS_TEST_STACK)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `stack(name)` (itself, its module or one of its parameters) runs only
    on that stack: on the other it is deselected (not collected), so no skip stands in for
    a missing run. Every `stack` mark a test carries must name the stack under test."""
    kept, other = [], []
    for item in items:
        elsewhere = any(stack.NAME not in marker.args for marker in item.iter_markers("stack"))
        if item.get_closest_marker("stack_free") is not None:
            _check_stack_free(item)
            elsewhere = elsewhere or stack.NAME != stack.STACK_FREE_ON
        (other if elsewhere else kept).append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = kept


# The fixtures that reach the stack's database, queue, search or servers. A `stack_free`
# test may ask for none of them (checked at collection), and while it runs the stack's
# settings refuse to be read (_stack_free_guard), so a test wrongly marked fails on both.
STACK_FIXTURES = frozenset({
    "app", "client", "runner", "search_app", "inquiry", "admin", "admin_client",
    "postgres_server", "redis_server", "redis_url", "postgres_template",
    "live_server", "live_server_config", "page",
})


def _check_stack_free(item: pytest.Item) -> None:
    reason = item.get_closest_marker("stack_free").args
    if not reason or not reason[0]:
        raise pytest.UsageError(f"{item.nodeid}: stack_free(reason) needs its reason")
    used = STACK_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if used:
        raise pytest.UsageError(f"{item.nodeid} is marked stack_free but uses the stack's "
                                f"{', '.join(sorted(used))}")


@pytest.fixture(autouse=True)
def _stack_free_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("stack_free") is None:
        yield
        return

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError(f"{request.node.nodeid} is marked stack_free but reached "
                             "the stack under test (tests/stack.py)")

    with pytest.MonkeyPatch.context() as patch:
        for name in ("settings", "is_postgres", "postgres", "_running"):
            patch.setattr(stack, name, refuse)
        yield


@pytest.fixture
def redis_url(redis_server, tmp_path: Path) -> Iterator[str]:
    """A Redis database of this test's own, on either stack (db 0 on the sqlite stack,
    where nothing else uses the server)."""
    if stack.is_postgres():
        yield stack.settings(tmp_path)["QUEUE_URL"]
        return
    client = redis_server.client(0)
    client.flushdb()
    yield redis_server.url
    client.flushdb()
    client.close()


# The app's own password hasher, kept for test_signin to check before it is swapped below.
PRODUCTION_HASHER = auth_module._hasher


@pytest.fixture(scope="session", autouse=True)
def _light_password_hashing() -> Iterator[None]:
    """argon2id at its lightest setting for the suite, which hashes and checks passwords
    over a thousand times: at the app's cost (64 MiB, 3 passes, 4 lanes) that is minutes of
    CPU. Hashes stay argon2id and verify either way; subprocesses keep the real cost."""
    from argon2 import PasswordHasher

    light = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_module, "_hasher", light)
        patch.setattr(auth_module, "_DUMMY_HASH", light.hash("not-a-real-password-" + "x" * 12))
        yield


@pytest.fixture(scope="session", autouse=True)
def _stack(request: pytest.FixtureRequest) -> None:
    """Start the servers the stack under test needs, once per session."""
    if stack.is_postgres():
        stack.start(request.getfixturevalue("postgres_server"),
                    request.getfixturevalue("redis_server"))


@pytest.fixture(autouse=True)
def _stack_data() -> Iterator[None]:
    """Drop the databases a test made (SQLite files go with its tmp_path)."""
    mark = stack.mark()
    yield
    stack.release(mark)
