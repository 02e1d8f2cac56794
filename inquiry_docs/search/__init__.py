"""Search: the backend contract, the backends, the query language, facets and snippets,
and the searches built on them (batch, saved, CSV export). `backend()` is the one backend
this app uses, chosen by the SEARCH_BACKEND setting."""

from __future__ import annotations

from flask import Flask, current_app

from .contract import (
    DocumentHit,
    IndexLocked,
    IndexPage,
    PageHit,
    Results,
    SearchBackend,
    SnippetSource,
)

__all__ = ["BACKENDS", "DocumentHit", "IndexLocked", "IndexPage", "PageHit", "Results",
           "SearchBackend", "SnippetSource", "backend", "backend_name", "init_app"]


BACKENDS = ("whoosh", "tantivy", "postgres")


def backend_name(app: Flask) -> str:
    """The SEARCH_BACKEND setting, Whoosh when unset."""
    return app.config.get("SEARCH_BACKEND") or "whoosh"


def init_app(app: Flask) -> None:
    """Make the backend SEARCH_BACKEND names; nothing is opened or connected yet."""
    name = backend_name(app)
    if name not in BACKENDS:
        raise ValueError(f"SEARCH_BACKEND={name!r} is not known: use one of "
                         + ", ".join(BACKENDS) + ".")
    if name == "postgres":
        url = str(app.config["DATABASE_URL"])
        if not url.startswith(("postgresql:", "postgresql+")):
            raise ValueError("SEARCH_BACKEND=postgres searches inside the database, so "
                             "DATABASE_URL must be PostgreSQL (postgresql+psycopg://...); "
                             "it is " + url.split(":", 1)[0] + ".")
        from .postgres.backend import PostgresBackend

        app.extensions["search"] = PostgresBackend(time_limit=app.config["SEARCH_TIME_LIMIT"],
                                                   text_index=app.config["PG_TEXT_INDEX"])
        return
    if name == "tantivy":
        from .tantivy.backend import TantivyBackend

        app.extensions["search"] = TantivyBackend(
            app.config["INDEX_DIR"], lock_timeout=app.config["INDEX_LOCK_TIMEOUT"],
            time_limit=app.config["SEARCH_TIME_LIMIT"], memory_mb=app.config["INDEX_MEMORY_MB"])
        return
    from .whoosh.backend import WhooshBackend

    app.extensions["search"] = WhooshBackend(app.config["INDEX_DIR"],
                                             lock_timeout=app.config["INDEX_LOCK_TIMEOUT"],
                                             time_limit=app.config["SEARCH_TIME_LIMIT"],
                                             memory_mb=app.config["INDEX_MEMORY_MB"])


def backend() -> SearchBackend:
    return current_app.extensions["search"]
