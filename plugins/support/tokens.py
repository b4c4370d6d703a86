"""Unguessable customer links: HMAC of SECRET_KEY over a purpose, a record id and a stored nonce.

Nothing that opens a link is stored in clear: the database holds only the random nonce, so a
dump alone does not give the links, and changing the nonce revokes every link made from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive(purpose: str, object_id: int, nonce: str | None) -> str | None:
    """The token of ``(purpose, object_id)`` under ``nonce``; None when there is no nonce."""
    if not nonce:
        return None
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"{purpose}:{object_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode().rstrip("=")


def matches(purpose: str, object_id: int, nonce: str | None, token: str | None) -> bool:
    """Constant-time check of a token from a URL."""
    expected = derive(purpose, object_id, nonce)
    if not expected or not token or len(token) > 64:
        return False
    return hmac.compare_digest(expected.encode(), token.encode())


def find(model, purpose: str, object_id: int, token: str | None):
    """The ``model`` row ``object_id`` when ``token`` is its link token (by its ``nonce``), else None."""
    from erp_core.extensions import db

    row = db.session.get(model, object_id)
    if row is None or not matches(purpose, row.id, row.nonce, token):
        return None
    return row


def bump_version(model, row, expected_version, conflict_message) -> None:
    """Take ``row.version`` forward, refusing a form drawn from an older version.

    One conditional UPDATE: it also row-locks the record on PostgreSQL, so concurrent changes of
    one record run one after the other. Raises Conflict(``conflict_message``) when stale.
    """
    from sqlalchemy import update

    from erp_core.errors import Conflict
    from erp_core.extensions import db

    expected = row.version if expected_version in (None, "") else int(expected_version)
    result = db.session.execute(update(model).where(model.id == row.id, model.version == expected)
                                .values(version=model.version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(conflict_message)
    db.session.refresh(row, ["version", "status"])
