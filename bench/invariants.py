"""The invariants of a site, checked over all its data (after generating, after a benchmark run).

``problems(app)`` returns a list of what is wrong (empty: all hold):

- order numbers SO-<year>-<n> are unique, and per year they run 1..counter with no gap;
- each order's subtotal, discount and total are the sums of its lines (half-up per line);
- every stock level equals the sum of its moves, and no order outside the holding states keeps a
  reservation (``erp inventory check``); each move's running totals follow the ledger in id order;
- every confirmed (or partly shipped) order holds exactly what it still needs, in its warehouse;
- payments never refund more than they took.
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import text

NUMBER = re.compile(r"^SO-(\d{4})-(\d{6,})$")


class _Found(list):
    """Messages of one invariant, at most ``limit`` of them."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def note(self, message: str) -> None:
        if len(self) < self.limit:
            self.append(message)


def problems(app, limit: int = 20) -> list[str]:
    """Everything that breaks an invariant (at most ``limit`` entries per kind)."""
    from erp_core.extensions import db

    found: list[str] = []
    with app.app_context():
        conn = db.session.connection()
        for check in (_order_numbers, _order_totals, _stock_ledger, _move_running_totals, _reservations,
                      _refunds):
            found += check(conn, limit)
        db.session.rollback()
    return found


def _order_numbers(conn, limit: int) -> list[str]:
    """Order numbers SO-<year>-<n> are unique and run 1..counter per year without a gap."""
    bad = _Found(limit)
    numbers = defaultdict(list)
    for (number,) in conn.execute(text("SELECT number FROM orders_order")):
        match = NUMBER.match(number)
        if not match:
            bad.note(f"order number {number} is not SO-<year>-<n>")
            continue
        numbers[match.group(1)].append(int(match.group(2)))
    counters = {k.rsplit(".", 1)[1]: v for k, v in conn.execute(text(
        "SELECT key, value FROM core_counter WHERE key LIKE 'orders.number.%'"))}
    for year, seqs in numbers.items():
        if len(seqs) != len(set(seqs)):
            bad.note(f"order numbers of {year} repeat")
        if sorted(seqs) != list(range(1, len(seqs) + 1)):
            bad.note(f"order numbers of {year} have gaps")
        if counters.get(year) != max(seqs):
            bad.note(f"counter of {year} is {counters.get(year)}, highest number {max(seqs)}")
    return bad


def _order_totals(conn, limit: int) -> list[str]:
    """Each order's subtotal, discount and total are the sums of its lines (half-up per line)."""
    from erp_core.money import line_total

    bad = _Found(limit)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for order_id, price, quantity, discount, amount in conn.execute(text(
            "SELECT order_id, unit_price_minor, quantity, discount_percent, line_total_minor "
            "FROM orders_order_line")):
        if line_total(price, quantity, discount) != amount:
            bad.note(f"a line of order {order_id} totals {amount}, not {line_total(price, quantity, discount)}")
        sums[order_id][0] += price * quantity
        sums[order_id][1] += amount
    for order_id, subtotal, discount, total in conn.execute(text(
            "SELECT id, subtotal_minor, discount_minor, total_minor FROM orders_order")):
        gross, net = sums.get(order_id, (0, 0))
        if (subtotal, discount, total) != (gross, gross - net, net):
            bad.note(f"order {order_id} totals {subtotal}/{discount}/{total}, lines say {gross}/{gross - net}/{net}")
    return bad


def _stock_ledger(conn, limit: int) -> list[str]:
    """Every stock level equals the sum of its moves (``erp inventory check``)."""
    from plugins.inventory.services import check_ledger

    return [f"stock {d.product_id}@{d.warehouse_id}: {d.what} level {d.level} ledger {d.ledger}"
            for d in check_ledger()[:limit]]


def _move_running_totals(conn, limit: int) -> list[str]:
    """Each move's running totals follow the ledger in id order, and never go negative."""
    bad = _Found(limit)
    running: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    for move_id, pid, wid, d_on, d_res, on_after, res_after in conn.execute(text(
            "SELECT id, product_id, warehouse_id, on_hand_delta, reserved_delta, on_hand_after, reserved_after "
            "FROM inventory_move ORDER BY id")):
        r = running[(pid, wid)]
        r[0] += d_on
        r[1] += d_res
        if (r[0], r[1]) != (on_after, res_after) or not 0 <= r[1] <= r[0]:
            bad.note(f"move {move_id}: after ({on_after}, {res_after}), ledger says ({r[0]}, {r[1]})")
    return bad


def _reservations(conn, limit: int) -> list[str]:
    """Every confirmed (or partly shipped) order holds exactly what it still needs, in its warehouse."""
    bad = _Found(limit)
    held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, pid, wid, reserved, warehouse in conn.execute(text(
            "SELECT m.order_id, m.product_id, m.warehouse_id, SUM(m.reserved_delta), o.warehouse_id "
            "FROM inventory_move m JOIN orders_order o ON o.id = m.order_id "
            "WHERE o.status IN ('confirmed', 'partially_shipped') "
            "GROUP BY m.order_id, m.product_id, m.warehouse_id, o.warehouse_id")):
        if reserved and wid != warehouse:
            bad.note(f"order {order_id} holds stock in warehouse {wid}, ships from {warehouse}")
        held[order_id][pid] += int(reserved)
    wanted = _still_needed(conn)
    for order_id in set(wanted) | set(held):
        want = {p: q for p, q in wanted[order_id].items() if q}
        have = {p: q for p, q in held[order_id].items() if q}
        if want != have:
            bad.note(f"order {order_id} holds {have}, needs {want}")
    return bad


def _still_needed(conn) -> dict[int, dict[int, int]]:
    """``{order_id: {product_id: quantity}}`` ordered and not shipped yet, of the holding orders."""
    shipped: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, pid, quantity in conn.execute(text(
            "SELECT m.order_id, m.product_id, SUM(m.quantity) FROM inventory_move m "
            "JOIN orders_order o ON o.id = m.order_id WHERE o.status = 'partially_shipped' "
            "AND m.type = 'shipment' GROUP BY m.order_id, m.product_id")):
        shipped[order_id][pid] += int(quantity)
    wanted: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order_id, pid, quantity in conn.execute(text(
            "SELECT l.order_id, l.product_id, SUM(l.quantity) FROM orders_order_line l "
            "JOIN orders_order o ON o.id = l.order_id WHERE o.status IN ('confirmed', 'partially_shipped') "
            "GROUP BY l.order_id, l.product_id")):
        wanted[order_id][pid] = max(0, int(quantity) - shipped[order_id][pid])
    return wanted


def _refunds(conn, limit: int) -> list[str]:
    """Payments never refund more than they took, and their refunded amount is their refunds' sum."""
    return [f"payment {payment_id}: refunds disagree with its refunded amount" for (payment_id,) in conn.execute(text(
        "SELECT p.id FROM finance_payment p WHERE p.refunded_minor > p.amount_minor OR p.refunded_minor <> "
        "(SELECT COALESCE(SUM(r.amount_minor), 0) FROM finance_refund r WHERE r.payment_id = p.id "
        "AND r.status IN ('requested', 'refunded'))")).fetchmany(limit)]
