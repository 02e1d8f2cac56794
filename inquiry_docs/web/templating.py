"""Jinja set-up: our templates first, then the GOV.UK Frontend macro packages."""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from ..access import permissions
from ..models import DOC_TYPES, STATUS_LABELS, Status


def init_templates(app: Flask) -> None:
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


def _date(value: datetime | None) -> str:
    return value.strftime("%-d %B %Y") if value else ""


def _datetime(value: datetime | None) -> str:
    return value.strftime("%-d %B %Y %H:%M") if value else ""


def _filesize(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)
