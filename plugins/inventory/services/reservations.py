"""Stock for orders: reservations that follow the order's state and lines, goods shipped and
returned, the order's warehouse, and the stock panel on the order page."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from erp_core import audit
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.i18n import system_text
from plugins.orders import public as orders_public
from plugins.orders.public import Order, Product, quantities_by_product
from plugins.orders.public import states as order_states

from ..models import (
    RELEASE,
    RESERVATION,
    RETURN,
    SHIPMENT,
    WRITE_OFF,
    Level,
    Move,
    Warehouse,
)
from ._common import FINISHED, HOLDING, _check_quantities
from .ledger import Change, MoveSpec, apply_changes, lock_levels
from .warehousing import (
    default_warehouse,
    find_default_warehouse,
    get_warehouse,
    warehouses,
)


@dataclass
class OrderStock:
    """What the ledger says about one order for one product in one warehouse."""

    reserved: int = 0
    shipped: int = 0
    returned: int = 0


def order_stock(order_id: int) -> dict[tuple[int, int], OrderStock]:
    """What the ledger says about one order, per (product, warehouse): reserved now, shipped, returned."""
    rows = db.session.execute(
        select(Move.product_id, Move.warehouse_id, func.sum(Move.reserved_delta),
               func.sum(case((Move.type == SHIPMENT, Move.quantity), else_=0)),
               func.sum(case((Move.type.in_((RETURN, WRITE_OFF)), Move.quantity), else_=0)))
        .where(Move.order_id == order_id).group_by(Move.product_id, Move.warehouse_id)).all()
    return {(r[0], r[1]): OrderStock(int(r[2] or 0), int(r[3] or 0), int(r[4] or 0)) for r in rows}


def _per_product(stock: dict[tuple[int, int], OrderStock], attr: str) -> dict[int, int]:
    """Sum one attribute of :class:`OrderStock` over the warehouses, per product."""
    totals: dict[int, int] = defaultdict(int)
    for (p, _w), s in stock.items():
        totals[p] += getattr(s, attr)
    return totals


def lock_order(order: Order) -> None:
    """Take the order's row lock, so stock work on one order runs one at a time."""
    orders_public.lock_order(order.id)


def order_warehouse_id(order: Order) -> int:
    """The warehouse the order ships from; an order without one gets the default."""
    if order.warehouse_id is None:  # inside the transition that reserves: its version moved already
        orders_public.set_order_warehouse(order, default_warehouse().id, bump_version=False)
    return order.warehouse_id


def _still_needed(order: Order, stock: dict[tuple[int, int], OrderStock]) -> dict[int, int]:
    """Per product, what the order must hold: ordered minus shipped while it holds, else nothing."""
    if order.status not in HOLDING:
        return {}
    shipped = _per_product(stock, "shipped")
    return {p: max(0, q - shipped.get(p, 0)) for p, q in quantities_by_product(order).items()}


def _reservation_changes(stock: dict[tuple[int, int], OrderStock], target: dict[int, int],
                         wid: int | None) -> dict[int, dict[int, Change]]:
    """Per warehouse and product, the change of reserved that brings the order to ``target`` in
    ``wid``: everything held in other warehouses is released, ``wid`` moves by the difference."""
    per_wh: dict[int, dict[int, Change]] = defaultdict(dict)
    for (p, w), s in stock.items():
        if w != wid and s.reserved:
            per_wh[w][p] = Change(reserved=-s.reserved)
    if wid is not None:
        held = {p: s.reserved for (p, w), s in stock.items() if w == wid}
        for p in set(target) | set(held):
            delta = target.get(p, 0) - held.get(p, 0)
            if delta:
                per_wh[wid][p] = Change(reserved=delta)
    return per_wh


def _only_products(per_wh: dict[int, dict[int, Change]], products) -> dict[int, dict[int, Change]]:
    """Keep the changes of ``products`` (all when None), dropping warehouses left with none."""
    if products is not None:
        wanted = set(products)
        per_wh = {w: {p: c for p, c in ch.items() if p in wanted} for w, ch in per_wh.items()}
    return {w: ch for w, ch in per_wh.items() if ch}


def _apply_reservation_changes(order: Order, per_wh: dict[int, dict[int, Change]], wid: int | None) -> None:
    """Lock the levels, then write releases first (they cannot fail), reservations last."""
    lock_levels((p, w) for w, ch in per_wh.items() for p in ch)
    for w in sorted(per_wh, key=lambda w: w == wid):
        ch = per_wh[w]
        types = {p: RESERVATION if c.reserved > 0 else RELEASE for p, c in ch.items()}
        apply_changes(w, ch, MoveSpec(types, order_id=order.id, reference=order.number),
                      shortage="available" if any(c.reserved > 0 for c in ch.values()) else "ledger", locked=True)


def sync_order_reservation(order: Order, products=None) -> None:
    """Make the order's reservation match what it still needs, in its warehouse.

    While the order is confirmed (or partly shipped) it holds, per product, what it ordered
    minus what has shipped; in any other state it holds nothing. Reservations held in another
    warehouse (after a change of warehouse) are released. ``products`` limits the work to
    some products (an edit). Shortages refuse the whole operation.
    """
    stock = order_stock(order.id)
    target = _still_needed(order, stock)
    wid = order_warehouse_id(order) if (target or order.warehouse_id) else None
    per_wh = _only_products(_reservation_changes(stock, target, wid), products)
    if per_wh:
        _apply_reservation_changes(order, per_wh, wid)


def on_status_changed(order: Order, old_status: str, new_status: str) -> None:
    """Reserve on confirm, release on cancel / back to draft / when the order is done.

    Confirming has no separate stock check before it: the reservation's conditional UPDATE is the
    check, and a shortage refuses the confirmation (``InsufficientStock``, 409
    ``insufficient_stock``, one sentence per short product), which rolls the transition back."""
    if new_status in HOLDING and old_status not in HOLDING:
        sync_order_reservation(order)
    elif new_status in FINISHED and new_status != order_states.SHIPPED:
        # "shipped" waits for erp_order_goods_shipped, which consumes the reservation.
        sync_order_reservation(order)


def on_order_changed(order: Order, changes: dict) -> None:
    """Follow an edit of a confirmed order: more of a product reserves more, less releases."""
    delta = changes.get("quantity_delta") or {}
    if delta and order.status in HOLDING:
        sync_order_reservation(order, products=delta.keys())


def ship_goods(order: Order, quantities: dict, reference: str | None) -> list[dict]:
    """Goods of the order left its warehouse: consume the reservation (on hand and reserved go down).

    A quantity beyond what the order holds reserved (a replacement) comes out of available stock.
    """
    quantities = _check_quantities(quantities)
    if not quantities:
        return []
    lock_order(order)
    stock = order_stock(order.id)
    wid = order_warehouse_id(order)
    changes = {p: Change(on_hand=-q, reserved=-min(q, stock.get((p, wid), OrderStock()).reserved))
               for p, q in quantities.items()}
    moves = apply_changes(wid, changes, MoveSpec(SHIPMENT, order_id=order.id, reference=reference or order.number,
                                                 quantity=quantities))
    if order.status in FINISHED:
        sync_order_reservation(order)  # fully shipped: nothing more will leave
    return moves


def return_goods(order: Order, quantities: dict, restock: bool, reference: str | None) -> list[dict]:
    """Goods of the order came back. ``restock``: back on hand ("return" moves); otherwise
    recorded as written off ("write_off" moves that leave on hand as it is).

    Never more than shipped and not yet returned (or, for an order shipped before inventory
    was switched on, than ordered and not yet returned).
    """
    quantities = _check_quantities(quantities)
    if not quantities:
        return []
    lock_order(order)
    stock = order_stock(order.id)
    shipped, returned = _per_product(stock, "shipped"), _per_product(stock, "returned")
    if not any(shipped.values()):
        shipped = quantities_by_product(order)
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(quantities)))}
    for p, q in sorted(quantities.items()):
        if p not in products:
            raise NotFound(_("No such product."))
        left = shipped.get(p, 0) - returned.get(p, 0)
        if q > left:
            raise DomainError(_("%(sku)s: %(q)s cannot come back on order %(number)s; only %(left)s were shipped and not yet returned.",
                                sku=products[p].sku, q=q, number=order.number, left=max(left, 0)))
    wid = order_warehouse_id(order)
    if restock:
        changes = {p: Change(on_hand=q) for p, q in quantities.items()}
        return apply_changes(wid, changes, MoveSpec(RETURN, order_id=order.id, reference=reference or order.number),
                             create_rows=True)
    changes = {p: Change() for p in quantities}
    return apply_changes(wid, changes, MoveSpec(WRITE_OFF, order_id=order.id, reference=reference or order.number,
                                                note=system_text("inventory.returned_written_off"),
                                                quantity=quantities), create_rows=True)


def change_order_warehouse(order: Order, warehouse_id) -> bool:
    """Ship the order from another warehouse; a reservation moves with it in this transaction."""
    lock_order(order)
    db.session.refresh(order, ["status", "warehouse_id"])
    if order.status not in order_states.EDITABLE:
        raise Conflict(_("Order %(number)s is %(status)s; its warehouse can no longer change.",
                         number=order.number, status=order_states.LABELS[order.status]))
    wh = get_warehouse(warehouse_id)
    old = order.warehouse_id
    if old == wh.id:
        return False
    old_name = db.session.scalar(select(Warehouse.name).where(Warehouse.id == old)) if old else None
    orders_public.set_order_warehouse(order, wh.id)
    sync_order_reservation(order)
    audit.record("order", order.id, "warehouse_changed", before={"warehouse": old_name}, after={"warehouse": wh.name})
    return True


def order_panel(order: Order) -> dict:
    """Per line: ordered, reserved for this order, available in the order's warehouse; shortages."""
    default = find_default_warehouse()
    wid = order.warehouse_id or (default.id if default else None)
    needed = quantities_by_product(order)
    levels = {r.product_id: r for r in db.session.execute(
        select(Level.product_id, Level.on_hand, Level.reserved).where(
            Level.warehouse_id == wid, Level.product_id.in_(sorted(needed) or [0]))).all()}
    stock = order_stock(order.id)
    shipped = _per_product(stock, "shipped")
    rows, short = [], 0
    for line in order.lines:
        level = levels.get(line.product_id)
        held = stock.get((line.product_id, wid), OrderStock()).reserved
        available = (level.on_hand - level.reserved) if level else 0
        outstanding = max(0, needed[line.product_id] - shipped.get(line.product_id, 0))
        missing = max(0, outstanding - held - available) if order.status in order_states.OPEN else 0
        short += bool(missing)
        rows.append({"line": line, "on_hand": level.on_hand if level else 0, "reserved_total": level.reserved if level else 0,
                     "available": available, "held": held, "shipped": shipped.get(line.product_id, 0),
                     "missing": missing})
    return {"order": order, "warehouse_id": wid, "warehouses": warehouses(), "rows": rows, "short": short,
            "editable": order.status in order_states.EDITABLE}
