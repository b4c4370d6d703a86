"""Consistent backups of a live site, and restore.

A backup is one ``.tar.gz`` holding ``manifest.json`` (format, backend, schema revisions, time),
the database (SQLite: a copy made with SQLite's online backup API while the site runs;
PostgreSQL: ``pg_dump --format=custom``, which reads one consistent snapshot) and the uploaded
files. ``restore`` puts a backup back into the configured database and upload folder.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Callable

from flask import current_app
from sqlalchemy.engine import make_url

from .extensions import db
from .timeutil import utcnow

FORMAT = 1


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


def _sqlite_path(url) -> Path:
    return Path(url.database).resolve()


def _libpq(url) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump/pg_restore (the password goes in the environment)."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432), "--dbname", url.database]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _run(command: list[str], env: dict) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client tools "
                          f"(Debian: apt-get install postgresql-client)")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip().splitlines()[-1] if result.stderr else result.returncode}")


def _add_folder(tar: tarfile.TarFile, folder: Path, arcname: str, progress: Callable[[int], None]) -> int:
    count = 0
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=f"{arcname}/{path.relative_to(folder).as_posix()}")
                count += 1
                progress(1)
    return count


def create_backup(target: Path, progress: Callable[[int], None] = lambda n: None) -> dict:
    """Write a backup of the site's database and uploads to ``target``; returns the manifest."""
    from .migrate import current_heads

    url = make_url(current_app.config["DATABASE_URL"])
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    manifest = {"format": FORMAT, "backend": url.get_backend_name(), "created_at": utcnow().isoformat(),
                "heads": sorted(current_heads()), "plugins": current_app.extensions["erp_plugins"].loaded_names}
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        if url.get_backend_name() == "sqlite":
            dump = scratch / "database.sqlite"
            source = sqlite3.connect(str(_sqlite_path(url)))
            copy = sqlite3.connect(str(dump))
            try:
                # The online backup API copies a consistent image while the site keeps writing.
                source.backup(copy, pages=256, progress=lambda status, remaining, total: progress(0))
            finally:
                copy.close()
                source.close()
        else:
            dump = scratch / "database.pgdump"
            args, env = _libpq(url)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump), *args], env)
        progress(1)
        partial = target.with_suffix(target.suffix + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
            manifest["files"] = _add_folder(tar, uploads, "uploads", progress)
        partial.replace(target)
    return manifest


def read_manifest(archive: Path) -> dict:
    """The manifest of a backup file (raises BackupError when it is not one of ours)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, json.JSONDecodeError):
        raise BackupError(f"{archive} is not a backup made by `erp backup`") from None
    if not manifest or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has an unknown backup format")
    return manifest


def restore_backup(archive: Path, force: bool = False, progress: Callable[[int], None] = lambda n: None) -> dict:
    """Put a backup back. Refuses to overwrite a site holding data unless ``force``."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    manifest = read_manifest(archive)
    url = make_url(current_app.config["DATABASE_URL"])
    if manifest["backend"] != url.get_backend_name():
        raise BackupError(f"the backup is of a {manifest['backend']} site but this site uses "
                          f"{url.get_backend_name()}; restore it into a {manifest['backend']} database")
    if not force and _has_data():
        raise BackupError("this site's database already holds data; restore into an empty site, "
                          "or pass --force to replace everything")
    uploads = Path(current_app.config["UPLOAD_FOLDER"])
    db.session.remove()
    for engine in db.engines.values():
        engine.dispose()
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(archive, "r:gz") as tar:
        scratch = Path(scratch)
        tar.extractall(scratch, filter="data")
        progress(1)
        if url.get_backend_name() == "sqlite":
            target = _sqlite_path(url)
            target.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(str(target) + suffix).unlink(missing_ok=True)
            shutil.copyfile(scratch / "database.sqlite", str(target) + ".restoring")
            os.replace(str(target) + ".restoring", target)
        else:
            args, env = _libpq(url)
            _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
                  *args, str(scratch / "database.pgdump")], env)
        progress(1)
        restored_uploads = scratch / "uploads"
        if restored_uploads.is_dir():
            if uploads.exists():
                shutil.rmtree(uploads)
            shutil.copytree(restored_uploads, uploads)
        else:
            uploads.mkdir(parents=True, exist_ok=True)
        progress(1)
    return manifest


def _has_data() -> bool:
    from sqlalchemy import func, inspect, select

    from .auth.models import User

    if "core_user" not in inspect(db.engine).get_table_names():
        return False
    return bool(db.session.scalar(select(func.count()).select_from(User)))
