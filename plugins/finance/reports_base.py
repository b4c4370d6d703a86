"""The pieces every finance report (财务报表) shares: filters, periods, columns, results, and the
SQL building blocks. Every number is an SQL aggregate computed by the database.

Two views of revenue, said on every page (see docs/finance.md):

* the **cash view** counts money: payments received by the time they were paid, refunds by the
  time they were paid out;
* the **sales view** counts orders: order totals (and order lines) of confirmed orders that are
  not cancelled, by the time they were confirmed.

Amounts are never added across currencies: every aggregate groups by currency.

Days are the company's local days (``settings.company_timezone()``), DST included. SQLite has no
time-zone functions, so the local period boundaries of the requested range are computed here in
Python (zoneinfo) as UTC instants, and each row is put in its period by a balanced CASE
expression over those boundaries (``ts < b_mid``, about log2(periods) comparisons a row). The same
SQL runs on SQLite and PostgreSQL, needs no time-zone support from the database and no index
beyond the one that narrows the range.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from sqlalchemy import Integer, bindparam, case, func, literal, literal_column, select, union_all

from erp_core.db import UTCDateTime
from erp_core.extensions import db
from erp_core.timeutil import local_day_bounds
from plugins.orders.public import Order, order_scope

from . import states
from .models import Payment

MAX_PERIODS = 3700  # about ten years of days
GRAINS = ("day", "week", "month")
GRAIN_LABELS = {"day": _pl("finance", "Day"), "week": _pl("finance", "Week"), "month": _pl("finance", "Month")}
AGE_BUCKETS = ("0-30", "31-60", "61-90", "90+")
AGE_LABELS = {"0-30": _l("0–30 days"), "31-60": _l("31–60 days"), "61-90": _l("61–90 days"), "90+": _l("Over 90 days")}


# ----------------------------------------------------------------------------- filters and periods


@dataclass(frozen=True)
class Filters:
    """What a report is asked for. ``start`` and ``end`` are local days, both included."""

    start: date
    end: date
    tz: str
    grain: str = "day"
    currency: str | None = None
    warehouse_id: int | None = None
    method: str | None = None

    @property
    def range_utc(self) -> tuple[datetime, datetime]:
        return local_day_bounds(self.start, self.tz)[0], local_day_bounds(self.end, self.tz)[1]


@dataclass(frozen=True)
class Period:
    label: str
    first: date
    last: date
    start: datetime  # UTC instant of the local start
    end: datetime  # UTC instant of the local end (exclusive)


def periods(start: date, end: date, grain: str, tz: str) -> list[Period]:
    """Local days, ISO weeks (Monday first) or calendar months covering ``start``..``end``,
    clipped to the range, with their UTC boundaries (DST-correct)."""
    result: list[Period] = []
    day = start
    stop = end + timedelta(days=1)
    while day < stop:
        if grain == "week":
            following = day + timedelta(days=7 - day.weekday())
            year, week, _ = day.isocalendar()
            label = f"{year}-W{week:02d}"
        elif grain == "month":
            following = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            label = f"{day.year}-{day.month:02d}"
        else:
            following = day + timedelta(days=1)
            label = day.isoformat()
        following = min(following, stop)
        result.append(Period(label, day, following - timedelta(days=1), local_day_bounds(day, tz)[0],
                             local_day_bounds(following, tz)[0]))
        day = following
        if len(result) > MAX_PERIODS:
            raise ValueError("too many periods")
    return result


def period_index(column, bounds: list[datetime]):
    """SQL: the index ``i`` of the period ``[bounds[i], bounds[i+1])`` holding ``column``, as a
    balanced CASE over the boundaries (rows must already be limited to the whole range)."""

    def build(lo: int, hi: int):
        if hi - lo == 1:
            return literal_column(str(lo), Integer)
        mid = (lo + hi) // 2
        return case((column < bindparam(None, bounds[mid], type_=UTCDateTime), build(lo, mid)),
                    else_=build(mid, hi))

    return build(0, len(bounds) - 1)


def _bounds(items: list[Period]) -> list[datetime]:
    return [p.start for p in items] + [items[-1].end]


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = "text"  # text, int, money (minor units, currency in the row's "currency")


# Columns several reports share.
PERIOD = Column("period", _pl("finance", "Period"))
CURRENCY = Column("currency", _pl("finance", "Currency"))
ORDERS = Column("orders", _pl("finance", "Orders"), "int")
ORDER_TOTALS = Column("sales", _pl("finance", "Order totals"), "money")
CASH_COLUMNS = [Column("payments", _pl("finance", "Payments"), "int"),
                Column("received", _pl("finance", "Received"), "money"),
                Column("refunds", _pl("finance", "Refunds"), "int"),
                Column("refunded", _pl("finance", "Refunded"), "money"),
                Column("net", _pl("finance", "Net takings"), "money")]


@dataclass
class Result:
    columns: list[Column]
    rows: list[dict]
    total_rows: int | None = None  # when the page shows part of the rows (products, customers)
    totals: list[dict] = field(default_factory=list)  # one row per currency
    chart: dict | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    key: str
    title: Any
    basis: Any  # what the numbers count (shown on the page and in exports)
    icon: str
    run: Callable[..., Result]
    uses_grain: bool = False
    uses_method: bool = False
    uses_range: bool = True  # receivables use only the end ("as of")
    paged: bool = False


# ----------------------------------------------------------------------------- shared pieces


def _payment_filters(stmt, f: Filters, *, table=Payment):
    stmt = stmt.where(order_scope(table.order_id))  # a salesperson: own customers' orders only
    if f.currency:
        stmt = stmt.where(table.currency == f.currency)
    if f.method:
        stmt = stmt.where(table.method == f.method)
    if f.warehouse_id is not None:  # a semi-join: no lookup of each payment's order
        stmt = stmt.where(table.order_id.in_(select(Order.id).where(Order.warehouse_id == f.warehouse_id)))
    return stmt


def _materialized(stmt, name: str):
    """A CTE that SQLite computes once into a temporary table (``AS MATERIALIZED``, 3.35+):
    its planner then scans the orders once instead of looking each line's order up. The SQL is
    the same on PostgreSQL, whose planner does better on its own with its statistics (it
    materializes a CTE used twice by itself)."""
    return stmt.cte(name).prefix_with("MATERIALIZED", dialect="sqlite")


def sale_orders(f: Filters, *, until_only: bool = False):
    """Confirmed, not cancelled orders of the range (or confirmed before its end) as a CTE:
    ``id, currency, total, discount, confirmed_at, customer_id``; of the orders the logged-in
    user may see (``order_scope``)."""
    start, end = f.range_utc
    stmt = select(Order.id.label("id"), Order.currency.label("currency"), Order.total_minor.label("total"),
                  Order.discount_minor.label("discount"), Order.confirmed_at.label("confirmed_at"),
                  Order.customer_id.label("customer_id"), Order.number.label("number")
                  ).where(Order.status.in_(states.SALE_STATUSES), Order.confirmed_at < end, order_scope())
    if not until_only:
        stmt = stmt.where(Order.confirmed_at >= start)
    if f.currency:
        stmt = stmt.where(Order.currency == f.currency)
    if f.warehouse_id is not None:
        stmt = stmt.where(Order.warehouse_id == f.warehouse_id)
    return _materialized(stmt, "sale_orders")


def orders_by_period(f: Filters, items: list[Period]):
    """The orders of the sales view (``id, currency, p``) with the index ``p`` of the period they
    were confirmed in, as a materialized CTE: the period is computed once per order, not once per
    line joined to it."""
    sale = sale_orders(f)
    return _materialized(select(sale.c.id.label("id"), sale.c.currency.label("currency"),
                                period_index(sale.c.confirmed_at, _bounds(items)).label("p")), "sale_periods")


def _totals(rows: list[dict], keys: list[str]) -> list[dict]:
    """Per-currency totals of already aggregated rows (a handful of rows, not raw data)."""
    by_currency: dict[str, dict] = {}
    for row in rows:
        total = by_currency.setdefault(row["currency"], {"currency": row["currency"], **{k: 0 for k in keys}})
        for key in keys:
            total[key] += row[key] or 0
    return [by_currency[c] for c in sorted(by_currency)]


def _series_chart(items: list[Period], rows: list[dict], measures: list[tuple[str, Any]], kind: str = "bar") -> dict:
    labels = [p.label for p in items]
    index = {p.label: i for i, p in enumerate(items)}
    datasets = []
    for currency in sorted({r["currency"] for r in rows}):
        for key, label in measures:
            values = [0] * len(items)
            for row in rows:
                if row["currency"] == currency:
                    values[index[row["period"]]] = row[key]
            datasets.append({"label": f"{label} ({currency})", "currency": currency, "minor": values})
    return {"type": kind, "labels": labels, "datasets": datasets}


def _ranking_chart(rows: list[dict], label_key: str, value_key: str, value_label: Any, top: int = 10) -> dict:
    datasets, labels = [], []
    currencies = sorted({r["currency"] for r in rows})
    shown = rows[:top]
    labels = [f"{r[label_key]}" + (f" ({r['currency']})" if len(currencies) > 1 else "") for r in shown]
    for currency in currencies:
        datasets.append({"label": f"{value_label} ({currency})", "currency": currency,
                         "minor": [r[value_key] if r["currency"] == currency else 0 for r in shown]})
    return {"type": "bar", "horizontal": True, "labels": labels, "datasets": datasets}


def _ranking(agg, label_columns, joins, order_by, sums: list[str], page):
    """One statement for a ranked, paged report: per-currency totals (kind 0, ``n`` = rows of
    that currency) and the rows of the page (kind 1), both from the materialized aggregate."""
    totals = select(literal(0).label("kind"), *[literal(None).label(name) for name, _c in label_columns],
                    agg.c.currency, func.count().label("n"),
                    *[func.sum(agg.c[k]).label(k) for k in sums]).group_by(agg.c.currency)
    rows = select(literal(1).label("kind"), *[col.label(name) for name, col in label_columns], agg.c.currency,
                  literal(0).label("n"), *[agg.c[k] for k in sums])
    for target, condition in joins:
        rows = rows.join(target, condition)
    rows = rows.order_by(*order_by)
    if page is not None:
        number, size = page
        rows = rows.limit(size).offset((number - 1) * size)
    found = db.session.execute(union_all(totals, select(rows.subquery()))).mappings().all()
    ordered = [dict(r) for r in found if r["kind"] == 1]
    total_rows = [dict(r) for r in found if r["kind"] == 0]
    return ordered, sorted(total_rows, key=lambda r: r["currency"])
