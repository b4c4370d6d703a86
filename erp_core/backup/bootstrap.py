"""Restore onto a fresh machine: an instance folder without configuration gets the archive's.

The app cannot start without a secret key, so before ``erp restore`` builds it, the verified
archive's configuration file (with its secret key) is written into an unconfigured instance
folder. The caller removes that file again when the restore is then refused.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import instance
from .archive import extract_verified
from .lock import site_stopped


def prepare_instance(archive: Path, folder: Path) -> Path | None:
    """Configure an empty instance ``folder`` from ``archive``; the file written, or None.

    Nothing is written when the folder already has a configuration file or the secret key
    comes from ``ERP_SECRET_KEY``. Raises BackupError when the archive fails verification.
    """
    if instance.config_file(folder) is not None or os.environ.get("ERP_SECRET_KEY"):
        return None
    with site_stopped(folder), tempfile.TemporaryDirectory() as scratch:
        extract_verified(Path(archive), Path(scratch))
        return instance.install(folder, Path(scratch))
