"""`citations`: find every citation again in the stored text (page text, notes, links,
trail, recommendation notes, coding comments), e.g. once after upgrading."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..evidence.citations import rebuild


@click.command("citations")
@with_appcontext
def citations_cmd() -> None:
    """Rebuild the table of citations between documents from all stored text."""
    found = rebuild()
    click.echo(f"{found} citation{'s' if found != 1 else ''} found.")
