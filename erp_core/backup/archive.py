"""The archive file: a ``.tar.gz`` whose first members are ``manifest.json`` and its SHA-256.

The manifest names every other member with its size and SHA-256. :func:`extract_verified`
reads the archive once, front to back, and refuses it (:class:`BackupError`, one line) on the
first thing that does not match: a flipped byte, a truncated file, a missing, extra or unsafe
member, or an archive without a manifest. Nothing outside its scratch folder is written.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import zlib
from pathlib import Path, PurePosixPath

FORMAT = 2
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
_CHUNK = 1 << 20
_MANIFEST_MAX = 64 << 20  # a manifest names every upload: allow many


class BackupError(Exception):
    """A backup or restore cannot be done; the message says why and what to do."""


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's contents."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_private(path: Path, mode: str = "wb"):
    """Create (or truncate) ``path`` readable and writable by its owner only, whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode)


def write_archive(target: Path, manifest: dict, members: list[tuple[str, Path]]) -> None:
    """Write ``members`` (archive name, file) with ``manifest`` to ``target``, mode 0600.

    The manifest gets the size and SHA-256 of every member; the archive is written beside the
    target and renamed into place, so a failed backup never leaves a half file under its name.
    """
    manifest["files"] = {name: {"size": path.stat().st_size, "sha256": sha256_of(path)} for name, path in members}
    data = json.dumps(manifest, indent=2, sort_keys=True).encode()
    partial = target.with_name(target.name + ".part")
    try:
        with open_private(partial) as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            _add_bytes(tar, MANIFEST, data)
            _add_bytes(tar, MANIFEST_SUM, hashlib.sha256(data).hexdigest().encode())
            for name, path in members:
                info = tar.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with open(path, "rb") as fh:
                    tar.addfile(info, fh)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o600
    tar.addfile(info, io.BytesIO(data))


def extract_verified(archive: Path, dest: Path) -> dict:
    """Check every byte of ``archive`` against its manifest while extracting it into ``dest``.

    Returns the manifest; raises :class:`BackupError` when anything does not match.
    """
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} does not exist")
    try:
        with open(archive, "rb") as raw, gzip.GzipFile(fileobj=raw) as gz:
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                manifest = _read_members(archive, tar, dest)
            while gz.read(_CHUNK):  # to the end of the gzip stream: its CRC and length are checked
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"{archive} is damaged or truncated ({_reason(exc)}); it cannot be restored") from None
    return manifest


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_members(archive: Path, tar: tarfile.TarFile, dest: Path) -> dict:
    members = iter(tar)
    manifest_bytes = _first_member(archive, tar, next(members, None), MANIFEST)
    checksum = _first_member(archive, tar, next(members, None), MANIFEST_SUM)
    if hashlib.sha256(manifest_bytes).hexdigest().encode() != checksum.strip():
        raise BackupError(f"{archive} is damaged: its manifest does not match its checksum")
    manifest = _parse_manifest(archive, manifest_bytes)
    expected, seen = manifest["files"], set()
    for member in members:
        name = member.name
        if name not in expected or name in seen or not member.isreg():
            raise BackupError(f"{archive} is damaged: it holds {name!r}, which its manifest does not list")
        seen.add(name)
        _extract_checked(archive, tar, member, dest / name, expected[name])
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"{archive} is incomplete: {missing[0]} is missing")
    return manifest


def _first_member(archive: Path, tar: tarfile.TarFile, member, name: str) -> bytes:
    if member is None or member.name != name or not member.isreg() or member.size > _MANIFEST_MAX:
        raise BackupError(f"{archive} has no checksummed manifest: it is not a backup, or one made by an older "
                          f"`erp backup` that cannot be verified (restore it with the version that made it, then "
                          f"make a new backup)")
    return tar.extractfile(member).read()


def _parse_manifest(archive: Path, data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} has a backup format this version does not know")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(_safe_entry(name, entry) for name, entry in files.items()):
        raise BackupError(f"{archive} has a malformed manifest")
    return manifest


def _safe_entry(name: str, entry) -> bool:
    path = PurePosixPath(name)
    return (isinstance(entry, dict) and isinstance(entry.get("size"), int) and isinstance(entry.get("sha256"), str)
            and not path.is_absolute() and ".." not in path.parts and name not in (MANIFEST, MANIFEST_SUM)
            and name == path.as_posix())


def _extract_checked(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path,
                     entry: dict) -> None:
    if member.size != entry["size"]:
        raise BackupError(f"{archive} is damaged: {member.name} has the wrong size")
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    source = tar.extractfile(member)
    with open_private(target) as out:
        for chunk in iter(lambda: source.read(_CHUNK), b""):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"{archive} is damaged: {member.name} does not match its checksum")
