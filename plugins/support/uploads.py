"""Attachments and photos: checked by content (not by the name or the browser's word), limited in
size, stored under ``UPLOAD_FOLDER/support/`` with a random name, and deleted again when the
transaction that stored them rolls back."""

from __future__ import annotations

import logging
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db

log = logging.getLogger(__name__)

MAX_FILES = 5
_WRITTEN = "support_written_files"

# content type -> the signatures its first bytes may start with
_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


@dataclass
class Upload:
    """A checked file, ready to store."""

    filename: str
    content_type: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


def max_bytes() -> int:
    try:
        megabytes = int(settings.get("support.attachment_max_mb", 5) or 5)
    except (TypeError, ValueError):
        megabytes = 5
    return max(1, megabytes) * 1024 * 1024


def sniff(data: bytes, filename: str) -> str | None:
    """The content type of ``data`` judged by its bytes, or None when it is not accepted."""
    for content_type, signatures in _SIGNATURES.items():
        if any(data.startswith(sig) for sig in signatures):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if filename.lower().endswith(".txt") and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return "text/plain"
    return None


def clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/")))
    name = re.sub(r"[\x00-\x1f\x7f\"<>:|?*/]", "_", name).strip(" .")
    return name[:150] or "file"


def check_files(storages, field: str = "attachments") -> list[Upload]:
    """Read and check uploaded files (werkzeug FileStorage objects); skip empty inputs.

    Raises DomainError naming ``field`` when a file is too big, of a refused type or too many.
    """
    uploads = []
    limit = max_bytes()
    for storage in storages or []:
        if storage is None or not getattr(storage, "filename", ""):
            continue
        data = storage.read(limit + 1)
        filename = clean_filename(storage.filename)
        if not data:
            raise DomainError(_("%(name)s is empty.", name=filename), field=field)
        if len(data) > limit:
            raise DomainError(_("%(name)s is larger than %(n)d MB.", name=filename, n=limit // (1024 * 1024)),
                              field=field)
        content_type = sniff(data, filename)
        if content_type is None:
            raise DomainError(_("%(name)s: only JPEG, PNG, GIF or WebP pictures, PDF and .txt files are accepted.",
                                name=filename), field=field)
        uploads.append(Upload(filename, content_type, data))
    if len(uploads) > MAX_FILES:
        raise DomainError(_("Attach at most %(n)d files.", n=MAX_FILES), field=field)
    return uploads


def folder() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "support"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(upload: Upload) -> str:
    """Write the file under a random name; it is removed if the transaction rolls back."""
    stored_name = secrets.token_hex(20)
    path = folder() / stored_name
    with open(path, "xb") as fh:
        fh.write(upload.data)
    db.session().info.setdefault(_WRITTEN, []).append(str(path))
    return stored_name


def path_of(stored_name: str) -> Path | None:
    if not re.fullmatch(r"[0-9a-f]{40}", stored_name or ""):
        return None
    return folder() / stored_name


@event.listens_for(Session, "after_commit")
def _forget_written(session):
    session.info.pop(_WRITTEN, None)


@event.listens_for(Session, "after_rollback")
def _remove_written(session):
    for path in session.info.pop(_WRITTEN, None) or []:
        try:
            os.remove(path)
        except OSError:  # pragma: no cover - already gone
            log.warning("could not remove %s after a rollback", path)
