"""Create, check and revoke personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from .. import audit
from ..auth.models import Role, User
from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from .models import ApiToken

PREFIX = "erp_"
# "Last used" is stamped at most this often per token, so a busy client costs no write per request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Make a token for ``user``; returns the row and the clear token (show it once, never again)."""
    name = (name or "").strip()[:120]
    if not name:
        raise DomainError(_("Give the token a name, for example the program that will use it."), field="name")
    if days is not None and not (1 <= int(days) <= 3650):
        raise DomainError(_("A token lasts between 1 and 3650 days, or forever."), field="days")
    clear = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, prefix=clear[:10], token_hash=_digest(clear),
                   expires_at=(utcnow() + timedelta(days=int(days))) if days else None)
    db.session.add(row)
    db.session.flush()
    audit.record("api_token", row.id, "created", after={"name": name, "user": user.username,
                                                       "expires_at": row.expires_at})
    return row, clear


def revoke_token(row: ApiToken) -> None:
    """Revoke a token at once (audited)."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token", row.id, "revoked", before={"name": row.name})


def user_for_token(clear: str):
    """The active user a presented token belongs to, or None (expired, revoked, unknown)."""
    if not clear or not clear.startswith(PREFIX) or len(clear) > 200:
        return None
    # One statement: the token, its user, the user's roles and their grants (the permission set
    # is computed from them once and kept on the user for the request).
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == _digest(clear))
        .options(joinedload(ApiToken.user).joinedload(User.roles).joinedload(Role.grants))
    ).unique().scalar_one_or_none()
    if row is None or not row.active or not row.user.active:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION:
        # Best effort: on a busy SQLite a read transaction may not upgrade to a write; the
        # request must not fail for a "last used" stamp.
        try:
            with db.session.begin_nested():
                db.session.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
            if not (db.session.new or db.session.dirty or db.session.deleted):
                db.session.commit()  # kept even when the request itself writes nothing (a GET)
        except OperationalError:
            db.session.rollback()
    return row.user


def tokens_of(user) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))
