"""``create_backup`` and ``restore_backup``: the steps, in the order that keeps a site whole.

A restore first verifies the whole archive (:mod:`.archive`), then the database it carries
(:mod:`.database`), and holds the site's lock (:mod:`.lock`) throughout; only then does it
replace the database, the uploads and the secret key.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from flask import current_app
from sqlalchemy.engine import make_url

from .. import __version__
from ..extensions import db
from ..timeutil import utcnow
from . import database, instance
from .archive import FORMAT, BackupError, extract_verified, write_archive
from .lock import site_stopped

Progress = Callable[[int], None]


def _upload_members(folder: Path, progress: Progress) -> list[tuple[str, Path]]:
    found = []
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                found.append((f"uploads/{path.relative_to(folder).as_posix()}", path))
                progress(1)
    return found


def create_backup(target: Path, progress: Progress = lambda n: None) -> dict:
    """Write a backup of the site (database, uploads, configuration, secret key) to ``target``.

    The archive is created with mode 0600: it holds the secret key. Returns the manifest.
    """
    from ..migrate import current_heads

    url = make_url(current_app.config["DATABASE_URL"])
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    manifest = {"format": FORMAT, "backend": url.get_backend_name(), "created_at": utcnow().isoformat(),
                "app_version": __version__, "heads": sorted(current_heads()),
                "plugins": current_app.extensions["erp_plugins"].loaded_names}
    with tempfile.TemporaryDirectory(prefix=".erp-backup-", dir=target.parent) as scratch:
        scratch = Path(scratch)
        if url.get_backend_name() == "sqlite":
            dump = scratch / "database.sqlite"
            database.dump_sqlite(database.sqlite_path(url), dump)
        else:
            dump = scratch / "database.pgdump"
            database.dump_postgres(url, dump)
        progress(1)
        uploads = _upload_members(Path(current_app.config["UPLOAD_FOLDER"]), progress)
        manifest["uploads"] = len(uploads)
        members = [(dump.name, dump), *instance.members(Path(current_app.instance_path),
                                                        current_app.config["SECRET_KEY"], scratch), *uploads]
        write_archive(target, manifest, members)
    return manifest


def read_manifest(archive: Path) -> dict:
    """The manifest of a backup, after checking every member of it (raises BackupError)."""
    with tempfile.TemporaryDirectory() as scratch:
        return extract_verified(Path(archive), Path(scratch))


def known_revisions() -> set[str]:
    """Every schema revision of the core and the loaded plugins."""
    from alembic.script import ScriptDirectory

    from ..migrate import alembic_config

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def restore_backup(archive: Path, force: bool = False, progress: Progress = lambda n: None) -> dict:
    """Put a backup back into this site; refuses, changing nothing, when anything is wrong.

    Refuses while the site is served, when the archive or its database fail their checks, and
    (unless ``force``) when the site already holds data. Returns the manifest, with ``notes``.
    """
    archive = Path(archive)
    url = make_url(current_app.config["DATABASE_URL"])
    folder = Path(current_app.instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    with site_stopped(folder), tempfile.TemporaryDirectory(prefix=".restore-", dir=folder) as scratch:
        scratch = Path(scratch)
        manifest = extract_verified(archive, scratch)
        progress(1)
        _check_fits(manifest, url, force)
        if url.get_backend_name() == "sqlite":
            _restore_sqlite(manifest, scratch / "database.sqlite", database.sqlite_path(url))
        else:
            database.check_pgdump(scratch / "database.pgdump", url)
            _release_connections()
            database.restore_postgres(url, scratch / "database.pgdump")
        progress(1)
        _replace_uploads(scratch / "uploads", Path(current_app.config["UPLOAD_FOLDER"]))
        instance.install(folder, scratch)
        manifest["notes"] = _secret_notes(instance.restored_secret(scratch))
        progress(1)
    return manifest


def _check_fits(manifest: dict, url, force: bool) -> None:
    if manifest.get("backend") != url.get_backend_name():
        raise BackupError(f"the backup is of a {manifest.get('backend')} site but this site uses "
                          f"{url.get_backend_name()}; restore it into a {manifest.get('backend')} database")
    database.check_revisions(set(manifest.get("heads") or ()), known_revisions())
    if not force and _has_data():
        raise BackupError("this site's database already holds data; restore into an empty site, "
                          "or pass --force to replace everything")


def _release_connections() -> None:
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()


def _restore_sqlite(manifest: dict, dump: Path, target: Path) -> None:
    staged = database.stage_sqlite(dump, target)
    try:
        database.check_sqlite(staged, set(manifest["heads"]), known_revisions())
        _release_connections()
        database.replace_sqlite(staged, target)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(staged) + suffix).unlink(missing_ok=True)


def _replace_uploads(restored: Path, uploads: Path) -> None:
    """Swap the upload folder for the restored one (renamed into place when on one disk)."""
    uploads.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".{uploads.name}.restore-", dir=uploads.parent))
    try:
        if restored.is_dir():
            shutil.copytree(restored, incoming, dirs_exist_ok=True)
        old = uploads.with_name(f".{uploads.name}.old-{os.getpid()}")
        if uploads.exists():
            uploads.rename(old)
        incoming.rename(uploads)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def _secret_notes(secret: str) -> list[str]:
    env = os.environ.get("ERP_SECRET_KEY")
    if env and env != secret:
        return [("ERP_SECRET_KEY is set in the environment and differs from the restored secret key: links and "
                 "signatures made by the backed-up site open only once it is unset or set to the restored key "
                 "(now in the instance configuration).")]
    return []


def _has_data() -> bool:
    from sqlalchemy import func, inspect, select

    from ..auth.models import User

    if "core_user" not in inspect(db.engine).get_table_names():
        return False
    return bool(db.session.scalar(select(func.count()).select_from(User)))
