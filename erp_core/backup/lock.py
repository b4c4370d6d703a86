"""How a serving process announces itself, so a restore cannot run under it.

Every process that serves the site (``erp run``, ``erp quickstart``, gunicorn through
``erp_core.wsgi``, ``erp worker``) holds a shared ``flock`` on ``<instance>/serving.lock`` for
its whole life. ``erp restore`` takes the same lock exclusively without waiting and refuses while
any server holds it; the kernel drops a process's lock when it ends, even on ``kill -9``.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import contextmanager
from pathlib import Path

from .archive import BackupError

LOCK_NAME = "serving.lock"
_held: list[int] = []  # descriptors this process keeps open (and so locked) until it ends
log = logging.getLogger(__name__)


def lock_path(instance: str | os.PathLike) -> Path:
    """The lock file of the site whose instance folder is ``instance``."""
    return Path(instance) / LOCK_NAME


def _open(instance) -> int:
    path = lock_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Read-only is enough for flock, and lets a server running as another user share the file.
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    os.set_inheritable(fd, False)
    return fd


def hold_serving_lock(instance: str | os.PathLike) -> None:
    """Mark this process as serving the site until it ends (waits while a restore runs)."""
    fd = _open(instance)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        log.warning("a restore of this site is running; waiting for it to finish before serving")
        fcntl.flock(fd, fcntl.LOCK_SH)
    _held.append(fd)


@contextmanager
def site_stopped(instance: str | os.PathLike):
    """Hold the site's lock exclusively; refuse with :class:`BackupError` while anything serves it."""
    fd = _open(instance)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"the site is running (a server or worker holds {lock_path(instance)}): stop "
                              f"erp run, gunicorn and erp worker first, then restore again") from None
        yield
    finally:
        os.close(fd)
