"""Helpers and constants the logistics service modules share: the form error, the lock of an
order's row, whole numbers, the company's today.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import settings
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.plugins import current_manager
from erp_core.timeutil import to_zone, utcnow
from plugins.orders import public as orders_public
from plugins.orders.public import Order
from plugins.orders.public import states as order_states

from ..models import Shipment

# Orders that may get a new shipment (a shipped order too, when returned goods reopened lines).
SHIPPABLE = frozenset({order_states.CONFIRMED, order_states.PARTIALLY_SHIPPED, order_states.SHIPPED})
EXCEPTION_SOURCE = "logistics_exception"
MAX_PACKAGES = 999
MAX_WEIGHT_GRAMS = 100_000_000
NOTES_LIMIT = 2000


class Invalid(DomainError):
    """Several fields are wrong; ``errors`` maps field names to messages (shown beside each)."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(first if len(errors) == 1 else _("Please correct the marked fields: %(first)s", first=first))


class AlreadyCreated(Conflict):
    """The same form was posted twice: ``shipment_id`` names the shipment the first post made."""

    def __init__(self, shipment: Shipment):
        self.shipment_id = shipment.id
        super().__init__(_("Shipment %(number)s was already created from this form.", number=shipment.number))


def hook_answered(hook_name: str) -> bool:
    """Does any switched-on plugin implement ``hook_name``? Actions that need an answer are
    hidden (and refused) when none does, e.g. "cancel and refund" with finance switched off."""
    return bool(current_manager().answerers(hook_name))


def sender_address() -> str:
    """The address parcels are sent from (the ``logistics.sender_address`` setting; may be empty)."""
    return (settings.get("logistics.sender_address", "") or "").strip()


def today() -> date:
    """Today in the company's time zone."""
    return to_zone(utcnow(), settings.company_timezone()).date()


def _lock_order(order_id: int) -> Order:
    """Lock the order's row for the rest of the transaction and reload it with its lines."""
    return orders_public.lock_order(order_id, with_lines=True)


def _reload(shipment: Shipment) -> Shipment:
    """The shipment read again from the database (after its order's row was locked)."""
    return db.session.execute(select(Shipment).where(Shipment.id == shipment.id)
                              .execution_options(populate_existing=True)).unique().scalar_one()


def _whole(raw, limit: int) -> int | None:
    """A whole number from 0 to ``limit`` typed as text; None when blank, ValueError otherwise."""
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or value != value.to_integral_value() or value < 0 or value > limit:
        raise ValueError
    return int(value)
