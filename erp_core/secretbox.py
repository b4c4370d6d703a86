"""Secrets at rest: provider keys, passwords and API credentials stored encrypted.

A value is sealed with Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package)
under a key derived from the site's ``SECRET_KEY`` with HKDF-SHA256, and stored as
``enc:v1:<token>``. A database dump alone does not reveal them; the backup archive carries the
secret key (``erp backup``), so a restore reads them again. Values stored before this existed (no
prefix) read as they are and are sealed on the next save or by ``erp db upgrade``.

Changing ``SECRET_KEY`` makes sealed values unreadable: :func:`unseal` then answers ``""`` (the
adapter shows as not configured) and logs which value could not be read, so the admin types it again.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

log = logging.getLogger(__name__)

PREFIX = "enc:v1:"
_cache: dict[str, Fernet] = {}


def _fernet() -> Fernet:
    secret_key = current_app.config["SECRET_KEY"]
    secret = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    cached = _cache.get(secret.hex())
    if cached is None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"erp-oms secretbox",
                   info=b"secrets at rest v1").derive(secret)
        cached = _cache[secret.hex()] = Fernet(base64.urlsafe_b64encode(key))
    return cached


def is_sealed(value) -> bool:
    """True when ``value`` is a sealed string (``enc:v1:...``)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def seal(value: str | None) -> str:
    """The stored form of a secret: ``""`` stays ``""``; an already sealed value is kept."""
    if not value:
        return ""
    if is_sealed(value):
        return value
    return PREFIX + _fernet().encrypt(str(value).encode("utf-8")).decode("ascii")


def unseal(value, what: str = "a secret") -> str:
    """The plain secret of a stored value; ``""`` (and a logged warning naming ``what``) when it
    was sealed under another secret key. Unsealed legacy values are returned as they are."""
    if not value:
        return ""
    if not is_sealed(value):
        return str(value)
    try:
        return _fernet().decrypt(value[len(PREFIX):].encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError):
        log.warning("%s cannot be read: it was stored under another secret key; enter it again", what)
        return ""
