"""Helpers of the backup tests: a site at known schema revisions, snapshots, archive surgery."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from sqlalchemy import inspect, text

from erp_core.backup.archive import (
    MANIFEST,
    MANIFEST_SUM,
    extract_verified,
    write_archive,
)
from erp_core.extensions import db


def stamp(app) -> None:
    """Record the code's schema heads in alembic_version, as `erp init` leaves a real site."""
    from alembic.script import ScriptDirectory

    from erp_core.migrate import alembic_config

    with app.app_context():
        heads = ScriptDirectory.from_config(alembic_config()).get_heads()
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version "
                              "(version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
            conn.execute(text("DELETE FROM alembic_version"))
            for head in heads:
                conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:h)"), {"h": head})


def snapshot(app) -> dict:
    """Every row of every table, for comparison."""
    with app.app_context():
        tables = sorted(inspect(db.engine).get_table_names())
        with db.engine.connect() as conn:
            return {t: sorted(map(repr, conn.execute(text(f'SELECT * FROM "{t}"')).all())) for t in tables}


def read_members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive, "r:gz") as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]


def write_members(target: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        for info, data in members:
            info = tarfile.TarInfo(info.name) if info.size != len(data) else info
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def flipped(data: bytes, at: int | None = None) -> bytes:
    """``data`` with one byte changed (in the middle unless ``at``)."""
    at = len(data) // 2 if at is None else at
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


def resealed(archive: Path, target: Path, work: Path, change) -> Path:
    """A copy of ``archive`` whose extracted files ``change(folder, manifest)`` altered, with a
    manifest that matches again: checksums cannot catch it; the later checks must."""
    folder = work / "resealed"
    manifest = extract_verified(archive, folder)
    change(folder, manifest)
    files = manifest.pop("files")
    members = [(name, folder / name) for name in files if (folder / name).exists()]
    write_archive(target, manifest, members)
    return target


__all__ = ["MANIFEST", "MANIFEST_SUM", "flipped", "read_members", "resealed", "snapshot", "stamp", "write_members"]
