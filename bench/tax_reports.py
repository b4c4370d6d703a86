"""Benchmark of the tax, margin and accounting reports over a million order lines.

    python bench/tax_reports.py                       # SQLite file in /tmp/finance-bench
    python bench/tax_reports.py --database postgresql://postgres@127.0.0.1:5432/erp_tax_bench
    python bench/tax_reports.py --lines 200000 --keep # smaller, and keep the database

It builds the data of ``bench/finance_reports.py`` (customers, products, orders with their lines,
payments and refunds, bulk inserted), then gives the lines the tax amounts the tax rule stores
(rates 13, 9, 6 and 0 %, one line in eleven exempt; prices include tax: tax = gross x p / (100 + p)
rounded half-up, net = gross - tax) and four products in five a cost price, all with one SQL
UPDATE each, runs ANALYZE, and times every report of ``plugins.finance.reports_tax`` and
``plugins.finance.reports_margin`` (twice; the second, warm run is the one to read) over several
ranges and filters. The target is under 3 s a report. Nothing here is used by the application.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from bench import finance_reports as base  # noqa: E402

TARGET_SECONDS = 3.0
RATE = "(CASE id % 7 WHEN 0 THEN 9 WHEN 1 THEN 6 WHEN 2 THEN 0 ELSE 13 END)"


def _tax_columns_start_at_zero() -> None:
    """``finance_reports.generate`` writes the columns it knows and, for the others, their model's
    constant default: the line amounts have none (the tax rule always sets them), so they start
    at 0 here and :func:`add_tax_and_costs` fills them."""
    from sqlalchemy import ColumnDefault

    from erp_core.extensions import db

    for name in ("net_minor", "tax_minor", "gross_minor"):
        column = db.metadata.tables["orders_order_line"].c[name]
        if column.default is None:
            column.default = ColumnDefault(0)


def add_tax_and_costs(engine) -> None:
    """The stored tax amounts of every line (prices include tax) and cost prices of products."""
    # half-up in integers: floor((2 x gross x p + (100 + p)) / (2 x (100 + p))); amounts are >= 0
    tax = f"((2 * line_total_minor * {RATE} + (100 + {RATE})) / (2 * (100 + {RATE})))"
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE orders_order_line SET tax_exempt = (id % 11 = 0), "
                          f"tax_rate_percent = CASE WHEN id % 11 = 0 THEN 0 ELSE {RATE} END, "
                          f"gross_minor = line_total_minor, "
                          f"tax_minor = CASE WHEN id % 11 = 0 THEN 0 ELSE {tax} END"))
        conn.execute(text("UPDATE orders_order_line SET net_minor = gross_minor - tax_minor"))
        conn.execute(text("UPDATE orders_order SET tax_minor = (SELECT COALESCE(SUM(l.tax_minor), 0) "
                          "FROM orders_order_line l WHERE l.order_id = orders_order.id)"))
        conn.execute(text("UPDATE orders_product SET cost_minor = price_minor * 6 / 10 WHERE id % 5 <> 0"))


def run_reports(app) -> list[tuple[str, str, float, int]]:
    from erp_core.extensions import db
    from plugins.finance import reports
    from plugins.finance.reports_margin import MARGIN_REPORTS
    from plugins.finance.reports_tax import TAX_REPORTS

    today = datetime.now(UTC).date()
    cases = [
        ("last 30 days, by day", dict(start=today - timedelta(days=29), end=today, grain="day")),
        ("last year, by day", dict(start=today - timedelta(days=364), end=today, grain="day")),
        ("two years, by month", dict(start=today - timedelta(days=730), end=today, grain="month")),
        ("two years, by month, CNY", dict(start=today - timedelta(days=730), end=today, grain="month", currency="CNY")),
    ]
    results = []
    with app.test_request_context():
        for report in (*TAX_REPORTS, *MARGIN_REPORTS):
            for label, kw in cases:
                f = reports.Filters(tz=base.TZ, **kw)
                page = (1, 50) if report.paged else None
                timings = []
                for _ in range(2):
                    began = time.perf_counter()
                    result = report.run(f, page=page)
                    timings.append(time.perf_counter() - began)
                    db.session.rollback()
                results.append((report.key, label, timings[-1], len(result.rows)))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="sqlite:////tmp/finance-bench/tax.sqlite")
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the existing data (after --keep)")
    args = parser.parse_args(argv)
    os.environ.setdefault("ERP_SECRET_KEY", "bench")

    from erp_core.extensions import db

    if not args.reuse:
        base._prepare_database(args.database)
    app = base._app(args.database)
    with app.app_context():
        engine = db.engine
        if not args.reuse:
            db.metadata.create_all(engine)
            began = time.perf_counter()
            _tax_columns_start_at_zero()
            counts = base.generate(engine, args.lines)
            add_tax_and_costs(engine)
            base._analyze(engine)
            print(f"generated {counts} in {time.perf_counter() - began:.1f} s on {engine.dialect.name}")
    results = run_reports(app)
    width = max(len(f"{k} / {label}") for k, label, *_ in results)
    print(f"\n{'report / case':<{width}}  {'seconds':>8}  rows")
    for key, label, seconds, n in results:
        print(f"{key + ' / ' + label:<{width}}  {seconds:8.3f}  {n}")
    slowest = max(r[2] for r in results)
    print(f"slowest: {slowest:.3f} s (target < {TARGET_SECONDS:.0f} s: {'met' if slowest < TARGET_SECONDS else 'NOT met'})")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if not args.keep:
        base._drop_database(args.database)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
