"""PostgreSQL's side of backups: pg_dump of one snapshot, pg_restore in one transaction.

The client tools (pg_dump, pg_restore, psql) are found on PATH; they come with the
PostgreSQL client package (Debian: postgresql-client). The password, if the database URL
has one, reaches them through PGPASSWORD, never on a command line others can list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from ..db import db
from ..models import AuditEvent, Document

# Drops every table of the schema (their indexes, sequences and triggers go with them), so
# tables a newer version added do not survive the restore of an older backup.
DROP_TABLES = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' LOOP
        EXECUTE 'DROP TABLE IF EXISTS public.' || name || ' CASCADE';
    END LOOP;
END $$;
"""


class ToolMissing(Exception):
    """A PostgreSQL client program is not installed."""


def tool(name: str) -> str:
    """pg_dump or pg_restore: from PATH, else Debian's versioned folders (newest first),
    which the server package does not put on PATH."""
    path = shutil.which(name)
    if path is not None:
        return path
    versions = sorted((p for p in Path("/usr/lib/postgresql").glob(f"*/bin/{name}")
                       if p.parent.parent.name.isdigit()),
                      key=lambda p: int(p.parent.parent.name))
    if versions:
        return str(versions[-1])
    raise ToolMissing(f"This installation uses PostgreSQL and {name} is not installed: "
                      "install the PostgreSQL client tools (Debian: postgresql-client) and "
                      "try again.")


def connection(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password, and an environment carrying it."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(
        hide_password=False)
    return dsn, env


def dump(url: str, target: Path) -> list[Any] | None:
    """pg_dump the database into `target`; returns the newest audit event in the dump.

    The head is read in the very snapshot pg_dump copies (an exported snapshot held open
    by a REPEATABLE READ transaction), so a restore can prove nothing was cut off.
    """
    dsn, env = connection(url)
    with db.engine.connect() as con:
        con = con.execution_options(isolation_level="REPEATABLE READ")
        with con.begin():
            snapshot = con.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            head = con.execute(select(AuditEvent.id, AuditEvent.hash)
                               .order_by(AuditEvent.id.desc()).limit(1)).first()
            subprocess.run([tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                            f"--snapshot={snapshot}", f"--file={target}", dsn],
                           check=True, capture_output=True, env=env)
    return list(head) if head else None


def check_dump(path: Path) -> str | None:
    """None when pg_restore can read the dump's table of contents, else why not.

    Raises ToolMissing without pg_restore.
    """
    listing = subprocess.run([tool("pg_restore"), "--list", str(path)],
                             capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        return f"database dump unreadable: {listing.stderr.strip()[:300]}"
    return None


def holds_data() -> bool:
    """Whether the database already has documents or audit events a restore would replace."""
    for model in (Document, AuditEvent):
        try:
            if db.session.execute(select(func.count()).select_from(model)).scalar_one():
                return True
        except ProgrammingError:  # no such table yet: an empty, unmigrated database
            db.session.rollback()
    return False


def restore(url: str, path: Path) -> None:
    """Replace the database's tables with the dump's, all or nothing (one transaction)."""
    dsn, env = connection(url)
    sql = subprocess.run([tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                          "--no-privileges", "--file=-", str(path)],
                         check=True, capture_output=True, env=env).stdout
    subprocess.run([tool("psql"), "--no-psqlrc", "--quiet", "--single-transaction",
                    "--set=ON_ERROR_STOP=1", "--command", DROP_TABLES, "--file=-",
                    "--dbname", dsn],
                   input=sql, check=True, capture_output=True, env=env)
