"""Dump and restore the database, and check a restored SQLite file before it replaces anything.

SQLite: the online backup API copies a consistent image while the site writes; on restore the
file is staged beside the site's database, must pass ``PRAGMA integrity_check`` and carry the
expected schema, and only then replaces the site's file with one atomic rename.
PostgreSQL: ``pg_dump --format=custom`` (one consistent snapshot); ``pg_restore`` checks the dump's
table of contents first and then restores in a single transaction, so a failure changes nothing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from .archive import BackupError, open_private

# Tables every site has; a database without them is not an ERP database.
CORE_TABLES = ("alembic_version", "core_user", "core_role", "core_setting")


def sqlite_path(url) -> Path:
    """The absolute path of a SQLite URL's database file."""
    return Path(url.database).resolve()


def libpq(url) -> tuple[list[str], dict]:
    """Connection arguments for pg_dump/pg_restore (the password goes in the environment)."""
    args = ["--host", url.host or "localhost", "--port", str(url.port or 5432), "--dbname", url.database]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def run_tool(command: list[str], env: dict) -> str:
    """Run a PostgreSQL client tool; its output, or :class:`BackupError` with its last error line."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed: install the PostgreSQL client tools "
                          f"(Debian: apt-get install postgresql-client)")
    result = subprocess.run(command, check=False, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise BackupError(f"{command[0]} failed: {lines[-1] if lines else result.returncode}")
    return result.stdout


def dump_sqlite(source: Path, dump: Path) -> None:
    """Copy a live SQLite database to ``dump`` (mode 0600) with SQLite's online backup API."""
    open_private(dump).close()
    src, copy = sqlite3.connect(str(source)), sqlite3.connect(str(dump))
    try:
        src.backup(copy, pages=256)
    finally:
        copy.close()
        src.close()


def dump_postgres(url, dump: Path) -> None:
    """Dump a PostgreSQL database with ``pg_dump --format=custom`` into ``dump`` (mode 0600)."""
    open_private(dump).close()
    args, env = libpq(url)
    run_tool(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(dump), *args], env)


def check_sqlite(path: Path, heads: set[str], known: set[str]) -> None:
    """Refuse a SQLite file that is damaged or lacks the schema the manifest promises."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            verdict = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = ({row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
                         if "alembic_version" in tables else set())
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the database in the backup is not a usable SQLite database ({exc})") from None
    if verdict != ["ok"]:
        raise BackupError(f"the database in the backup fails SQLite's integrity check ({verdict[0]})")
    missing = [t for t in CORE_TABLES if t not in tables]
    if missing:
        raise BackupError(f"the database in the backup is not an ERP database: table {missing[0]} is missing")
    check_revisions(revisions, known)
    if revisions != heads:
        raise BackupError("the database in the backup is not at the schema revisions its manifest names")


def check_revisions(revisions: set[str], known: set[str]) -> None:
    """Refuse schema revisions this code does not know (a newer version, or a plugin not installed)."""
    if not revisions:
        raise BackupError("the backup carries no schema revision; it was not made from a site set up by `erp init`")
    unknown = sorted(revisions - known)
    if unknown:
        raise BackupError(f"the backup is at schema revision {unknown[0]}, which this installation does not know: "
                          f"install the same (or a newer) version and the same plugins, then restore again")


def stage_sqlite(dump: Path, target: Path) -> Path:
    """Copy the extracted database to a private temporary file beside ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out, open(dump, "rb") as src:
        shutil.copyfileobj(src, out, 1 << 20)
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


def replace_sqlite(staged: Path, target: Path) -> None:
    """Put the checked file in place of the site's database with one atomic rename."""
    if target.exists():
        # Fold the write-ahead log into the old file first, so no stale log can be replayed
        # onto the new one, and the old file stays whole if anything stops here.
        conn = sqlite3.connect(str(target))
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
    os.replace(staged, target)
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)


def check_pgdump(dump: Path, env_url) -> None:
    """Refuse a dump that ``pg_restore`` cannot read or that lacks the core tables."""
    _, env = libpq(env_url)
    try:
        listing = run_tool(["pg_restore", "--list", str(dump)], env)
    except BackupError as exc:
        raise BackupError(f"the database dump in the backup is not usable ({exc})") from None
    names = set()
    for line in listing.splitlines():
        parts = line.split()
        if "TABLE" in parts and not line.startswith(";"):
            at = parts.index("TABLE")
            if len(parts) > at + 2 and parts[at + 1] != "DATA":
                names.add(parts[at + 2])
    missing = [t for t in CORE_TABLES if t not in names]
    if missing:
        raise BackupError(f"the database in the backup is not an ERP database: table {missing[0]} is missing")


def restore_postgres(url, dump: Path) -> None:
    """Restore a dump in one transaction: on any error nothing of it is applied."""
    args, env = libpq(url)
    run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
              "--exit-on-error", *args, str(dump)], env)
