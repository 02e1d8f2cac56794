"""Jinja set-up: our templates first, then the GOV.UK Frontend macro packages."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from ..access import permissions
from ..models import DOC_TYPES, STATUS_LABELS, Status


def init_templates(app: Flask) -> None:
    from . import language

    language.init_app(app)  # before the filters: Babel adds the i18n extension
    app.jinja_env.newstyle_gettext = True  # _("%(n)s pages", n=3), escaped like any output
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(app.template_folder),
        PrefixLoader({
            "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
            "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
        }),
    ])
    app.jinja_env.filters["date"] = _date
    app.jinja_env.filters["datetime"] = _datetime
    app.jinja_env.filters["filesize"] = _filesize
    app.jinja_env.filters["number"] = _number
    from .citations import cite

    app.jinja_env.filters["cite"] = cite
    app.jinja_env.globals["DOC_TYPES"] = DOC_TYPES
    app.jinja_env.globals["STATUS_LABELS"] = STATUS_LABELS
    app.jinja_env.globals["Status"] = Status

    @app.context_processor
    def _helpers() -> dict:
        def can(action: str, inquiry_id: int | None = None) -> bool:
            user = current_user.user if current_user.is_authenticated else None
            return permissions.can(user, action, inquiry_id)

        def visible(document) -> bool:
            user = current_user.user if current_user.is_authenticated else None
            return document is not None and permissions.can_see(user, document)

        return {"can": can, "visible": visible}


# Stored times are UTC without a zone; shown as stored (rebase=False), in the page's language.
def _date(value: datetime | None) -> str:
    return format_datetime(value, "d MMMM y", rebase=False) if value else ""


def _datetime(value: datetime | None) -> str:
    return format_datetime(value, "d MMMM y HH:mm", rebase=False) if value else ""


def _number(value: int | float | None) -> str:
    """12,345 with the page language's separators."""
    return format_decimal(value) if value is not None else ""


def _filesize(size: int) -> str:
    if size < 1024:
        return _("%(size)s bytes", size=format_decimal(size))
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{format_decimal(round(size, 1), '#,##0.0')} {unit}"
