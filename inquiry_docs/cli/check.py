"""`reindex` and `check`: rebuild the index, reconcile originals, database and index."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..operations.check import rebuild_index, run_check


@click.command()
@with_appcontext
def reindex() -> None:
    """Rebuild the search index from the database, a batch at a time."""
    count = rebuild_index(progress=True)
    click.echo(f"Reindexed {count} documents.")


@click.command()
@click.option("--repair", is_flag=True, help="Index what is missing and drop orphans.")
@with_appcontext
def check(repair: bool) -> None:
    """Re-hash originals and compare database and index; non-zero exit while wrong."""
    problems = run_check(repair=repair, echo=click.echo)
    if problems:
        click.echo(f"{problems} problem(s) remain.")
        sys.exit(1)
    click.echo("All originals, database rows and index entries agree.")
