"""The instance configuration and secret key in a backup.

Tracking links, survey links and webhook signatures are signed with the site's secret key, so a
restore must bring it back. The archive carries the instance's ``config.toml`` (or ``config.py``)
and the secret key in effect. On restore into an instance folder without a configuration file,
the archive's file is written there (mode 0600); into a configured instance only the secret key
line is replaced, and the site's other settings (database URL, mail...) stay.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..config import write_instance_config
from .archive import open_private

CONFIG_NAMES = ("config.toml", "config.py")
SECRET_MEMBER = "instance/secret_key"


def config_file(folder: Path) -> Path | None:
    """The instance's configuration file, or None."""
    for name in CONFIG_NAMES:
        if (folder / name).is_file():
            return folder / name
    return None


def members(folder: Path, secret_key: str, scratch: Path) -> list[tuple[str, Path]]:
    """Archive members for the instance configuration and the secret key in effect."""
    found = []
    existing = config_file(folder)
    if existing:
        found.append((f"instance/{existing.name}", existing))
    secret = scratch / "secret_key"
    with open_private(secret) as fh:
        fh.write(secret_key.encode())
    found.append((SECRET_MEMBER, secret))
    return found


def restored_secret(scratch: Path) -> str:
    """The secret key held by an extracted archive."""
    return (scratch / SECRET_MEMBER).read_text(encoding="utf-8")


def install(folder: Path, scratch: Path) -> Path | None:
    """Put the archive's configuration and secret key into ``folder``.

    Returns the file written when the folder had no configuration (so a refused restore can take
    it back), else None.
    """
    secret = restored_secret(scratch)
    existing = config_file(folder)
    if existing is None:
        for name in CONFIG_NAMES:
            source = scratch / "instance" / name
            if source.is_file():
                folder.mkdir(parents=True, exist_ok=True)
                _write_private(folder / name, source.read_bytes())
                set_secret_key(folder / name, secret)
                return folder / name
        return write_instance_config(folder, {"secret_key": secret})
    set_secret_key(existing, secret)
    return None


def set_secret_key(path: Path, secret: str) -> None:
    """Make the configuration file ``path`` set ``secret`` as the secret key."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        line = f"SECRET_KEY = {secret!r}"
        pattern = re.compile(r"^SECRET_KEY\s*=.*$", re.MULTILINE)
    else:
        line = 'secret_key = "' + secret.replace("\\", "\\\\").replace('"', '\\"') + '"'
        pattern = re.compile(r"^\s*secret_key\s*=.*$", re.MULTILINE | re.IGNORECASE)
    if line in text.splitlines():
        return
    new = pattern.sub(lambda _: line, text) if pattern.search(text) else text.rstrip("\n") + "\n" + line + "\n"
    _write_private(path, new.encode())


def _write_private(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".part")
    with open_private(partial) as fh:
        fh.write(data)
    os.replace(partial, path)
