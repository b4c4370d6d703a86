"""An order's shipments: what is left to ship, shipment numbers, status changes, and the
order following its shipments (partially shipped, shipped, delivered).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from erp_core import audit, webhooks
from erp_core.db import next_counter
from erp_core.extensions import db
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow
from plugins.orders import public as orders
from plugins.orders.public import Order
from plugins.orders.public import states as order_states

from .. import states
from ..models import Shipment
from ._common import today


def order_shipments(order_id: int) -> list[Shipment]:
    """The order's shipments, oldest first."""
    stmt = select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
    return list(db.session.scalars(stmt).unique())


def taken_by_line(order_id: int, shipments: list[Shipment] | None = None) -> dict[int, int]:
    """``{order_line_id: quantity}`` given to shipments that count for the order."""
    shipments = order_shipments(order_id) if shipments is None else shipments
    taken: dict[int, int] = defaultdict(int)
    for shipment in shipments:
        if shipment.counts_for_order:
            for line in shipment.lines:
                if line.order_line_id is not None:
                    taken[line.order_line_id] += line.quantity
    return dict(taken)


def remaining_by_line(order: Order, shipments: list[Shipment] | None = None) -> dict[int, int]:
    """``{order_line_id: quantity}`` not yet given to a shipment that counts for the order (what
    was cancelled of a line, when the rest of the order was closed, is not left to ship)."""
    taken = taken_by_line(order.id, shipments)
    return {line.id: max(line.quantity - (line.cancelled_quantity or 0) - taken.get(line.id, 0), 0)
            for line in order.lines}


def _target_status(order: Order, shipments: list[Shipment]) -> str | None:
    """The status the order should have given its shipments (None while nothing has left)."""
    counted = [s for s in shipments if s.counts_for_order]
    if not any(s.status != states.PENDING for s in counted):
        return None
    if any(remaining_by_line(order, shipments).values()):
        return order_states.PARTIALLY_SHIPPED
    arrived = all(s.status == states.DELIVERED or s.outcome == states.REFUNDED for s in counted)
    if arrived and any(s.status == states.DELIVERED for s in counted):
        return order_states.DELIVERED
    return order_states.SHIPPED


_RANK = {order_states.CONFIRMED: 0, order_states.PARTIALLY_SHIPPED: 1, order_states.SHIPPED: 2,
         order_states.DELIVERED: 3}


def _sync_order(order: Order, note: str) -> None:
    """Move the order forward (partially shipped, shipped, delivered) to match its shipments."""
    target = _target_status(order, order_shipments(order.id))
    while target is not None and order.status in _RANK and _RANK[target] > _RANK[order.status]:
        # straight there when the order's table allows it (confirmed -> shipped), else step by step
        step = target if order_states.can_move(order.status, target) else next(
            (s for s in _RANK if _RANK[order.status] < _RANK[s] < _RANK[target]
             and order_states.can_move(order.status, s)), None)
        if step is None:
            return
        orders.transition(order, step, note=note)


def next_shipment_number() -> str:
    """SH-<year>-<000001>: gap-free per year of the company's calendar, safe under concurrency."""
    year = today().year
    return f"SH-{year}-{next_counter(db.session, f'logistics.shipment.{year}'):06d}"


def _status_changed(shipment: Shipment, new: str, note: str | None = None) -> None:
    """Move the shipment to ``new``: hook, webhook and audit (nothing when it is there already)."""
    old = shipment.status
    if old == new:
        return
    shipment.status, shipment.updated_at = new, utcnow()
    db.session.flush()
    hooks().erp_shipment_status_changed(shipment=shipment, old_status=old, new_status=new)
    webhooks.emit("shipment.status_changed", shipment, old_status=old, new_status=new)
    audit.record("shipment", shipment.id, "status_changed", before={"status": old}, after={"status": new},
                 note=note)
