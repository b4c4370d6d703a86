"""Goods on order and available to promise.

Inventory does not know who orders goods from suppliers: it asks through its hook
``erp_inventory_incoming`` (purchasing answers from its open purchase orders). When no enabled
plugin answers, :func:`incoming_by_product` says so with ``None`` and the pages show no
"On order" at all.

Available to promise (ATP) of a product:

- **available now** = on hand - reserved (every warehouse, or one);
- **available by a date** = available now + what is on order with an expected date on or before
  that date. Goods on order without an expected date are shown apart and never promised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import func, select

from erp_core.extensions import db

from ..models import Level

HOOK = "erp_inventory_incoming"


@dataclass(frozen=True)
class IncomingStock:
    """Goods on order for a product in a warehouse on one document (a purchase order): the
    value type of ``erp_inventory_incoming``."""

    product_id: int
    warehouse_id: int
    quantity: int  # still to come (ordered less received), > 0
    expected_date: date | None  # the earliest expected date of the document's lines, or None
    reference: str  # the document's number, e.g. "PO-2026-000001"
    url: str | None = None  # a link to the document (None when the reader cannot open it)


@dataclass
class OnOrder:
    """What is on order for one product: the total, the earliest expected date, the documents."""

    quantity: int = 0
    earliest: date | None = None
    sources: list[IncomingStock] = field(default_factory=list)


@dataclass(frozen=True)
class AvailableToPromise:
    """Available to promise of a product (see the module's docstring).

    ``schedule`` lists, for each expected date of goods on order (earliest first), the date and
    what is available by then (cumulative). ``undated`` is on order without an expected date.
    """

    on_hand: int
    reserved: int
    on_order: int
    undated: int
    schedule: tuple[tuple[date, int], ...]

    @property
    def available(self) -> int:
        """Available now: on hand less reserved."""
        return self.on_hand - self.reserved

    def available_by(self, when: date) -> int:
        """Available now plus what is on order and expected on or before ``when``."""
        result = self.available
        for day, total in self.schedule:
            if day <= when:
                result = total
        return result


def incoming_answered() -> bool:
    """True when an enabled plugin answers ``erp_inventory_incoming`` (pages show "On order")."""
    return bool(current_app.extensions["erp_plugins"].answerers(HOOK))


def incoming_by_product(product_ids, warehouse_id: int | None = None) -> dict[int, OnOrder] | None:
    """``{product_id: OnOrder}`` of the given products (one hook call, whatever their number);
    products with nothing on order are missing. None when no enabled plugin answers the hook."""
    ids = sorted({int(i) for i in product_ids if i})
    if not incoming_answered():
        return None
    if not ids:
        return {}
    answers = current_app.extensions["erp_plugins"].hook.erp_inventory_incoming(product_ids=ids,
                                                                               warehouse_id=warehouse_id)
    result: dict[int, OnOrder] = {}
    rows = [row for answer in answers for row in (answer or ()) if row.quantity > 0]
    for row in sorted(rows, key=lambda r: (r.expected_date or date.max, r.reference)):
        item = result.setdefault(row.product_id, OnOrder())
        item.quantity += row.quantity
        item.sources.append(row)
        if row.expected_date and (item.earliest is None or row.expected_date < item.earliest):
            item.earliest = row.expected_date
    return result


def _schedule(available: int, on_order: OnOrder | None) -> tuple[int, tuple[tuple[date, int], ...]]:
    """(undated quantity, cumulative availability per expected date)."""
    if on_order is None:
        return 0, ()
    per_day: dict[date, int] = {}
    undated = 0
    for row in on_order.sources:
        if row.expected_date is None:
            undated += row.quantity
        else:
            per_day[row.expected_date] = per_day.get(row.expected_date, 0) + row.quantity
    schedule, running = [], available
    for day in sorted(per_day):
        running += per_day[day]
        schedule.append((day, running))
    return undated, tuple(schedule)


def atp_by_product(product_ids, warehouse_id: int | None = None,
                   incoming: dict[int, OnOrder] | None = None) -> dict[int, AvailableToPromise]:
    """Available to promise of each product (two statements whatever their number: the levels,
    summed, and the hook's answer). Every asked product is in the answer (zeros without stock).
    ``incoming``: the answer of :func:`incoming_by_product` when the caller already has it."""
    ids = sorted({int(i) for i in product_ids if i})
    if not ids:
        return {}
    stmt = (select(Level.product_id, func.sum(Level.on_hand), func.sum(Level.reserved))
            .where(Level.product_id.in_(ids)).group_by(Level.product_id))
    if warehouse_id is not None:
        stmt = stmt.where(Level.warehouse_id == warehouse_id)
    levels = {pid: (int(a or 0), int(b or 0)) for pid, a, b in db.session.execute(stmt)}
    if incoming is None:
        incoming = incoming_by_product(ids, warehouse_id) or {}
    result = {}
    for pid in ids:
        on_hand, reserved = levels.get(pid, (0, 0))
        on_order = incoming.get(pid)
        undated, schedule = _schedule(on_hand - reserved, on_order)
        result[pid] = AvailableToPromise(on_hand, reserved, on_order.quantity if on_order else 0, undated, schedule)
    return result


def available_to_promise(product_id: int, warehouse_id: int | None = None,
                         incoming: dict[int, OnOrder] | None = None) -> AvailableToPromise:
    """Available to promise of one product, in every warehouse or in ``warehouse_id``:
    ``.available`` now, ``.available_by(day)`` and the dated ``.schedule``."""
    return atp_by_product([product_id], warehouse_id, incoming)[int(product_id)]


def incoming_by_level(product_ids, warehouse_id: int | None = None) -> dict | None:
    """Like :func:`incoming_by_product`, keyed ``(product_id, warehouse_id)`` for the rows of a
    stock list, plus ``(product_id, None)`` with every warehouse's total. None when no enabled
    plugin answers."""
    per_product = incoming_by_product(product_ids, warehouse_id)
    if per_product is None:
        return None
    result: dict = {}
    for pid, item in per_product.items():
        result[(pid, None)] = item
        for row in item.sources:
            part = result.setdefault((pid, row.warehouse_id), OnOrder())
            part.quantity += row.quantity
            part.sources.append(row)
            if row.expected_date and (part.earliest is None or row.expected_date < part.earliest):
                part.earliest = row.expected_date
    return result
