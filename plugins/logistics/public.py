"""What code outside logistics may use of it: a carrier plugin's own tests and set-up code
configure a carrier and sign pushes the way the site does; what a shipment carried of its order
(:func:`shipped_goods`, :func:`order_shipped_goods`), also answered through the hook
``erp_shipped_goods`` for plugins that do not require logistics (finance invoices shipments with
it). Other plugins talk to logistics through its hooks (``erp_replacement_shipment_requested``,
``erp_shipment_status_changed``, ``erp_shipped_goods``, ``erp_shipment_panels``) and carrier adapters through :mod:`plugins.logistics.adapters`.

These functions work in the caller's transaction (commit yourself) and need an application
context.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from erp_core.db import MAX_ID
from erp_core.extensions import db

from . import states
from .models import Carrier, Shipment
from .services import create_carrier, get_shipment, webhook_secret

__all__ = ["Carrier", "ShippedGoods", "ShippedLine", "Shipment", "create_carrier", "get_shipment",
           "order_shipped_goods", "shipped_goods", "webhook_secret"]


@dataclass(frozen=True)
class ShippedLine:
    """One order line carried by a shipment: the order line's id and the quantity carried."""

    order_line_id: int
    quantity: int


@dataclass(frozen=True)
class ShippedGoods:
    """A dispatched shipment that carries (part of) its order's goods: id, number (SH-...), order
    id, status code and the order lines it carried (quantities of one order line summed)."""

    id: int
    number: str
    order_id: int
    status: str
    lines: tuple[ShippedLine, ...]


def _goods(shipment: Shipment) -> ShippedGoods:
    quantities: dict[int, int] = {}
    for line in shipment.lines:
        if line.order_line_id is not None:
            quantities[line.order_line_id] = quantities.get(line.order_line_id, 0) + line.quantity
    return ShippedGoods(shipment.id, shipment.number, shipment.order_id, shipment.status,
                        tuple(ShippedLine(k, v) for k, v in quantities.items()))


def _carries_goods(shipment: Shipment) -> bool:
    return shipment.counts_for_order and shipment.status != states.PENDING


def shipped_goods(shipment_id: int) -> ShippedGoods | None:
    """What the shipment ``shipment_id`` carried of its order, or None when there is no such
    shipment or it carries none of the order's goods: not dispatched yet (pending), cancelled, an
    exchange (support's replacement on top of the order), or released (re-shipped, restocked).
    An id out of the id range (a typed URL) is no such shipment."""
    shipment = db.session.get(Shipment, shipment_id) if 1 <= int(shipment_id) <= MAX_ID else None
    if shipment is None or not _carries_goods(shipment):
        return None
    return _goods(shipment)


def order_shipped_goods(order_id: int) -> list[ShippedGoods]:
    """:func:`shipped_goods` of every shipment of the order that carries its goods, oldest first."""
    shipments = db.session.scalars(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id))
    return [_goods(s) for s in shipments if _carries_goods(s)]
