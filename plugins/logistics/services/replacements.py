"""Replacement shipments: an exchange from support or a re-ship of a delivery exception,
waiting for the warehouse to dispatch it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, Product
from plugins.orders.public import states as order_states

from .. import states
from ..models import DeliveryException, Shipment, ShipmentLine
from ._common import EXCEPTION_SOURCE, _lock_order, _whole
from .shipments import next_shipment_number


def create_replacement(order: Order, quantities: dict, reason: str, source_type: str, source_id) -> Shipment:
    """A pending shipment of ``{product_id: quantity}`` (an exchange from support, or a re-ship
    of a delivery exception), waiting for the warehouse to dispatch it."""
    order = _lock_order(order.id)
    if order.status in (order_states.DRAFT, order_states.CANCELLED):
        raise Conflict(_("Order %(number)s is %(status)s: nothing can be shipped for it.",
                         number=order.number, status=order_states.LABELS.get(order.status, order.status)))
    wanted = _wanted(quantities)
    original = _original_shipment(order, source_type, source_id)
    lines = _replacement_lines(order, wanted, original)
    shipment = _new_replacement(order, original, reason, source_type, source_id)
    shipment.lines = lines
    db.session.add(shipment)
    db.session.flush()
    audit.record("shipment", shipment.id, "created", after={
        "number": shipment.number, "order": order.number, "replacement_for": f"{source_type} {source_id}",
        "lines": {line.sku: line.quantity for line in lines}}, note=shipment.reason or None)
    return shipment


def _replacement_lines(order: Order, wanted: dict[int, int], original: Shipment | None) -> list[ShipmentLine]:
    """The lines of a replacement: at most the original's lines for a re-ship, else the order's
    lines or known products."""
    if original is not None:
        lines, left = [], dict(wanted)
        for line in original.lines:
            quantity = min(line.quantity, left.get(line.product_id, 0))
            if quantity:
                left[line.product_id] -= quantity
                lines.append(ShipmentLine(order_line_id=line.order_line_id, product_id=line.product_id,
                                          sku=line.sku, name=line.name, quantity=quantity))
        if any(left.values()):
            raise DomainError(_("A re-ship cannot carry more than the original shipment."))
        return lines
    by_product = {line.product_id: line for line in order.lines}
    missing = [pid for pid in wanted if pid not in by_product]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(missing)))} if missing else {}
    lines = []
    for product_id, quantity in wanted.items():
        line = by_product.get(product_id)
        source = line or products.get(product_id)
        if source is None:
            raise DomainError(_("A replacement needs whole, positive quantities of known products."))
        lines.append(ShipmentLine(order_line_id=line.id if line else None, product_id=product_id,
                                  sku=source.sku, name=source.name, quantity=quantity))
    return lines


def _wanted(quantities: dict) -> dict[int, int]:
    """``{product_id: quantity}`` summed per product; refused unless every quantity is whole and
    positive and every product id a number."""
    wanted: dict[int, int] = {}
    for product_id, quantity in (quantities or {}).items():
        try:
            amount = _whole(quantity, 1_000_000)
        except ValueError:
            amount = None
        if not str(product_id).isdigit() or not amount:
            raise DomainError(_("A replacement needs whole, positive quantities of known products."))
        wanted[int(product_id)] = wanted.get(int(product_id), 0) + amount
    if not wanted:
        raise DomainError(_("A replacement needs whole, positive quantities of known products."))
    return wanted


def _original_shipment(order: Order, source_type: str, source_id) -> Shipment | None:
    """The shipment a re-ship replaces: that of the delivery exception named by the source, when
    it belongs to the order (None for an exchange)."""
    if source_type != EXCEPTION_SOURCE:
        return None
    exception = db.session.get(DeliveryException, int(source_id)) if str(source_id).isdigit() else None
    return exception.shipment if exception is not None and exception.order_id == order.id else None


def _new_replacement(order: Order, original: Shipment | None, reason: str, source_type: str,
                     source_id) -> Shipment:
    """The pending shipment, without lines: a re-ship keeps the original's carrier, an exchange
    has none yet."""
    if original is not None:
        kept = {"kind": states.KIND_ORDER, "carrier_id": original.carrier_id, "carrier_name": original.carrier_name,
                "replaces_id": original.id}
    else:
        kept = {"kind": states.KIND_EXCHANGE, "carrier_id": None, "carrier_name": "", "replaces_id": None}
    user_id, _name = audit.current_actor()
    now = utcnow()
    return Shipment(number=next_shipment_number(), order=order, status=states.PENDING, **kept,
                    source_type=(source_type or "")[:40] or None,
                    source_id=str(source_id)[:40] if source_id is not None else None,
                    reason=(reason or "").strip()[:2000], created_at=now, updated_at=now, created_by_id=user_id)
