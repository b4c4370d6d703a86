"""Where an order came from: its sales channel and its number there (external reference), and
the refusal of a second order with the same pair (:class:`DuplicateExternalRef`).

The pair is unique in the database (a partial unique index); :func:`check_origin` looks first
so that the user gets a clear message, and :func:`refuse_known_ref` turns the unique index's
IntegrityError of two creates at the same moment into the same message.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.errors import Conflict
from erp_core.extensions import db

from .. import channels
from ..models import Order


class DuplicateExternalRef(Conflict):
    """An order of this channel with this external reference exists: ``order_id`` and
    ``order_number`` name it (409, code ``duplicate_external_ref``)."""

    code = "duplicate_external_ref"

    def __init__(self, channel: str, external_ref: str, order_id: int, order_number: str):
        self.order_id, self.order_number = order_id, order_number
        self.channel, self.external_ref = channel, external_ref
        super().__init__(_("Order %(ref)s of %(channel)s was already entered as %(number)s; nothing was saved.",
                           ref=external_ref, channel=channels.label(channel), number=order_number),
                         field="external_ref")


def find_by_ref(channel: str, external_ref: str | None) -> tuple[int, str] | None:
    """``(id, number)`` of the order of ``channel`` with ``external_ref``, or ``None``."""
    if not external_ref:
        return None
    row = db.session.execute(select(Order.id, Order.number).where(
        Order.channel == channel, Order.external_ref == external_ref)).first()
    return (row[0], row[1]) if row else None


def refuse_known_ref(channel: str, external_ref: str | None) -> None:
    """Raise :class:`DuplicateExternalRef` when the pair is taken; return otherwise."""
    found = find_by_ref(channel, external_ref)
    if found:
        raise DuplicateExternalRef(channel, external_ref, *found)


def check_origin(raw_channel: str | None, raw_ref: str | None, errors: dict) -> dict:
    """``{"channel", "external_ref"}`` checked: a bad value goes into ``errors`` (by field name);
    a reference already entered in the channel raises :class:`DuplicateExternalRef`."""
    values = {"channel": channels.DEFAULT_CHANNEL, "external_ref": None}
    try:
        values["channel"] = channels.check_channel(raw_channel)
    except ValueError as exc:
        errors.setdefault("channel", []).append(str(exc))
    try:
        values["external_ref"] = channels.check_external_ref(raw_ref)
    except ValueError as exc:
        errors.setdefault("external_ref", []).append(str(exc))
    if "channel" not in errors:
        refuse_known_ref(values["channel"], values["external_ref"])
    return values
