"""`inquiry-docs create-token EMAIL`: a personal API token, printed once."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..access import tokens


@click.command("create-token")
@click.argument("email")
@click.option(
    "--name",
    default="Command line",
    show_default=True,
    help="What the token is for, shown on the person's tokens page.",
)
@with_appcontext
def create_token(email: str, name: str) -> None:
    """Make a personal API token for a user; the token is shown only once."""
    user = tokens.find_user(email)
    if user is None:
        raise click.UsageError(f"No user with email {email!r}.")
    try:
        _, secret = tokens.create(user, name, channel="cli")
    except tokens.TokenError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"API token for {user.email} ({tokens.clean_name(name)}):")
    click.echo(f"  {secret}")
    click.echo("Keep it safe; it is shown only once. Revoke it from the API tokens page.")
