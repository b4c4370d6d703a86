"""What the support API's modules share: the unit of work, refusals, the attachment schema."""

from __future__ import annotations

from contextlib import contextmanager

import marshmallow as ma

from erp_core.api.schemas import MAX_ID, WholeNumber, in_range
from erp_core.errors import DomainError
from erp_core.extensions import db


def version_field():
    """The ``version`` a change is based on."""
    return WholeNumber(validate=in_range(1, MAX_ID), metadata={
        "description": "The version the change is based on (from a GET); a stale one is refused with 409."})


@contextmanager
def unit_of_work():
    """Commit what the block did; on a refusal roll back everything and answer problem+json.

    A plain business-rule refusal (DomainError's default 400) is a 422 for API clients: the
    request was understood, its values cannot be used.
    """
    try:
        yield
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 400:
            exc.status = 422
        raise


def refuse(message, field: str | None = None):
    """Refuse the request (422) naming ``field``."""
    raise DomainError(message, field=field, status=422)


class AttachmentOut(ma.Schema):
    id = WholeNumber(required=True)
    filename = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = WholeNumber(required=True, metadata={"description": "Bytes"})
    from_customer = ma.fields.Boolean(required=True)
    created_at = ma.fields.DateTime(required=True)


class With:
    """An ORM object seen with a few more attributes, for dumping (``messages`` with their files)."""

    def __init__(self, obj, **extra):
        self._obj = obj
        self.__dict__.update(extra)

    def __getattr__(self, name):
        return getattr(self._obj, name)
