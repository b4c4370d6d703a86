"""The append-only audit log and the helpers every plugin uses to write and show it."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import AuditLog
from .timeutil import replaying, utcnow


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)


@contextmanager
def recorded_at(when: datetime):
    """Entries recorded inside the block carry ``when`` instead of the current time, and so does
    everything else written there (:func:`erp_core.timeutil.replaying`: status times, created_at
    columns, events), so a replayed record's dates agree.

    For importers and demo data that replay past events; never for live changes.
    """
    with replaying(when):
        yield


def current_actor():
    """``(user_id, name)`` of who acts now: the logged-in user, else ``(None, 'system')``."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.id, current_user.username
    return None, "system"


def record(object_type: str, object_id, action: str, *, before: Any = None, after: Any = None,
           note: str | None = None, actor=None) -> AuditLog:
    """Append one audit entry in the caller's transaction.

    ``actor`` may be a User; by default the logged-in user (or "system" in jobs and the CLI).
    ``before`` and ``after`` are any JSON-able values (dicts of changed fields, statuses...).
    """
    if actor is not None:
        actor_id, actor_name = actor.id, actor.username
    else:
        actor_id, actor_name = current_actor()
    entry = AuditLog(at=utcnow(), actor_id=actor_id, actor_name=actor_name, object_type=object_type,
                     object_id=str(object_id), action=action, before=_jsonable(before),
                     after=_jsonable(after), note=note)
    db.session.add(entry)
    return entry


def diff(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, as ``(before, after)`` dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def timeline(object_type: str, object_id, limit: int = 200) -> list[AuditLog]:
    """Entries of one record, oldest first (for the timeline macro)."""
    stmt = (select(AuditLog).where(AuditLog.object_type == object_type, AuditLog.object_id == str(object_id))
            .order_by(AuditLog.id.desc()).limit(limit))
    return list(reversed(db.session.scalars(stmt).all()))
