"""``erp backup`` and ``erp restore`` (registered on the ``erp`` group by :mod:`erp_core.cli`)."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli import fail, with_app
from ..config import instance_path


def _upload_count(app) -> int:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return sum(1 for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


@click.command()
@click.argument("target", required=False, type=click.Path(dir_okay=False))
@with_app
def backup(target):
    """Write a verified backup of the live site (database, uploads, secret key) to TARGET.tar.gz."""
    from flask import current_app

    from ..timeutil import utcnow
    from . import BackupError, create_backup

    app = current_app._get_current_object()
    if not target:
        target = Path(app.instance_path) / "backups" / f"erp-{utcnow():%Y%m%d-%H%M%S}.tar.gz"
    with click.progressbar(length=_upload_count(app) + 1, label="Backing up") as bar:
        try:
            manifest = create_backup(Path(target), progress=bar.update)
        except (BackupError, OSError) as exc:  # a full disk or a folder of another user: one line too
            fail(str(exc))
    click.echo(f"Backup written to {target} ({manifest['backend']}, {manifest['uploads']} uploaded files); "
               f"it holds the secret key: keep it private.")


@click.command()
@click.argument("archive", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace a site that already holds data.")
def restore(archive, force):
    """Restore a backup made by `erp backup` (refused while the site runs; stop it first)."""
    from . import BackupError, prepare_instance

    try:
        written = prepare_instance(Path(archive), instance_path())
    except (BackupError, OSError) as exc:
        fail(str(exc))
    try:
        _restore_in_app(archive, force)
    except SystemExit as exc:
        if exc.code and written:
            written.unlink(missing_ok=True)
        raise


@with_app
def _restore_in_app(archive, force):
    from . import BackupError, restore_backup

    with click.progressbar(length=3, label="Restoring") as bar:
        try:
            manifest = restore_backup(Path(archive), force=force, progress=bar.update)
        except (BackupError, OSError) as exc:  # a full disk or a folder of another user: one line too
            fail(str(exc))
    for note in manifest["notes"]:
        click.secho(note, fg="yellow", err=True)
    click.echo(f"Restored the backup of {manifest['created_at']}. Run `erp db upgrade` if this version is newer.")
