"""Inquiry Docs: evidence management for public inquiries.

`create_app()` builds the app in named steps; nothing runs at import time. The areas are
packages (evidence, extract, search, review, recommendations, access, operations, web, cli)
over a small base (config, db, models, queue); docs/architecture.md draws the map."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from flask import Flask

from . import config as settings

ROOT = settings.PROJECT_ROOT


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: settings, extensions, queue, search, pages, commands."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"))
    register_config(app, test_config)
    register_extensions(app)
    register_services(app)
    register_templates(app)
    register_blueprints(app)
    register_commands(app)
    app.extensions["create_app"] = create_app  # to build a sibling app (migrate-to)
    return app


def register_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_mapping(settings.load())
    if test_config:
        app.config.from_mapping(test_config)
    settings.finalise(app.config)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    # One file per request may be up to the limit; a little more covers the form fields.
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    for key in ("INSTANCE_DIR", "UPLOAD_DIR", "INDEX_DIR"):
        Path(app.config[key]).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        # Client address and scheme from the proxy, so throttling and Secure cookies work.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    from .access import vault
    from .access.signin import login_manager
    from .db import db, migrate
    from .web.security import init_security

    db.init_app(app)
    vault.init_app(app)  # two-factor secrets are sealed with SECRETS_KEY
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    init_security(app)


# The modules that declare job tasks (`@queue.task`): imported before the queue binds them.
TASK_MODULES = ("evidence.ingest", "evidence.indexing", "evidence.near_duplicates",
                "search.batch", "review.bundles", "review.productions", "operations.anchoring")


def register_services(app: Flask) -> None:
    from . import queue, search

    for name in TASK_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    search.init_app(app)
    queue.init_app(app)


def register_templates(app: Flask) -> None:
    from .web.templating import init_templates

    init_templates(app)


def register_blueprints(app: Flask) -> None:
    from .web import register

    register(app)


def register_commands(app: Flask) -> None:
    from .cli import register_cli

    register_cli(app)
