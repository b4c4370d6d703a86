"""What the product pages of orders show from inventory: stock per warehouse, the threshold,
the latest moves (the product panel) and available stock for a page of the product list."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from erp_core.extensions import db
from plugins.orders.public import Order, order_scope

from ..models import Level, Move, StockRule, Warehouse
from .on_order import available_to_promise, incoming_by_product

RECENT_MOVES = 10


def visible_moves():
    """A SQL condition on moves: those the logged-in user may see. A salesperson who sees own
    customers only (``orders.scope.own``) does not see the reservations, releases and shipments
    of other customers' orders; moves of no order (receipts, stocktakes, transfers) stay."""
    return or_(Move.order_id.is_(None), order_scope(Move.order_id))


def product_panel(product) -> dict:
    """The context of the stock panel on the product page: ``levels`` as (warehouse name,
    level) pairs, ``rule`` (or None), the last :data:`RECENT_MOVES` ``moves``, warehouse
    ``names`` and ``orders`` (order id -> number) for the moves' references, ``on_order`` (an
    :class:`~.on_order.OnOrder` or None) and ``atp`` (available to promise)."""
    levels = db.session.execute(select(Warehouse.name, Level).join(Warehouse, Warehouse.id == Level.warehouse_id)
                                .where(Level.product_id == product.id).order_by(Warehouse.name)).all()
    moves = list(db.session.scalars(select(Move).where(Move.product_id == product.id, visible_moves())
                                    .order_by(Move.id.desc()).limit(RECENT_MOVES)))
    ids = {m.order_id for m in moves if m.order_id}
    orders = dict(db.session.execute(select(Order.id, Order.number).where(Order.id.in_(ids))).all()) if ids else {}
    names = dict(db.session.execute(select(Warehouse.id, Warehouse.name)).all())
    incoming = incoming_by_product([product.id]) or {}
    return {"on_order": incoming.get(product.id), "atp": available_to_promise(product.id, incoming=incoming),
            "product": product, "levels": levels, "rule": db.session.get(StockRule, product.id),
            "moves": moves, "names": names, "orders": orders,
            "totals": (sum(lv.on_hand for _n, lv in levels), sum(lv.reserved for _n, lv in levels))}


def available_by_product(product_ids) -> dict[int, int]:
    """Available stock (on hand less reserved, all warehouses) of each product, in one query;
    products without any stock record are missing from the answer."""
    ids = list(product_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(Level.product_id, func.sum(Level.on_hand - Level.reserved))
                              .where(Level.product_id.in_(ids)).group_by(Level.product_id))
    return {pid: int(total or 0) for pid, total in rows}
