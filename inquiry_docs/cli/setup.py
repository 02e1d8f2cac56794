"""`init`, `create-user` and `create-inquiry`: setting up an installation."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..access import signin
from ..access.inquiries import create_inquiry, validate
from ..db import db, upgrade_database
from ..models import ROLES, Inquiry, User
from ..recommendations import ensure_default_set
from ..search import backend


def inquiry_by_code(code: str) -> Inquiry:
    inquiry = db.session.execute(select(Inquiry).where(Inquiry.code == code.upper())).scalar()
    if inquiry is None:
        raise click.UsageError(f"No inquiry with code {code!r}. Create it with create-inquiry.")
    return inquiry


@click.command()
@click.option("--admin-email", default="admin@inquiry.local", show_default=True)
@with_appcontext
def init(admin_email: str) -> None:
    """Create or upgrade the database, load the IICSA recommendations, make the first admin."""
    upgrade_database()
    backend().prepare()
    ensure_default_set()
    if db.session.execute(select(User).where(User.is_admin)).first():
        click.echo("Database ready; an admin already exists.")
        return
    _, password = signin.create_user(admin_email, role="admin")
    click.echo("Database ready. First admin created:")
    click.echo(f"  email:    {admin_email}")
    click.echo(f"  password: {password}")
    click.echo("Keep this password safe; it is shown only once.")


@click.command("create-user")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", *ROLES]))
@click.option("--inquiry", "code", help="Inquiry code for a member role.")
@click.option("--clearance", default="OFFICIAL", type=click.Choice(["OFFICIAL",
                                                                    "OFFICIAL-SENSITIVE"]))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user(email: str, role: str, code: str | None, clearance: str,
                password_stdin: bool) -> None:
    """Add a user; prints a one-time password unless one is given on stdin."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    inquiry = inquiry_by_code(code) if code else None
    try:
        _, generated = signin.create_user(email, role=role, inquiry=inquiry, password=password,
                                        clearance=clearance)
    except (ValueError, signin.PasswordTooShort) as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"User {email} created with role {role}.")
    if generated:
        click.echo(f"One-time password: {generated}")


@click.command("create-inquiry")
@click.argument("code")
@click.argument("name")
@with_appcontext
def create_inquiry_cmd(code: str, name: str) -> None:
    """Add an inquiry with a 3-letter URN code."""
    code = code.strip().upper()
    errors = validate(code, name.strip())
    if errors:
        raise click.UsageError("; ".join(errors.values()))
    inquiry = create_inquiry(code, name.strip())
    click.echo(f"Inquiry {inquiry.code} ({inquiry.name}) created.")
