"""Finance reports (财务报表): every number is an SQL aggregate computed by the database.

The shared pieces (filters, local periods, columns, the SQL building blocks) and the two views of
revenue are described in :mod:`plugins.finance.reports_base`; the tax, margin and accounting
reports live in :mod:`plugins.finance.reports_tax`. ``REPORTS`` lists every report in the order
the pages show them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from sqlalchemy import case, func, literal, literal_column, select, union_all

from erp_core.extensions import db
from erp_core.timeutil import local_day_bounds
from plugins.orders.public import Customer, Order, OrderLine, Product

from . import states
from .models import Payment, Refund
from .reports_base import (  # noqa: F401  (re-exported: the reports' public names)
    AGE_BUCKETS,
    AGE_LABELS,
    CASH_COLUMNS,
    CURRENCY,
    GRAIN_LABELS,
    GRAINS,
    MAX_PERIODS,
    ORDER_TOTALS,
    ORDERS,
    PERIOD,
    Column,
    Filters,
    Period,
    Report,
    Result,
    _bounds,
    _materialized,
    _payment_filters,
    _ranking,
    _ranking_chart,
    _series_chart,
    _totals,
    period_index,
    periods,
    sale_orders,
)
from .reports_margin import MARGIN_REPORTS
from .reports_tax import TAX_REPORTS

# ----------------------------------------------------------------------------- the reports


def run_takings(f: Filters, page=None) -> Result:
    items = periods(f.start, f.end, f.grain, f.tz)
    bounds = _bounds(items)
    start, end = bounds[0], bounds[-1]
    received = _payment_filters(
        select(period_index(Payment.paid_at, bounds).label("p"), Payment.currency.label("currency"),
               Payment.amount_minor.label("received"), literal(0).label("refunded"),
               literal(1).label("n_pay"), literal(0).label("n_ref"))
        .where(Payment.status == states.PAID, Payment.paid_at >= start, Payment.paid_at < end), f)
    refunded = _payment_filters(
        select(period_index(Refund.refunded_at, bounds).label("p"), Refund.currency.label("currency"),
               literal(0).label("received"), Refund.amount_minor.label("refunded"),
               literal(0).label("n_pay"), literal(1).label("n_ref"))
        .where(Refund.status == states.REFUNDED, Refund.refunded_at >= start, Refund.refunded_at < end), f,
        table=Refund)
    both = union_all(received, refunded).subquery()
    stmt = (select(both.c.p, both.c.currency, func.sum(both.c.n_pay), func.sum(both.c.received),
                   func.sum(both.c.n_ref), func.sum(both.c.refunded))
            .group_by(both.c.p, both.c.currency).order_by(both.c.p, both.c.currency))
    rows = []
    for p, currency, n_pay, got, n_ref, gave in db.session.execute(stmt):
        got, gave = int(got or 0), int(gave or 0)
        rows.append({"period": items[p].label, "currency": currency, "payments": int(n_pay or 0), "received": got,
                     "refunds": int(n_ref or 0), "refunded": gave, "net": got - gave})
    columns = [PERIOD, CURRENCY, *CASH_COLUMNS]
    return Result(columns, rows, totals=_totals(rows, ["payments", "received", "refunds", "refunded", "net"]),
                  chart=_series_chart(items, rows, [("received", CASH_COLUMNS[1].label),
                                                    ("refunded", CASH_COLUMNS[3].label)]))


def run_sales(f: Filters, page=None) -> Result:
    items = periods(f.start, f.end, f.grain, f.tz)
    sale = sale_orders(f)
    inner = select(period_index(sale.c.confirmed_at, _bounds(items)).label("p"), sale.c.currency, sale.c.total,
                   sale.c.discount).subquery()
    stmt = (select(inner.c.p, inner.c.currency, func.count(), func.sum(inner.c.total), func.sum(inner.c.discount))
            .group_by(inner.c.p, inner.c.currency).order_by(inner.c.p, inner.c.currency))
    rows = [{"period": items[p].label, "currency": currency, "orders": int(n), "sales": int(total or 0),
             "discount": int(discount or 0)}
            for p, currency, n, total, discount in db.session.execute(stmt)]
    columns = [PERIOD, CURRENCY, ORDERS, ORDER_TOTALS, Column("discount", _pl("finance", "Discounts given"), "money")]
    return Result(columns, rows, totals=_totals(rows, ["orders", "sales", "discount"]),
                  chart=_series_chart(items, rows, [("sales", _pl("finance", "Order totals"))], kind="line"))


def run_methods(f: Filters, page=None) -> Result:
    start, end = f.range_utc
    received = _payment_filters(
        select(Payment.method.label("method"), Payment.currency.label("currency"),
               Payment.amount_minor.label("received"), literal(0).label("refunded"),
               literal(1).label("n_pay"), literal(0).label("n_ref"))
        .where(Payment.status == states.PAID, Payment.paid_at >= start, Payment.paid_at < end), f)
    refunded = _payment_filters(
        select(Refund.method.label("method"), Refund.currency.label("currency"),
               literal(0).label("received"), Refund.amount_minor.label("refunded"),
               literal(0).label("n_pay"), literal(1).label("n_ref"))
        .where(Refund.status == states.REFUNDED, Refund.refunded_at >= start, Refund.refunded_at < end), f,
        table=Refund)
    both = union_all(received, refunded).subquery()
    stmt = (select(both.c.method, both.c.currency, func.sum(both.c.n_pay), func.sum(both.c.received),
                   func.sum(both.c.n_ref), func.sum(both.c.refunded))
            .group_by(both.c.method, both.c.currency).order_by(both.c.currency, func.sum(both.c.received).desc()))
    from .services import method_labels

    labels = method_labels()
    rows = []
    for method, currency, n_pay, got, n_ref, gave in db.session.execute(stmt):
        got, gave = int(got or 0), int(gave or 0)
        rows.append({"method": labels.get(method, method), "currency": currency, "payments": int(n_pay or 0),
                     "received": got, "refunds": int(n_ref or 0), "refunded": gave, "net": got - gave})
    columns = [Column("method", _pl("finance", "Payment method")), CURRENCY, *CASH_COLUMNS]
    return Result(columns, rows, totals=_totals(rows, ["payments", "received", "refunds", "refunded", "net"]),
                  chart=_ranking_chart(rows, "method", "net", _pl("finance", "Net takings")))


def run_products(f: Filters, page=None) -> Result:
    sale = sale_orders(f)
    agg = _materialized(
        select(OrderLine.product_id.label("product_id"), sale.c.currency.label("currency"),
               func.sum(OrderLine.quantity).label("quantity"), func.count().label("lines"),
               func.sum(OrderLine.line_total_minor).label("revenue"))
        .select_from(sale).join(OrderLine, OrderLine.order_id == sale.c.id)
        .group_by(OrderLine.product_id, sale.c.currency), "product_sales")
    found, counted = _ranking(agg, [("sku", Product.sku), ("product", Product.name)],
                              [(Product, Product.id == agg.c.product_id)],
                              [agg.c.currency, agg.c.revenue.desc(), Product.sku], ["quantity", "lines", "revenue"],
                              page)
    rows = [{"sku": r["sku"], "product": r["product"], "currency": r["currency"], "quantity": int(r["quantity"]),
             "lines": int(r["lines"]), "revenue": int(r["revenue"] or 0)} for r in found]
    totals = [{"currency": t["currency"], "quantity": int(t["quantity"] or 0), "revenue": int(t["revenue"] or 0)}
              for t in counted]
    columns = [Column("sku", _pl("finance", "SKU")), Column("product", _pl("finance", "Product")), CURRENCY,
               Column("quantity", _pl("finance", "Quantity"), "int"),
               Column("lines", _pl("finance", "Order lines"), "int"),
               Column("revenue", _l("Sales (order lines)"), "money")]
    return Result(columns, rows, total_rows=sum(int(t["n"]) for t in counted), totals=totals,
                  chart=_ranking_chart(rows, "sku", "revenue", _pl("finance", "Sales")))


def run_customers(f: Filters, page=None) -> Result:
    sale = sale_orders(f)
    agg = _materialized(
        select(sale.c.customer_id.label("customer_id"), sale.c.currency.label("currency"),
               func.count().label("orders"), func.sum(sale.c.total).label("sales"))
        .group_by(sale.c.customer_id, sale.c.currency), "customer_sales")
    found, counted = _ranking(agg, [("customer", Customer.name)], [(Customer, Customer.id == agg.c.customer_id)],
                              [agg.c.currency, agg.c.sales.desc(), Customer.name, Customer.id], ["orders", "sales"],
                              page)
    rows = [{"customer": r["customer"], "currency": r["currency"], "orders": int(r["orders"]),
             "sales": int(r["sales"] or 0)} for r in found]
    totals = [{"currency": t["currency"], "orders": int(t["orders"] or 0), "sales": int(t["sales"] or 0)}
              for t in counted]
    columns = [Column("customer", _pl("finance", "Customer")), CURRENCY, ORDERS, ORDER_TOTALS]
    return Result(columns, rows, total_rows=sum(int(t["n"]) for t in counted), totals=totals,
                  chart=_ranking_chart(rows, "customer", "sales", _pl("finance", "Order totals")))


def run_refunds(f: Filters, page=None) -> Result:
    items = periods(f.start, f.end, f.grain, f.tz)
    bounds = _bounds(items)
    inner = _payment_filters(
        select(period_index(Refund.refunded_at, bounds).label("p"), Refund.currency.label("currency"),
               Refund.source_type.label("source"), Refund.amount_minor.label("amount"))
        .where(Refund.status == states.REFUNDED, Refund.refunded_at >= bounds[0], Refund.refunded_at < bounds[-1]),
        f, table=Refund).subquery()
    stmt = (select(inner.c.p, inner.c.currency, inner.c.source, func.count(), func.sum(inner.c.amount))
            .group_by(inner.c.p, inner.c.currency, inner.c.source)
            .order_by(inner.c.p, inner.c.currency, inner.c.source))
    rows = [{"period": items[p].label, "currency": currency, "source": str(states.SOURCE_LABELS.get(source, source)),
             "refunds": int(n), "refunded": int(amount or 0)}
            for p, currency, source, n, amount in db.session.execute(stmt)]
    columns = [PERIOD, CURRENCY, Column("source", _pl("finance", "Cause")), CASH_COLUMNS[2], CASH_COLUMNS[3]]
    # the chart stacks causes per period
    chart_rows: dict[tuple, dict] = {}
    for row in rows:
        key = (row["period"], row["currency"])
        chart_rows.setdefault(key, {"period": row["period"], "currency": row["currency"], "refunded": 0})
        chart_rows[key]["refunded"] += row["refunded"]
    return Result(columns, rows, totals=_totals(rows, ["refunds", "refunded"]),
                  chart=_series_chart(items, list(chart_rows.values()), [("refunded", _pl("finance", "Refunded"))]))


def age_limits(as_of: date, tz: str) -> list[datetime]:
    """UTC instants where orders become 31, 61 and 91 days old on ``as_of`` (local days)."""
    return [local_day_bounds(as_of - timedelta(days=n), tz)[0] for n in (30, 60, 90)]


def receivables_query(f: Filters):
    """Confirmed, not cancelled orders with something still owed at the end of ``f.end``:
    ``(order_id, number, currency, confirmed_at, outstanding, bucket, customer_id)``."""
    as_of = local_day_bounds(f.end, f.tz)[1]
    t30, t60, t90 = age_limits(f.end, f.tz)
    sale = sale_orders(f, until_only=True)
    # What each order paid. SQLite: a lookup per order on the covering index
    # ix_finance_payment_order (order_id, status, paid_at, amount_minor); joined with all payments
    # grouped by order, its planner scanned that whole set once per order when a filter (warehouse)
    # left few orders. PostgreSQL hash-joins the grouped payments, which is faster there than a
    # lookup per order; both give the same numbers (tests/finance/test_reports.py on both).
    columns = (sale.c.id.label("order_id"), sale.c.number.label("number"), sale.c.currency.label("currency"),
               sale.c.confirmed_at.label("confirmed_at"))
    if db.session.get_bind().dialect.name == "sqlite":
        paid = (select(func.coalesce(func.sum(Payment.amount_minor), 0))
                .where(Payment.order_id == sale.c.id, Payment.status == states.PAID, Payment.paid_at < as_of)
                .correlate(sale).scalar_subquery())
        owed = select(*columns, (sale.c.total - paid).label("outstanding"),
                      sale.c.customer_id.label("customer_id")).cte("owed_by_order")
    else:
        grouped = (select(Payment.order_id.label("order_id"), func.sum(Payment.amount_minor).label("paid"))
                   .where(Payment.status == states.PAID, Payment.paid_at < as_of)
                   .group_by(Payment.order_id).cte("paid_by_order"))
        owed = (select(*columns, (sale.c.total - func.coalesce(grouped.c.paid, 0)).label("outstanding"),
                       sale.c.customer_id.label("customer_id"))
                .select_from(sale).outerjoin(grouped, grouped.c.order_id == sale.c.id).cte("owed_by_order"))
    bucket = case((owed.c.confirmed_at >= t30, literal_column("0")), (owed.c.confirmed_at >= t60, literal_column("1")),
                  (owed.c.confirmed_at >= t90, literal_column("2")), else_=literal_column("3"))
    return (select(owed.c.order_id, owed.c.number, owed.c.currency, owed.c.confirmed_at, owed.c.outstanding,
                   bucket.label("bucket"), owed.c.customer_id)
            .where(owed.c.outstanding > 0).subquery())


def run_receivables(f: Filters, page=None) -> Result:
    sub = receivables_query(f)
    stmt = (select(sub.c.currency, sub.c.bucket, func.count(), func.sum(sub.c.outstanding))
            .group_by(sub.c.currency, sub.c.bucket).order_by(sub.c.currency, sub.c.bucket))
    rows = [{"currency": currency, "age": str(AGE_LABELS[AGE_BUCKETS[int(b)]]), "bucket": AGE_BUCKETS[int(b)],
             "orders": int(n), "outstanding": int(amount or 0)}
            for currency, b, n, amount in db.session.execute(stmt)]
    columns = [CURRENCY, Column("age", _l("Age since confirmation")), ORDERS,
               Column("outstanding", _pl("finance", "Still due"), "money")]
    labels = [str(AGE_LABELS[b]) for b in AGE_BUCKETS]
    datasets = []
    for currency in sorted({r["currency"] for r in rows}):
        values = [0] * len(AGE_BUCKETS)
        for row in rows:
            if row["currency"] == currency:
                values[AGE_BUCKETS.index(row["bucket"])] = row["outstanding"]
        datasets.append({"label": f"{_pl('finance', 'Still due')} ({currency})", "currency": currency, "minor": values})
    return Result(columns, rows, totals=_totals(rows, ["orders", "outstanding"]),
                  chart={"type": "bar", "labels": labels, "datasets": datasets})


def oldest_receivables(f: Filters, limit: int = 50) -> list:
    """The oldest orders still owing money at the end of ``f.end`` (for the receivables page)."""
    sub = receivables_query(f)
    stmt = (select(sub.c.order_id, sub.c.number, sub.c.currency, sub.c.confirmed_at, sub.c.outstanding,
                   Customer.name)
            .join(Customer, Customer.id == sub.c.customer_id)
            .order_by(sub.c.confirmed_at, sub.c.order_id).limit(limit))
    return db.session.execute(stmt).all()


REPORTS: dict[str, Report] = {r.key: r for r in (
    Report("takings", _l("Takings by period"),
           _l("Cash view: payments received, counted on the day they were paid, less refunds paid out, counted on "
              "the day they were paid out."), "cash-coin", run_takings, uses_grain=True, uses_method=True),
    Report("sales", _l("Sales by period"),
           _l("Sales view: totals of confirmed orders that are not cancelled, counted on the day they were "
              "confirmed, whether paid or not."), "graph-up", run_sales, uses_grain=True),
    Report("methods", _l("Takings by payment method"),
           _l("Cash view: payments received and refunds paid out in the period, per payment method."),
           "credit-card", run_methods, uses_method=True),
    Report("products", _l("Sales by product"),
           _l("Sales view: order lines (after line discounts) of confirmed orders that are not cancelled, "
              "counted on the day the order was confirmed."), "box", run_products, paged=True),
    Report("customers", _l("Sales by customer"),
           _l("Sales view: totals of confirmed orders that are not cancelled, counted on the day they were "
              "confirmed."), "people", run_customers, paged=True),
    Report("refunds", _pl("finance", "Refunds"),
           _l("Refunds paid out, counted on the day they were paid out, by cause."), "arrow-return-left",
           run_refunds, uses_grain=True, uses_method=True),
    Report("receivables", _l("Receivables and ageing"),
           _l("What customers still owe at the end of the chosen day: confirmed orders that are not cancelled, "
              "their total less the payments received by then, by age since confirmation."),
           "hourglass-split", run_receivables, uses_range=False),
    *TAX_REPORTS,
    *MARGIN_REPORTS,
)}


def currencies_in_use() -> list[str]:
    """Currencies of orders (for the currency filter)."""
    return sorted(c for c in db.session.scalars(select(Order.currency).distinct()) if c)

