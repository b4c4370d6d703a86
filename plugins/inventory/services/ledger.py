"""The ledger: levels, moves, and the one engine that changes both.

Every change of stock goes through :func:`apply_changes`: for one warehouse and any number of
products it runs ONE conditional UPDATE of the level rows (a ``CASE`` per product)::

    UPDATE inventory_level SET on_hand = on_hand + CASE product_id WHEN .. END,
                               reserved = reserved + CASE product_id WHEN .. END
     WHERE warehouse_id = :w AND product_id IN (..)
       AND on_hand - reserved >= CASE product_id WHEN .. END   -- what must be available
       AND reserved + CASE product_id WHEN .. END >= 0
    RETURNING product_id, on_hand, reserved

and compares the rows it returns with the number of products; a shortfall is refused with one
extra SELECT naming each short product. On PostgreSQL the rows are first locked in
(product_id, warehouse_id) order, so two multi-product operations never deadlock. The moves are
written with one multi-row INSERT, and one more UPDATE flips the low-stock flags. The number of
statements is therefore the same for 5 products and for 500.

The check (:func:`check_ledger`) proves the levels equal the sum of their moves; :func:`move_links`
names moves for the timelines of other plugins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import and_, case, func, insert, select, update

from erp_core import audit
from erp_core.errors import DomainError, ValidationProblems
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.timeutil import utcnow
from erp_core.ui import path_for
from plugins.orders.public import Order, Product
from plugins.orders.public import states as order_states

from ..models import (
    ADJUSTMENT,
    RECEIPT,
    RELEASE,
    RESERVATION,
    RETURN,
    SHIPMENT,
    TRANSFER,
    WRITE_OFF,
    Level,
    Move,
    Warehouse,
)
from ._common import HOLDING, _dialect, _ensure_levels
from .low_stock import sync_low_flags

MAX_LIST = 10  # products named in one message


class InsufficientStock(ValidationProblems):
    """Not enough available stock; ``problems`` has one sentence per short product."""

    code = "insufficient_stock"
    status = 409


@dataclass
class Change:
    """What one product's level must do: deltas of on hand and reserved."""

    on_hand: int = 0
    reserved: int = 0


def _case(values: dict[int, int]):
    return case(values, value=Level.product_id, else_=0)


def lock_levels(pairs) -> None:
    """PostgreSQL: lock the level rows of ``(product_id, warehouse_id)`` pairs in a fixed order.

    SQLite needs nothing: write transactions there start with BEGIN IMMEDIATE and run one at a time.
    """
    pairs = sorted(set(pairs))
    if not pairs or _dialect() != "postgresql":
        return
    products = sorted({p for p, _w in pairs})
    wids = sorted({w for _p, w in pairs})
    db.session.execute(select(Level.id).where(Level.product_id.in_(products), Level.warehouse_id.in_(wids))
                       .order_by(Level.product_id, Level.warehouse_id).with_for_update())


@dataclass
class MoveSpec:
    """How to write the moves of one :func:`apply_changes` call."""

    type: str | dict[int, str]  # one type, or a type per product
    order_id: int | None = None
    document_id: int | None = None
    reference: str = ""
    note: str = ""
    quantity: dict[int, int] = field(default_factory=dict)  # shown quantity per product (default |delta|)


def apply_changes(warehouse_id: int, changes: dict[int, Change], spec: MoveSpec, *, create_rows: bool = False,
                  shortage: str = "available", locked: bool = False) -> list[dict]:
    """Change the levels of several products in one warehouse and write their moves.

    One conditional UPDATE for all products; refused as a whole (InsufficientStock) when any
    product lacks stock. ``create_rows`` makes missing level rows first (receipts, returns).
    Returns the inserted moves as dicts (``id``, ``product_id``, ``type``, ``quantity``...).
    """
    changes = {p: c for p, c in changes.items() if c.on_hand or c.reserved or spec.quantity.get(p)}
    if not changes:
        return []
    pids = sorted(changes)
    if create_rows:
        _ensure_levels(warehouse_id, pids)
    if not locked:
        lock_levels((p, warehouse_id) for p in pids)
    now = utcnow()
    after = _update_levels(warehouse_id, changes, now)
    if len(after) != len(pids):
        raise _shortage(warehouse_id, changes, shortage)
    rows = _write_moves(warehouse_id, changes, spec, after, now)
    sync_low_flags([(p, warehouse_id) for p in pids])
    return rows


def _update_levels(warehouse_id: int, changes: dict[int, Change], now) -> dict[int, tuple[int, int]]:
    """The one conditional UPDATE of :func:`apply_changes`; ``{product_id: (on_hand, reserved)}``
    after it, for the rows it changed (a short product's row is left out)."""
    d_on_hand = {p: c.on_hand for p, c in changes.items()}
    d_reserved = {p: c.reserved for p, c in changes.items()}
    needed = {p: c.reserved - c.on_hand for p, c in changes.items()}  # available must stay >= 0
    stmt = (update(Level)
            .where(Level.warehouse_id == warehouse_id, Level.product_id.in_(sorted(changes)),
                   Level.on_hand - Level.reserved >= _case(needed),
                   Level.reserved + _case(d_reserved) >= 0)
            .values(on_hand=Level.on_hand + _case(d_on_hand), reserved=Level.reserved + _case(d_reserved),
                    updated_at=now)
            .returning(Level.product_id, Level.on_hand, Level.reserved)
            .execution_options(synchronize_session=False))
    return {row.product_id: (row.on_hand, row.reserved) for row in db.session.execute(stmt)}


def _write_moves(warehouse_id: int, changes: dict[int, Change], spec: MoveSpec, after: dict[int, tuple[int, int]],
                 now) -> list[dict]:
    """Insert one move per product (one multi-row INSERT); the rows as dicts, with their ids."""
    actor_id, actor_name = audit.current_actor()
    rows = []
    for p in sorted(changes):
        c = changes[p]
        kind = spec.type[p] if isinstance(spec.type, dict) else spec.type
        rows.append({"product_id": p, "warehouse_id": warehouse_id, "type": kind,
                     "quantity": spec.quantity.get(p, abs(c.on_hand) or abs(c.reserved)),
                     "on_hand_delta": c.on_hand, "reserved_delta": c.reserved,
                     "on_hand_after": after[p][0], "reserved_after": after[p][1],
                     "order_id": spec.order_id, "document_id": spec.document_id,
                     "reference": spec.reference[:64], "note": spec.note, "actor_id": actor_id,
                     "actor_name": actor_name, "created_at": now})
    # One move per product, so the product tells which id is whose.
    ids = {r.product_id: r.id for r in db.session.execute(insert(Move).returning(Move.product_id, Move.id), rows)}
    for row in rows:
        row["id"] = ids[row["product_id"]]
    return rows


def _shortage(warehouse_id: int, changes: dict[int, Change], kind: str) -> DomainError:
    """The refusal of :func:`apply_changes`: one SELECT to name every short product."""
    pids = sorted(changes)
    rows = db.session.execute(
        select(Product.id, Product.sku, Product.name, Level.on_hand, Level.reserved)
        .outerjoin(Level, and_(Level.product_id == Product.id, Level.warehouse_id == warehouse_id))
        .where(Product.id.in_(pids)).order_by(Product.sku)).all()
    wh_name = db.session.scalar(select(Warehouse.name).where(Warehouse.id == warehouse_id)) or "?"
    problems = []
    for row in rows:
        c = changes[row.id]
        on_hand, reserved = row.on_hand or 0, row.reserved or 0
        available = on_hand - reserved
        if available >= c.reserved - c.on_hand and reserved + c.reserved >= 0 and row.on_hand is not None:
            continue
        if kind == "count":
            problems.append(_("%(sku)s %(name)s in %(warehouse)s cannot be counted at %(counted)s: %(reserved)s are reserved for confirmed orders. Cancel those orders or move them to another warehouse first.",
                              sku=row.sku, name=row.name, warehouse=wh_name, counted=on_hand + c.on_hand,
                              reserved=reserved))
        elif kind == "ledger":
            problems.append(_("The stock records of %(sku)s %(name)s in %(warehouse)s disagree (%(reserved)s reserved); nothing was changed. Ask an administrator to run `erp inventory check`.",
                              sku=row.sku, name=row.name, warehouse=wh_name, reserved=reserved))
        else:
            problems.append(_("Not enough stock of %(sku)s %(name)s in %(warehouse)s: %(needed)s needed, %(available)s available.",
                              sku=row.sku, name=row.name, warehouse=wh_name, needed=c.reserved - c.on_hand,
                              available=max(available, 0)))
    if not problems:  # a concurrent change made the shortage go away: let the caller try again
        problems = [_("Stock changed meanwhile; nothing was changed. Please try again.")]
    if len(problems) > MAX_LIST:
        problems = problems[:MAX_LIST] + [_("... and %(n)s more products.", n=len(problems) - MAX_LIST)]
    return InsufficientStock(problems)


@dataclass
class Difference:
    """One disagreement found by :func:`check_ledger`."""

    product_id: int
    warehouse_id: int
    what: str
    level: int | None
    ledger: int | None


def check_ledger() -> list[Difference]:
    """Every level must equal the sum of its moves (on hand and reserved), and no order outside
    the holding states may keep a reservation. Returns the differences (empty: all agree)."""
    sums = {(r[0], r[1]): (int(r[2] or 0), int(r[3] or 0)) for r in db.session.execute(
        select(Move.product_id, Move.warehouse_id, func.sum(Move.on_hand_delta), func.sum(Move.reserved_delta))
        .group_by(Move.product_id, Move.warehouse_id))}
    problems = []
    seen = set()
    for level in db.session.execute(select(Level.product_id, Level.warehouse_id, Level.on_hand, Level.reserved)
                                    .order_by(Level.product_id, Level.warehouse_id)):
        key = (level.product_id, level.warehouse_id)
        seen.add(key)
        on_hand, reserved = sums.get(key, (0, 0))
        if level.on_hand != on_hand:
            problems.append(Difference(*key, "on_hand", level.on_hand, on_hand))
        if level.reserved != reserved:
            problems.append(Difference(*key, "reserved", level.reserved, reserved))
    for key, (on_hand, reserved) in sorted(sums.items()):
        if key not in seen and (on_hand or reserved):
            problems.append(Difference(*key, "missing_level", None, on_hand))
    held = db.session.execute(
        select(Move.order_id, Move.product_id, Move.warehouse_id, func.sum(Move.reserved_delta), Order.status)
        .join(Order, Order.id == Move.order_id)
        .group_by(Move.order_id, Move.product_id, Move.warehouse_id, Order.status)
        .having(func.sum(Move.reserved_delta) != 0)).all()
    for order_id, product_id, warehouse_id, reserved, status in held:
        if reserved < 0 or status not in HOLDING | {order_states.SHIPPED}:
            problems.append(Difference(product_id, warehouse_id, f"order {order_id} ({status}) holds", reserved, 0))
    return problems


MOVE_LABELS = {RECEIPT: _l("Receipt"), RESERVATION: _l("Reservation"), RELEASE: _l("Release"),
               SHIPMENT: lazy_pgettext("stock move", "Shipment"), RETURN: lazy_pgettext("stock move", "Return"), WRITE_OFF: _l("Write-off"),
               ADJUSTMENT: _l("Adjustment"), TRANSFER: _l("Transfer")}


def move_links(moves: list[dict]) -> list[dict]:
    """``{"label", "url"}`` per move, for the timelines of other plugins (the url is empty outside a
    request: jobs, the CLI and demo data have no site address to build links with)."""
    return [{"label": system_text("inventory.move_link", id=m["id"], type=MOVE_LABELS.get(m["type"], m["type"]),
                                  quantity=m["quantity"]),
             "url": path_for("inventory.product", product_id=m["product_id"], reference=m["reference"] or None)}
            for m in moves]
