"""Gross-margin reports (毛利) by product, by customer and by month.

Gross margin = net sales (order lines' ``net_minor``, after discounts, without tax) minus
quantity x the product's cost price (``Product.cost_minor``, today's cost price, in the product's
currency). A line whose product has no cost price, or whose cost is in another currency than the
order, is not given a margin: it is counted under "cost unknown" (lines and their net sales) and
left out of the margin and of the margin percentage, never shown as 100 % margin.

Sales view (like :func:`plugins.finance.reports.run_products`): lines of confirmed orders that
are not cancelled, counted on the day (month) the order was confirmed. All sums are SQL
aggregates grouped in the database, per currency.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from sqlalchemy import and_, case, func, literal, select

from erp_core.extensions import db
from plugins.orders.public import Customer, OrderLine, Product

from .reports_base import (
    CURRENCY,
    PERIOD,
    Column,
    Filters,
    Report,
    Result,
    _materialized,
    _ranking,
    _ranking_chart,
    _series_chart,
    orders_by_period,
    periods,
    sale_orders,
)

SUMS = ["net", "costed_net", "cost", "margin", "unknown_lines", "unknown_net"]
MARGIN_COLUMNS = [
    Column("net", _l("Net sales"), "money"),
    Column("cost", _l("Cost of goods"), "money"),
    Column("margin", _l("Gross margin"), "money"),
    Column("margin_percent", _l("Margin %"), "percent"),
    Column("unknown_lines", _l("Lines with cost unknown"), "int"),
    Column("unknown_net", _l("Net sales with cost unknown"), "money"),
]


def margin_aggregate(orders, keys: list, name: str, *, pre_sum: bool = True):
    """The margin sums of the lines of ``orders`` (a CTE with ``id`` and ``currency``) per
    ``keys`` (labelled columns of ``orders`` or of the lines) and currency, as a materialized CTE:
    ``quantity, net, costed_net, cost, margin, unknown_lines, unknown_net``.

    With ``pre_sum`` in two stages: the lines summed per key, currency and product first (one pass
    over the lines, no product looked up per line), then per key and currency with each
    product's cost price (quantity x cost summed as summed quantity x cost: the same integer).
    Without it (keys with about as many groups as lines, such as customers) each line is joined
    to its product directly."""
    labels = [k.name for k in keys]
    line_values = [orders.c.currency.label("currency"), OrderLine.product_id.label("product_id")]
    if pre_sum:
        per_product = (select(*keys, *line_values, func.sum(OrderLine.net_minor).label("net"),
                              func.sum(OrderLine.quantity).label("quantity"), func.count().label("lines"))
                       .group_by(*keys, orders.c.currency, OrderLine.product_id))
    else:
        per_product = select(*keys, *line_values, OrderLine.net_minor.label("net"),
                             OrderLine.quantity.label("quantity"), literal(1).label("lines"))
    per_product = (per_product.select_from(orders).join(OrderLine, OrderLine.order_id == orders.c.id)
                   .subquery("per_product"))
    by = [per_product.c[label] for label in labels]
    known = and_(Product.cost_minor.is_not(None), Product.currency == per_product.c.currency)
    costed_net = func.sum(case((known, per_product.c.net), else_=0))
    cost = func.sum(case((known, per_product.c.quantity * Product.cost_minor), else_=0))
    return _materialized(
        select(*by, per_product.c.currency, func.sum(per_product.c.quantity).label("quantity"),
               func.sum(per_product.c.net).label("net"), costed_net.label("costed_net"), cost.label("cost"),
               (costed_net - cost).label("margin"),
               func.sum(case((known, 0), else_=per_product.c.lines)).label("unknown_lines"),
               func.sum(case((known, 0), else_=per_product.c.net)).label("unknown_net"))
        .select_from(per_product).join(Product, Product.id == per_product.c.product_id)
        .group_by(*by, per_product.c.currency), name)


def margin_percent(margin: int, costed_net: int) -> Decimal | None:
    """The margin as a percentage of the net sales whose cost is known, one decimal, half-up;
    ``None`` when no sale has a known cost (shown as a dash, not as 0 % or 100 %)."""
    if not costed_net:
        return None
    return (Decimal(margin) * 100 / Decimal(costed_net)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _numbers(row) -> dict:
    values = {key: int(row[key] or 0) for key in SUMS}
    values["margin_percent"] = margin_percent(values["margin"], values["costed_net"])
    return values


def _totals_of(counted) -> list[dict]:
    return [{"currency": t["currency"], **_numbers(t)} for t in counted]


def run_margin_products(f: Filters, page=None) -> Result:
    """Gross margin per product and currency, best margin first (paged)."""
    agg = margin_aggregate(sale_orders(f), [OrderLine.product_id.label("product")], "product_margin")
    found, counted = _ranking(agg, [("sku", Product.sku), ("product", Product.name)],
                              [(Product, Product.id == agg.c.product)],
                              [agg.c.currency, agg.c.margin.desc(), Product.sku], ["quantity", *SUMS], page)
    rows = [{"sku": r["sku"], "product": r["product"], "currency": r["currency"], "quantity": int(r["quantity"]),
             **_numbers(r)} for r in found]
    columns = [Column("sku", _pl("finance", "SKU")), Column("product", _pl("finance", "Product")), CURRENCY,
               Column("quantity", _pl("finance", "Quantity"), "int"), *MARGIN_COLUMNS]
    return Result(columns, rows, total_rows=sum(int(t["n"]) for t in counted), totals=_totals_of(counted),
                  chart=_ranking_chart(rows, "sku", "margin", MARGIN_COLUMNS[2].label))


def run_margin_customers(f: Filters, page=None) -> Result:
    """Gross margin per customer and currency, best margin first (paged)."""
    sale = sale_orders(f)
    agg = margin_aggregate(sale, [sale.c.customer_id.label("customer_id")], "customer_margin", pre_sum=False)
    found, counted = _ranking(agg, [("customer", Customer.name)], [(Customer, Customer.id == agg.c.customer_id)],
                              [agg.c.currency, agg.c.margin.desc(), Customer.name, Customer.id], SUMS, page)
    rows = [{"customer": r["customer"], "currency": r["currency"], **_numbers(r)} for r in found]
    columns = [Column("customer", _pl("finance", "Customer")), CURRENCY, *MARGIN_COLUMNS]
    return Result(columns, rows, total_rows=sum(int(t["n"]) for t in counted), totals=_totals_of(counted),
                  chart=_ranking_chart(rows, "customer", "margin", MARGIN_COLUMNS[2].label))


def run_margin_months(f: Filters, page=None) -> Result:
    """Gross margin per month and currency."""
    items = periods(f.start, f.end, "month", f.tz)
    orders = orders_by_period(f, items)
    agg = margin_aggregate(orders, [orders.c.p.label("p")], "month_margin")
    stmt = select(agg).order_by(agg.c.p, agg.c.currency)
    rows = [{"period": items[r["p"]].label, "currency": r["currency"], **_numbers(r)}
            for r in db.session.execute(stmt).mappings()]
    by_currency: dict[str, dict] = {}
    for row in rows:  # a handful of monthly rows, already aggregated
        total = by_currency.setdefault(row["currency"], {"currency": row["currency"], **{k: 0 for k in SUMS}})
        for key in SUMS:
            total[key] += row[key]
    totals = [{**t, "margin_percent": margin_percent(t["margin"], t["costed_net"])}
              for _c, t in sorted(by_currency.items())]
    return Result([PERIOD, CURRENCY, *MARGIN_COLUMNS], rows, totals=totals,
                  chart=_series_chart(items, rows, [("net", MARGIN_COLUMNS[0].label),
                                                    ("margin", MARGIN_COLUMNS[2].label)]))


_BASIS = _l("Sales view: order lines of confirmed orders that are not cancelled, counted when the order was "
            "confirmed. Gross margin is net sales (after discounts, without tax) less quantity times the product's "
            "current cost price; lines whose product has no cost price (or one in another currency) are counted "
            "under \"cost unknown\" and left out of the margin.")

MARGIN_REPORTS = (
    Report("margin_products", _l("Gross margin by product"), _BASIS, "box-seam", run_margin_products, paged=True),
    Report("margin_customers", _l("Gross margin by customer"), _BASIS, "person-lines-fill", run_margin_customers,
           paged=True),
    Report("margin_months", _l("Gross margin by month"), _BASIS, "calendar3", run_margin_months),
)
