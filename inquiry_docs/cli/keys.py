"""`inquiry-docs secrets ...`: check, rotate and make the key that seals two-factor secrets."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from ..access import vault


@click.group("secrets")
def secrets_group() -> None:
    """The key that encrypts two-factor secrets in the database (SECRETS_KEY)."""


@secrets_group.command("check")
@with_appcontext
def check() -> None:
    """Count the stored secrets the key opens; exit 1 if any is unreadable or plaintext."""
    try:
        found = vault.census()
    except vault.SecretsKeyError as error:
        click.echo(str(error))
        sys.exit(1)
    click.echo(f"{found.sealed} two-factor secret(s) encrypted and readable with key "
               f"{vault.fingerprint(vault.key_list(vault.sealer().key_text())[0])}.")
    if found.plaintext:
        click.echo(f"{found.plaintext} stored unencrypted: run `inquiry-docs secrets rotate`.")
    if found.unreadable:
        click.echo(f"{found.unreadable} cannot be decrypted with this key. " + vault.WRONG_KEY)
    if found.plaintext or found.unreadable:
        sys.exit(1)


@secrets_group.command("rotate")
@with_appcontext
def rotate() -> None:
    """Re-encrypt every two-factor secret under a new key (audited).

    With the key in the instance folder, a new key is made and the old one kept until every
    row is re-encrypted. With INQUIRY_DOCS_SECRETS_KEY=NEW,OLD, rows move to NEW.
    """
    try:
        done = vault.rotate()
    except vault.SecretsKeyError as error:
        click.echo(f"Nothing rotated: {error}")
        sys.exit(1)
    except OSError as error:  # the key file's folder is read-only, say
        click.echo(f"The key file could not be written ({error}). Every key in it still "
                   "opens every secret; fix the folder and run `secrets rotate` again.")
        sys.exit(1)
    click.echo(f"{done.rows} two-factor secret(s) re-encrypted under key {done.new_fingerprint}.")
    if done.wrote_file is not None:
        click.echo(f"The new key is in {done.wrote_file}; the old one is gone. Back it up "
                   "now, apart from the database (`inquiry-docs backup` copies it too).")
    else:
        click.echo("Now set INQUIRY_DOCS_SECRETS_KEY to the new key alone and restart.")


@secrets_group.command("new-key")
def new_key() -> None:
    """Print a new random key (64 hex characters), for INQUIRY_DOCS_SECRETS_KEY."""
    click.echo(vault.new_key())
