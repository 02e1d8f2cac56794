"""The `inquiry-docs` command line (also `flask --app inquiry_docs ...`): one module per
group of commands; `register_cli` adds them all to an app. The console script is
`cli.main:main` (`python -m inquiry_docs.cli` runs it too)."""

from __future__ import annotations

from flask import Flask

from . import (
    audit,
    backup,
    check,
    citations,
    ingest,
    keys,
    ocr,
    search,
    serve,
    setup,
    tokens,
    transfer,
    versions,
)

COMMANDS = (
    setup.init, setup.create_user, setup.create_inquiry_cmd,
    serve.serve, serve.worker,
    ingest.ingest_cmd, ocr.ocr_cmd, search.search_cmd,
    check.reindex, check.check, citations.citations_cmd,
    backup.backup_cmd, backup.restore_cmd, backup.verify_cmd, transfer.migrate_to_cmd,
    audit.audit, tokens.create_token, keys.secrets_group, versions.near_duplicates_cmd,
)


def register_cli(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
