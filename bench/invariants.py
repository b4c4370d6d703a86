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


def problems(app, limit: int = 20) -> list[str]:
    """Everything that breaks an invariant (at most ``limit`` entries per kind)."""
    from erp_core.extensions import db
    from erp_core.money import line_total
    from plugins.inventory.services import check_ledger

    found: list[str] = []

    def note(kind: list, message: str) -> None:
        if len(kind) < limit:
            kind.append(message)

    with app.app_context():
        conn = db.session.connection()
        # 1. order numbers
        numbers = defaultdict(list)
        bad: list[str] = []
        for (number,) in conn.execute(text("SELECT number FROM orders_order")):
            match = NUMBER.match(number)
            if not match:
                note(bad, f"order number {number} is not SO-<year>-<n>")
                continue
            numbers[match.group(1)].append(int(match.group(2)))
        counters = {k.rsplit(".", 1)[1]: v for k, v in conn.execute(text(
            "SELECT key, value FROM core_counter WHERE key LIKE 'orders.number.%'"))}
        for year, seqs in numbers.items():
            if len(seqs) != len(set(seqs)):
                note(bad, f"order numbers of {year} repeat")
            if sorted(seqs) != list(range(1, len(seqs) + 1)):
                note(bad, f"order numbers of {year} have gaps")
            if counters.get(year) != max(seqs):
                note(bad, f"counter of {year} is {counters.get(year)}, highest number {max(seqs)}")
        found += bad
        # 2. totals
        bad = []
        sums: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for order_id, price, quantity, discount, amount in conn.execute(text(
                "SELECT order_id, unit_price_minor, quantity, discount_percent, line_total_minor "
                "FROM orders_order_line")):
            if line_total(price, quantity, discount) != amount:
                note(bad, f"a line of order {order_id} totals {amount}, not {line_total(price, quantity, discount)}")
            sums[order_id][0] += price * quantity
            sums[order_id][1] += amount
        for order_id, subtotal, discount, total in conn.execute(text(
                "SELECT id, subtotal_minor, discount_minor, total_minor FROM orders_order")):
            gross, net = sums.get(order_id, (0, 0))
            if (subtotal, discount, total) != (gross, gross - net, net):
                note(bad, f"order {order_id} totals {subtotal}/{discount}/{total}, lines say {gross}/{gross - net}/{net}")
        found += bad
        # 3. stock: levels = ledger sums; running totals
        found += [f"stock {d.product_id}@{d.warehouse_id}: {d.what} level {d.level} ledger {d.ledger}"
                  for d in check_ledger()[:limit]]
        bad = []
        running: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
        for move_id, pid, wid, d_on, d_res, on_after, res_after in conn.execute(text(
                "SELECT id, product_id, warehouse_id, on_hand_delta, reserved_delta, on_hand_after, reserved_after "
                "FROM inventory_move ORDER BY id")):
            r = running[(pid, wid)]
            r[0] += d_on
            r[1] += d_res
            if (r[0], r[1]) != (on_after, res_after) or not 0 <= r[1] <= r[0]:
                note(bad, f"move {move_id}: after ({on_after}, {res_after}), ledger says ({r[0]}, {r[1]})")
        found += bad
        # 4. reservations of holding orders
        bad = []
        held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for order_id, pid, wid, reserved, warehouse in conn.execute(text(
                "SELECT m.order_id, m.product_id, m.warehouse_id, SUM(m.reserved_delta), o.warehouse_id "
                "FROM inventory_move m JOIN orders_order o ON o.id = m.order_id "
                "WHERE o.status IN ('confirmed', 'partially_shipped') "
                "GROUP BY m.order_id, m.product_id, m.warehouse_id, o.warehouse_id")):
            if reserved and wid != warehouse:
                note(bad, f"order {order_id} holds stock in warehouse {wid}, ships from {warehouse}")
            held[order_id][pid] += int(reserved)
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
        for order_id in set(wanted) | set(held):
            want = {p: q for p, q in wanted[order_id].items() if q}
            have = {p: q for p, q in held[order_id].items() if q}
            if want != have:
                note(bad, f"order {order_id} holds {have}, needs {want}")
        found += bad
        # 5. payments and refunds
        for (payment_id,) in conn.execute(text(
                "SELECT p.id FROM finance_payment p WHERE p.refunded_minor > p.amount_minor OR p.refunded_minor <> "
                "(SELECT COALESCE(SUM(r.amount_minor), 0) FROM finance_refund r WHERE r.payment_id = p.id "
                "AND r.status IN ('requested', 'refunded'))")).fetchmany(limit):
            found.append(f"payment {payment_id}: refunds disagree with its refunded amount")
        db.session.rollback()
    return found
