"""Verified backups of a live site, and restores that change nothing unless everything checks out.

A backup is one ``.tar.gz`` (mode 0600) holding ``manifest.json`` and its SHA-256, the database
(SQLite: a copy made with the online backup API; PostgreSQL: ``pg_dump --format=custom``), the
instance configuration with the secret key, and the uploaded files. The manifest names the format,
time, version, schema revisions and the size and SHA-256 of every member.

Modules: :mod:`.archive` (format, verification), :mod:`.database` (dump, checks, replace),
:mod:`.instance` (configuration, secret key), :mod:`.lock` (restore refuses while served),
:mod:`.service` (the steps in order), :mod:`.bootstrap` (restore into an empty instance folder).
"""

from .archive import FORMAT, BackupError, extract_verified
from .bootstrap import prepare_instance
from .lock import hold_serving_lock, site_stopped
from .service import create_backup, read_manifest, restore_backup

__all__ = ["FORMAT", "BackupError", "create_backup", "extract_verified", "hold_serving_lock", "prepare_instance",
           "read_manifest", "restore_backup", "site_stopped"]
