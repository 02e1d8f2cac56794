"""`inquiry-docs audit ...`: check the hash chain, anchor it off the box, export it to CSV."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..access import anchors, audit_query
from ..access import audit as trail
from ..operations import anchoring


@click.group()
def audit() -> None:
    """Check and export the audit trail."""


@audit.command()
@click.option("--head", "expected", metavar="ID:HASH",
              help="A head recorded earlier with `audit head`: also prove nothing after it "
                   "was cut off.")
@click.option("--anchors", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="A folder of anchors (`audit anchor`): prove the trail against each one.")
@click.option("--public-key", "key_file", type=click.Path(dir_okay=False, exists=True,
                                                          path_type=Path),
              help="With --anchors: the public key the anchors must be signed with, kept "
                   "apart from this machine (default: this installation's own key).")
@with_appcontext
def verify(expected: str | None, folder: Path | None, key_file: Path | None) -> None:
    """Walk the hash chain; exit 1 at the first event that was changed or removed, or at
    the first anchor the trail contradicts."""
    try:
        head = trail.parse_head(expected) if expected else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--head") from error
    if key_file is not None and folder is None:
        raise click.UsageError("--public-key goes with --anchors DIR.")
    if folder is not None:
        if head is not None:
            raise click.UsageError("Give --head or --anchors, not both.")
        try:
            public = (anchors.load_public_key(key_file.read_text()) if key_file
                      else anchors.private_key().public_key())
        except (anchors.AnchorError, UnicodeDecodeError) as error:
            raise click.BadParameter(str(error), param_hint="--public-key") from error
        proof = anchors.verify_folder(folder, public)
        click.echo(proof.message)
        if not proof.ok:
            sys.exit(1)
        return
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
@click.option("--public-key", "show_key", is_flag=True,
              help="Print the public key that checks the anchors (PEM) and do nothing else.")
@with_appcontext
def anchor(show_key: bool) -> None:
    """Write the trail's signed head to every configured sink (ANCHOR_DIR, ANCHOR_EMAIL,
    ANCHOR_URL); exit 1 if any sink failed (the others are still written). Audited."""
    if show_key:
        try:
            click.echo(anchors.public_pem(), nl=False)
        except anchors.AnchorError as error:
            click.echo(str(error))
            sys.exit(1)
        return
    outcome = anchoring.anchor(trigger="cli", actor="command line")
    if outcome.head is not None:
        click.echo(f"Anchor of event #{outcome.head.event_id} ({outcome.head.count} events, "
                   f"hash {outcome.head.hash[:16]}...):")
    for sink, result in outcome.results.items():
        click.echo(f"  {sink}: {'written' if result == 'ok' else 'FAILED: ' + result}")
    if outcome.problem:
        click.echo(f"Not anchored: {outcome.problem}.")
    if not outcome.ok:
        sys.exit(1)


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
