"""Benchmark of the finance reports over a million order lines, on SQLite and PostgreSQL.

    python bench/finance_reports.py                       # SQLite file in /tmp/finance-bench
    python bench/finance_reports.py --database postgresql://postgres@127.0.0.1:5432/erp_finance_bench
    python bench/finance_reports.py --lines 200000 --keep # smaller, and keep the database

It builds a fresh database (the PostgreSQL database is created, and dropped afterwards unless
--keep), generates customers, products, orders with their lines, payments and refunds with bulk
inserts (executemany on SQLite, COPY on PostgreSQL), runs ANALYZE, then times every report
(twice; the second, warm run is the one to read) over several ranges and filters, and prints a
table. Nothing here is used by the application.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.common import line_tax  # noqa: E402

CURRENCIES = (("CNY", 0.85), ("USD", 0.10), ("JPY", 0.05))
STATUSES = (("confirmed", 0.25), ("shipped", 0.15), ("delivered", 0.15), ("completed", 0.30), ("cancelled", 0.05),
            ("draft", 0.10))
DISCOUNTS = (Decimal("0"), Decimal("0"), Decimal("0"), Decimal("4"), Decimal("10"), Decimal("12.5"), Decimal("100"))
TZ = "Asia/Shanghai"


def _pick(rng, weighted):
    roll, total = rng.random(), 0.0
    for value, weight in weighted:
        total += weight
        if roll < total:
            return value
    return weighted[-1][0]


def _prepare_database(url: str) -> str:
    if url.startswith("sqlite"):
        path = Path(make_url(url).database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return url
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def _drop_database(url: str) -> None:
    if url.startswith("sqlite"):
        return
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def _app(url: str):
    from erp_core.app import create_app

    return create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "PLUGINS": ["orders", "finance"],
                       "LOAD_ENTRY_POINTS": False, "REDIS_URL": "", "TIMEZONE": TZ},
                      instance=Path("/tmp/finance-bench/instance"))


def _stamp(value: datetime, sqlite: bool):
    # What UTCDateTime stores: naive UTC text on SQLite, an aware timestamp on PostgreSQL.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ") if sqlite else value


COLUMNS = {
    "customer": ("orders_customer", "id, name, name_key, active, created_at, updated_at"),
    "product": ("orders_product", "id, sku, name, name_key, spec, unit, price_minor, currency, active, created_at, "
                                  "updated_at"),
    "order": ("orders_order", "id, number, status, customer_id, currency, subtotal_minor, discount_minor, "
                              "total_minor, warehouse_id, created_at, updated_at, confirmed_at, contact_name, "
                              "contact_phone, contact_phone_key, ship_line1, version"),
    "line": ("orders_order_line", "id, order_id, position, product_id, sku, name, spec, unit, quantity, "
                                  "unit_price_minor, discount_percent, line_total_minor, tax_rate_percent, "
                                  "net_minor, tax_minor, gross_minor"),
    "payment": ("finance_payment", "id, order_id, method, status, amount_minor, currency, refunded_minor, "
                                   "credit_minor, paid_at, reference, provider_ref, note, created_at, updated_at, "
                                   "created_by_name"),
    "refund": ("finance_refund", "id, payment_id, order_id, method, status, amount_minor, currency, reason, "
                                 "source_type, source_id, reference, decision_note, requested_at, refunded_at, "
                                 "decided_at, requested_by_name"),
}


class _Rows:
    """The rows of every table, built in memory with running ids."""

    def __init__(self, rng, sqlite: bool, now: datetime, n_lines: int):
        self.rng, self.sqlite, self.now, self.n_lines = rng, sqlite, now, n_lines
        self.start = now - timedelta(days=730)
        self.n_customers, self.n_products = max(n_lines // 50, 10), max(n_lines // 200, 10)
        self.rows: dict[str, list[tuple]] = {k: [] for k in COLUMNS}
        self.prices: dict[int, tuple[int, str]] = {}
        self.line_id = self.order_id = self.payment_id = self.refund_id = 0

    def stamp(self, value):
        return _stamp(value, self.sqlite)

    def masters(self) -> None:
        rng, ts_now = self.rng, self.stamp(self.now)
        for i in range(1, self.n_customers + 1):
            self.rows["customer"].append((i, f"Customer {i}", f"customer {i}", True, ts_now, ts_now))
        for i in range(1, self.n_products + 1):
            currency = _pick(rng, CURRENCIES)
            price = rng.randint(1, 200_000) if currency != "JPY" else rng.randint(100, 50_000)
            self.prices[i] = (price, currency)
            self.rows["product"].append((i, f"SKU-{i:06d}", f"Product {i}", f"product {i}", "", "pcs", price,
                                         currency, True, ts_now, ts_now))

    def lines(self) -> tuple[int, int]:
        """One order's lines; returns (subtotal, total)."""
        from erp_core.money import line_total

        rng, subtotal, total = self.rng, 0, 0
        for position in range(1, rng.randint(1, 7) + 1):
            if self.line_id >= self.n_lines:
                break
            self.line_id += 1
            product = rng.randint(1, self.n_products)
            price = self.prices[product][0]
            quantity = rng.randint(1, 20)
            discount = rng.choice(DISCOUNTS)
            amount = line_total(price, quantity, discount)
            subtotal += price * quantity
            total += amount
            tax = line_tax(amount)
            self.rows["line"].append((self.line_id, self.order_id, position, product, f"SKU-{product:06d}",
                                      f"Product {product}", "", "pcs", quantity, price, discount, amount,
                                      Decimal(13), amount - tax, tax, amount))
        return subtotal, total

    def order(self) -> None:
        rng = self.rng
        self.order_id += 1
        currency = _pick(rng, CURRENCIES)
        status = _pick(rng, STATUSES)
        created = self.start + timedelta(seconds=rng.randint(0, 730 * 86400))
        confirmed = created + timedelta(minutes=rng.randint(5, 600)) if status != "draft" else None
        if confirmed and confirmed > self.now:
            confirmed = self.now
        subtotal, total = self.lines()
        self.rows["order"].append((self.order_id, f"SO-{self.order_id:09d}", status, rng.randint(1, self.n_customers),
                                   currency, subtotal, subtotal - total, total, rng.randint(1, 3),
                                   self.stamp(created), self.stamp(created),
                                   self.stamp(confirmed) if confirmed else None, "", "", "", "1 Road", 1))
        if status in ("draft", "cancelled") or total == 0:
            return
        roll = rng.random()
        if roll < 0.15:
            return  # unpaid
        for amount in ([total] if roll > 0.35 else [total // 2]):
            self.payment(amount, currency, confirmed)

    def payment(self, amount: int, currency: str, confirmed: datetime) -> None:
        rng = self.rng
        self.payment_id += 1
        paid = min(confirmed + timedelta(hours=rng.randint(0, 24 * 40)), self.now)
        method = rng.choice(("cash", "bank_transfer", "demo_gateway"))
        refunded = 0
        if rng.random() < 0.06:
            self.refund_id += 1
            refunded = max(amount // rng.choice((1, 2, 4, 10)), 1)
            when = self.stamp(min(paid + timedelta(days=rng.randint(1, 20)), self.now))
            self.rows["refund"].append((self.refund_id, self.payment_id, self.order_id, method, "refunded", refunded,
                                        currency, "bench", "return", str(self.order_id), "", "", when, when, when,
                                        "bench"))
        self.rows["payment"].append((self.payment_id, self.order_id, method, "paid", amount, currency, refunded, 0,
                                     self.stamp(paid), "", f"TX{self.payment_id}" if method == "demo_gateway" else None,
                                     "", self.stamp(paid), self.stamp(paid), "bench"))


def _with_defaults(table: str, cols: str, rows: list[tuple]) -> tuple[str, list[tuple]]:
    """Columns left out take their model's constant default (the ORM fills them otherwise)."""
    from erp_core.extensions import db

    named = {c.strip() for c in cols.split(",")}
    extra = [(c.name, c.default.arg) for c in db.metadata.tables[table].columns
             if c.name not in named and c.default is not None and not callable(c.default.arg)]
    if not extra:
        return cols, rows
    tail = tuple(v for _n, v in extra)
    return cols + ", " + ", ".join(name for name, _v in extra), [row + tail for row in rows]


def _insert(engine, rows: dict[str, list[tuple]]) -> None:
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for key, (table, cols) in COLUMNS.items():
            cols, data = _with_defaults(table, cols, rows[key])
            if sqlite:
                marks = ", ".join("?" for _ in cols.split(","))
                for i in range(0, len(data), 50_000):
                    cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                                       [tuple(str(v) if isinstance(v, Decimal) else v for v in row)
                                        for row in data[i:i + 50_000]])
            else:
                with cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def generate(engine, n_lines: int, seed: int = 7) -> dict:
    """Fill the database; returns counts. Orders spread over the two years before today."""
    built = _Rows(random.Random(seed), engine.dialect.name == "sqlite", datetime.now(UTC).replace(microsecond=0),
                  n_lines)
    built.masters()
    while built.line_id < n_lines:
        built.order()
    _insert(engine, built.rows)
    _analyze(engine)
    return {k: len(v) for k, v in built.rows.items()}

def _analyze(engine) -> None:
    """Planner statistics (and PostgreSQL's visibility map, as autovacuum would set it)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))


def run_reports(app) -> list[tuple[str, str, float, int]]:
    from erp_core.extensions import db
    from plugins.finance import reports

    today = datetime.now(UTC).date()
    cases = [
        ("last 30 days, by day", dict(start=today - timedelta(days=29), end=today, grain="day")),
        ("last year, by day", dict(start=today - timedelta(days=364), end=today, grain="day")),
        ("two years, by week", dict(start=today - timedelta(days=730), end=today, grain="week")),
        ("two years, by month, CNY", dict(start=today - timedelta(days=730), end=today, grain="month", currency="CNY")),
        ("two years, warehouse 2, cash", dict(start=today - timedelta(days=730), end=today, grain="month",
                                               warehouse_id=2, method="cash")),
    ]
    results = []
    with app.test_request_context():
        for key, report in reports.REPORTS.items():
            for label, kw in cases:
                # as the report page does: a report without a payment-method filter never gets one
                f = reports.Filters(tz=TZ, **dict(kw, method=kw.get("method") if report.uses_method else None))
                page = (1, 50) if report.paged else None
                timings = []
                for _ in range(2):
                    began = time.perf_counter()
                    result = report.run(f, page=page)
                    if key == "receivables":
                        reports.oldest_receivables(f)
                    timings.append(time.perf_counter() - began)
                    db.session.rollback()
                results.append((key, label, timings[-1], len(result.rows)))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite:////tmp/finance-bench/bench.sqlite")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the existing data (after --keep)")
    args = parser.parse_args(argv)
    os.environ.setdefault("ERP_SECRET_KEY", "bench")

    from erp_core.extensions import db

    if not args.reuse:
        _prepare_database(args.database)
    app = _app(args.database)
    with app.app_context():
        engine = db.engine
        if args.reuse:  # the finance indexes as the models now declare them
            with engine.begin() as conn:
                for table in ("finance_payment", "finance_refund"):
                    for index in db.metadata.tables[table].indexes:
                        conn.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
                        index.create(conn)
            _analyze(engine)
        else:
            db.metadata.create_all(engine)
            began = time.perf_counter()
            counts = generate(engine, args.lines)
            print(f"generated {counts} in {time.perf_counter() - began:.1f} s on {engine.dialect.name}")
    results = run_reports(app)
    width = max(len(f"{k} / {label}") for k, label, *_ in results)
    print(f"\n{'report / case':<{width}}  {'seconds':>8}  rows")
    for key, label, seconds, n in results:
        print(f"{key + ' / ' + label:<{width}}  {seconds:8.3f}  {n}")
    print(f"slowest: {max(r[2] for r in results):.3f} s")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if not args.keep:
        _drop_database(args.database)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
