"""`inquiry-docs backup DEST`, `restore SRC` and `verify SRC` (see backup.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..operations import backup as backups


def _print(report: backups.Report) -> None:
    for line in report.notes:
        click.echo(line)
    for line in report.problems:
        click.echo(line)


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--with-index", is_flag=True,
              help="Also copy the search index (otherwise it is rebuilt on restore).")
@with_appcontext
def backup_cmd(dest: Path, with_index: bool) -> None:
    """Copy the database, originals and keys into DEST, with a SHA-256 manifest.

    Safe while the server runs. DEST holds the audit key: keep it as safe as the evidence.
    """
    try:
        report = backups.create_backup(dest, with_index=with_index)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    _print(report)
    click.echo(f"Backup written to {dest}: {report.files} files, "
               f"{report.bytes / 1024 / 1024:.1f} MB.")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the data this installation holds.")
@with_appcontext
def restore_cmd(src: Path, force: bool) -> None:
    """Verify a backup, then bring it back into this installation's folders."""
    try:
        report = backups.restore_backup(src, force=force)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    _print(report)
    click.echo(f"Restored {report.files} files from {src}.")


@click.command("verify")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def verify_cmd(src: Path) -> None:
    """Check every file of a backup against its manifest, without restoring it."""
    report = backups.verify_backup(src)
    _print(report)
    if not report.ok:
        click.echo(f"Backup {src} is NOT intact: {len(report.problems)} problem(s).")
        sys.exit(1)
    click.echo(f"Backup {src} is intact: {report.files} files checked "
               f"(made {report.manifest.get('created_at', '?')}).")
