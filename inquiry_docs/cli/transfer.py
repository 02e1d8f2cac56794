"""`inquiry-docs migrate-to URL`: move an embedded installation into PostgreSQL (transfer.py)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..operations import transfer


@click.command("migrate-to")
@click.argument("url")
@click.option("--force", is_flag=True, help="Empty the target database if it holds data.")
@click.option("--index-dir", type=click.Path(file_okay=False),
              help="Index folder for the target (default: this installation's INDEX_DIR).")
@click.option("--search-backend", help="The target's SEARCH_BACKEND, when it differs.")
@click.option("--verify-only", is_flag=True,
              help="Copy nothing: compare this database with the target again.")
@with_appcontext
def migrate_to_cmd(url: str, force: bool, index_dir: str | None, search_backend: str | None,
                   verify_only: bool) -> None:
    """Copy this installation's database into an empty PostgreSQL database and verify it.

    Stop the server and workers first: what they write during the copy is not copied.
    """
    try:
        if verify_only:
            outcome = transfer.verify_only(url, progress=True)
        else:
            outcome = transfer.migrate_to(url, force=force, index_dir=index_dir,
                                          search_backend=search_backend, progress=True,
                                          echo=click.echo)
    except transfer.TransferError as error:
        raise click.ClickException(str(error)) from None
    _summary(outcome)
    if not outcome.ok:
        click.echo("The copy does NOT match:")
        for problem in outcome.problems():
            click.echo(f"  {problem}")
        sys.exit(1)
    click.echo(f"The copy matches: {len(outcome.tables)} tables, "
               f"{sum(t.target_rows for t in outcome.tables)} rows, audit trail intact "
               f"({outcome.audit.checked} events).")
    if not verify_only:
        target = transfer.describe(transfer.target_url(url))
        click.echo(f"Next: point INQUIRY_DOCS_DATABASE_URL at {target} on every machine "
                   "(see docs/deploy.md).")


def _summary(outcome: transfer.Outcome) -> None:
    width = max((len(t.table) for t in outcome.tables), default=5)
    click.echo(f"{'table':<{width}}  {'rows':>9}  sha256        result")
    for check in outcome.tables:
        result = "same" if check.ok else "DIFFERENT"
        click.echo(f"{check.table:<{width}}  {check.target_rows:>9}  "
                   f"{check.target_sha256[:12]}  {result}")
    if outcome.indexed is not None:
        click.echo(f"Search index rebuilt: {outcome.indexed} documents.")
