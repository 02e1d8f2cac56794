"""`inquiry-docs audit ...`: check the hash chain and export the trail to CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..access import audit as trail
from ..access import audit_query


@click.group()
def audit() -> None:
    """Check and export the audit trail."""


@audit.command()
@click.option("--head", "expected", metavar="ID:HASH",
              help="A head recorded earlier with `audit head`: also prove nothing after it "
                   "was cut off.")
@with_appcontext
def verify(expected: str | None) -> None:
    """Walk the hash chain; exit 1 at the first event that was changed or removed."""
    try:
        head = trail.parse_head(expected) if expected else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--head") from error
    verdict = trail.verify(head)
    if verdict.ok:
        click.echo(f"Audit trail intact: {verdict.checked} events checked.")
        return
    click.echo(f"Audit trail broken at event #{verdict.broken_at}: {verdict.problem}")
    sys.exit(1)


@audit.command()
@with_appcontext
def head() -> None:
    """Print the newest event as ID:HASH, to keep outside this system (for `verify --head`)."""
    verdict = trail.verify()
    if not verdict.ok:
        click.echo(f"Audit trail broken at event #{verdict.broken_at}: {verdict.problem}")
        sys.exit(1)
    if verdict.head is None:
        click.echo("The audit trail is empty.")
        sys.exit(1)
    click.echo(f"{verdict.head[0]}:{verdict.head[1]}")


@audit.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--since", help="Only events on or after this date (yyyy-mm-dd, UTC).")
@click.option("--action", help="Only events with this action, e.g. document_viewed.")
@with_appcontext
def export(file: Path, since: str | None, action: str | None) -> None:
    """Write events (newest first) to a CSV file; the export is itself audited."""
    try:
        since_date = audit_query.parse_date(since or "")
    except ValueError as error:
        raise click.BadParameter("use yyyy-mm-dd, like 2024-03-27", param_hint="--since") from error
    filters = audit_query.Filters(action=(action or "").strip(), date_from=since_date)
    up_to = audit_query.last_event_id()
    with open(file, "w", encoding="utf-8-sig", newline="") as fh:
        rows = audit_query.write_csv(fh, filters, up_to)
    audit_query.record_export(
        filters,
        by=None,
        actor="command line",
        rows=rows,
        up_to=up_to,
        channel="cli",
        file=str(file),
    )
    click.echo(f"Exported {rows} events to {file}.")
