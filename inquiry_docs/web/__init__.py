"""The web pages and the JSON API: one blueprint per area, each a thin layer that checks
permission through `guard`, calls the domain packages and renders a template; plus the
error pages, security headers, templating and the servers (embedded and gunicorn)."""

from __future__ import annotations

from flask import Flask, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from ..db import MAX_INT

MESSAGES = {
    400: "The request could not be understood. Go back and try again.",
    403: "You do not have permission to do that.",
    404: "Page not found. If you typed the web address, check it is correct.",
    405: "That action is not available here.",
    413: None,  # filled from settings: the upload limit
    429: "Too many attempts. Wait a minute and try again.",
    500: "Sorry, there is a problem with the service. Try again later.",
}


class DatabaseInt(IntegerConverter):
    """`<int:...>` in a route: a number too big for the database's INTEGER columns is a 404,
    as any other id that does not exist (PostgreSQL would refuse to compare it)."""

    def __init__(self, url_map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_INT, signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits, min, max, signed)


def register(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseInt  # before any route is added
    from . import (
        about,
        account,
        admin,
        api,
        auth,
        documents,
        enrolment,
        health,
        inquiries,
        insight,
        language,
        lists,
        productions,
        recommendation_sets,
        recommendations,
        redactions,
        review,
        search,
        upload,
    )

    for module in (auth, enrolment, about, account, inquiries, documents, upload, search,
                   lists, review, redactions, productions, recommendations, recommendation_sets,
                   admin, api, health, insight, language):
        app.register_blueprint(module.bp)

    from ..search.contract import IndexDamaged, IndexOutdated

    @app.errorhandler(IndexDamaged)
    def _index_damaged(error: IndexDamaged):
        # Until `check --repair` (or `reindex`) has rebuilt it from the database.
        if request.path.startswith("/api/"):
            from .api import error_response

            return error_response(503, "The search index cannot be read; try again later.")
        return render_template("errors/error.html", code=503, title="Search is unavailable",
                               message="The search index cannot be read and must be rebuilt. "
                               "An administrator can run “inquiry-docs check --repair”; "
                               "documents stay safe meanwhile."), 503

    @app.errorhandler(IndexOutdated)
    def _index_outdated(error: IndexOutdated):
        # After an upgrade that changed the index's fields, until `reindex` has run.
        if request.path.startswith("/api/"):
            from .api import error_response

            return error_response(503, "The search index is being rebuilt; try again later.")
        return render_template("errors/error.html", code=503, title="Search is being rebuilt",
                               message="The search index was built by an older version and "
                               "must be rebuilt. An administrator can run "
                               "“inquiry-docs reindex”; documents stay safe meanwhile."), 503

    from ..access.vault import SecretsKeyError

    @app.errorhandler(SecretsKeyError)
    def _secrets_key(error: SecretsKeyError):
        # A wrong or missing SECRETS_KEY: a setup problem to explain, not a crash.
        from ..db import db

        db.session.rollback()
        app.logger.error("secrets key: %s", error)
        if request.path.startswith("/api/"):
            from .api import error_response

            return error_response(503, "The service cannot read its stored secrets.")
        return render_template("errors/error.html", code=503,
                               title="Two-factor sign-in is unavailable",
                               message="The service cannot read the stored two-factor "
                               "secrets with its secrets key, so security codes cannot be "
                               "checked. This is a setup problem: tell your administrator, "
                               "who can run “inquiry-docs secrets check”. Nothing has been "
                               "lost."), 503

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        code = error.code or 500
        if request.path.startswith("/api/"):
            from .api import error_response

            return error_response(code)
        message = MESSAGES.get(code) or error.description
        if code == 413:
            limit = app.config["MAX_UPLOAD_MB"]
            message = (f"The upload is larger than the {limit} MB limit. Upload fewer or "
                       "smaller files at a time; very large files can be ingested from the "
                       "command line.")
        if code == 400 and "CSRF" in (error.description or ""):
            message = "Your form expired. Go back, reload the page and try again."
        return render_template("errors/error.html", code=code, title=None,
                               message=message), code
