"""``Idempotency-Key`` support for create endpoints: a retried request gets the first answer."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from functools import wraps

from flask import abort, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..timeutil import utcnow
from .models import IdempotencyRecord

IN_FLIGHT_TIMEOUT = timedelta(seconds=60)


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.full_path.encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(record: IdempotencyRecord):
    response = make_response(record.body or b"", record.status_code)
    response.content_type = record.content_type or "application/json"
    if record.location:
        response.headers["Location"] = record.location
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Decorate a POST view (outermost): with an ``Idempotency-Key`` header the first answer
    is stored and replayed to retries by the same user; a different request under the same key
    is refused (422), and a retry while the first is still running gets 409."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            return view(*args, **kwargs)
        if len(key) > 200 or not key.isprintable():
            abort(400, _("The Idempotency-Key header must be printable and at most 200 characters."))
        user_id = current_user.id
        fingerprint = _request_hash()
        record = db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        if record is None:
            try:
                db.session.add(IdempotencyRecord(user_id=user_id, key=key, request_hash=fingerprint))
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                record = db.session.scalar(select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        if record is not None:
            if record.request_hash != fingerprint:
                abort(422, _("This Idempotency-Key was already used for a different request."))
            if record.status_code is not None:
                return _replay(record)
            if utcnow() - record.created_at < IN_FLIGHT_TIMEOUT:
                abort(409, _("A request with this Idempotency-Key is still being processed; retry shortly."))
            record.created_at = utcnow()  # the first attempt died: this one takes over
            db.session.commit()
        try:
            response = make_response(view(*args, **kwargs))
        except Exception:
            db.session.rollback()
            _forget(user_id, key)
            raise
        if response.status_code >= 500:
            _forget(user_id, key)
            return response
        db.session.rollback()  # nothing of the view's work is pending; start clean
        record = db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        if record is not None:
            record.status_code = response.status_code
            record.content_type = response.content_type
            record.location = response.headers.get("Location")
            record.body = response.get_data()
            db.session.commit()
        return response

    return wrapper


def _forget(user_id: int, key: str) -> None:
    db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id,
                                                       IdempotencyRecord.key == key))
    db.session.commit()
