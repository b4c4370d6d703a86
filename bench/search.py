"""How fast is the header search, and the order list's ``q=`` search, on a generated site?

    python -m bench.generate --orders 100000 --database-url URL      # first, once
    python -m bench.search --database-url URL [--rounds 200]

Runs :func:`erp_core.search.run_search` (every enabled plugin's ``erp_search``: orders,
customers, products, shipments, tickets) for a user holding every permission, with queries
taken from the data: whole and partial order numbers, shipment and ticket numbers, customer
names (substrings), phone numbers, barcodes, product codes and names, and nonsense. Then the
order list's first page with ``q=`` (its count and its 25 rows), the way the page runs it.
Prints p50, p95 and max per kind in milliseconds. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

from bench.common import build_app


class _AllowAll:
    """A user who may see everything (the search checks ``can``)."""

    is_authenticated = True

    def can(self, _permission: str) -> bool:
        return True


def _samples(db, rng: random.Random, rounds: int) -> dict[str, list[str]]:
    def column(sql: str) -> list[str]:
        return [row[0] for row in db.session.execute(text(sql)) if row[0]]

    orders = column("SELECT number FROM orders_order ORDER BY id DESC LIMIT 5000")
    shipments = column("SELECT number FROM logistics_shipment ORDER BY id DESC LIMIT 2000")
    tickets = column("SELECT number FROM support_ticket ORDER BY id DESC LIMIT 2000")
    names = column("SELECT name FROM orders_customer ORDER BY id LIMIT 5000")
    phones = column("SELECT phone FROM orders_customer WHERE phone IS NOT NULL ORDER BY id LIMIT 5000")
    barcodes = column("SELECT barcode FROM orders_product WHERE barcode IS NOT NULL ORDER BY id LIMIT 5000")
    products = column("SELECT name FROM orders_product ORDER BY id LIMIT 5000")
    pick = rng.choice
    kinds = {
        "order number": lambda: pick(orders),
        "order number prefix": lambda: pick(orders)[:10],
        "shipment number": lambda: pick(shipments) if shipments else "SH",
        "ticket number": lambda: pick(tickets) if tickets else "TK",
        "customer name": lambda: pick(names),
        "customer name part": lambda: pick(names)[1:] or pick(names),
        "phone": lambda: pick(phones),
        "barcode": lambda: pick(barcodes) if barcodes else "6901234567892",
        "product name part": lambda: pick(products).split()[-1],
        "nothing": lambda: f"zz{rng.randint(0, 10**6)}",
    }
    return {kind: [make() for _ in range(rounds)] for kind, make in kinds.items()}


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _line(kind: str, times: list[float]) -> str:
    times = sorted(times)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return f"{kind:28s} p50 {statistics.median(times):7.1f}  p95 {p95:7.1f}  max {times[-1]:7.1f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="sqlite:////tmp/erp-bench/bench.sqlite")
    parser.add_argument("--instance", default="/tmp/erp-bench/instance")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)

    from erp_core.extensions import db
    from erp_core.search import run_search
    from plugins.orders import queries

    app = build_app(args.database_url, Path(args.instance), migrate=True)
    user = _AllowAll()
    with app.test_request_context("/search"):
        count = db.session.execute(text("SELECT count(*) FROM orders_order")).scalar()
        print(f"{args.database_url.split('://')[0]}: {count} orders; {args.rounds} queries per kind; ms")
        samples = _samples(db, random.Random(args.seed), args.rounds)
        every = []
        print("header search (run_search, every plugin)")
        for kind, queries_of_kind in samples.items():
            times = [_timed(lambda q=q: run_search(q, user)) for q in queries_of_kind]
            db.session.rollback()
            every.extend(times)
            print("  " + _line(kind, times))
        print("  " + _line("all kinds", every))
        every = []
        print("order list q= (count + first 25 rows)")
        for kind in ("order number", "order number prefix", "customer name", "phone", "nothing"):
            def page(q):
                f = queries.OrderFilter(q=q)
                db.session.execute(queries.order_count(f)).scalar()
                db.session.scalars(queries.order_select(f).order_by(text("orders_order.created_at DESC"))
                                   .limit(25)).unique().all()
            times = [_timed(lambda q=q: page(q)) for q in samples[kind][: max(20, args.rounds // 4)]]
            db.session.rollback()
            every.extend(times)
            print("  " + _line(kind, times))
        print("  " + _line("all kinds", every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
