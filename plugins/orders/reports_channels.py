"""Sales by channel (按渠道销售): per sales channel and month, the number of orders and their
net, tax and gross amounts, per currency (amounts are never added across currencies).

Counted as the finance reports' sales view does: confirmed orders that are not cancelled, in the
month (company calendar) they were confirmed. Month boundaries are computed here as UTC instants
and each order is put in its month by a CASE over them, so the same SQL runs on SQLite and
PostgreSQL in one statement.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from erp_core import settings
from erp_core.extensions import db
from erp_core.money import format_plain
from erp_core.timeutil import local_day_bounds, to_zone, utcnow

from . import channels, states
from .models import Order
from .services import order_scope

MAX_MONTHS = 36


def _month(raw: str | None) -> date | None:
    try:
        year, month = (raw or "").strip().split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def _add_months(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass
class ReportArgs:
    """The months asked for (first days of months, both included) and any problem with them."""

    start: date
    end: date
    error: str = ""

    @classmethod
    def from_args(cls, args) -> ReportArgs:
        """``from`` and ``to`` as YYYY-MM; the last twelve months by default."""
        this_month = to_zone(utcnow(), settings.company_timezone()).date().replace(day=1)
        start, end = _month(args.get("from")), _month(args.get("to"))
        error = ""
        if (args.get("from") and start is None) or (args.get("to") and end is None):
            error = _("Give months as YYYY-MM.")
        end = end or this_month
        start = start or _add_months(end, -11)
        if start > end:
            start, error = _add_months(end, -11), _("The first month is after the last one.")
        if (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            start, error = _add_months(end, -(MAX_MONTHS - 1)), _("At most %(n)d months at once.", n=MAX_MONTHS)
        return cls(start, end, error)

    def months(self) -> list[date]:
        count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
        return [_add_months(self.start, n) for n in range(count)]


@dataclass
class Row:
    """One channel in one month in one currency."""

    month: date
    channel: str
    channel_label: str
    currency: str
    orders: int
    net: int
    tax: int
    gross: int


def sales_by_channel(args: ReportArgs) -> list[Row]:
    """The rows of the report, by month, then channel, then currency, in one statement; of the
    orders the logged-in user may see (:func:`order_scope`)."""
    zone = settings.company_timezone()
    months = args.months()
    starts = [local_day_bounds(m, zone)[0] for m in months] + [local_day_bounds(_add_months(args.end, 1), zone)[0]]
    bucket = case(*[(Order.confirmed_at < starts[i + 1], i) for i in range(len(months))], else_=len(months))
    stmt = (select(bucket.label("m"), Order.channel, Order.currency, func.count(Order.id),
                   func.coalesce(func.sum(Order.total_minor - Order.tax_minor), 0),
                   func.coalesce(func.sum(Order.tax_minor), 0), func.coalesce(func.sum(Order.total_minor), 0))
            .where(Order.confirmed_at >= starts[0], Order.confirmed_at < starts[-1],
                   Order.status != states.CANCELLED, order_scope())
            .group_by("m", Order.channel, Order.currency).order_by("m", Order.channel, Order.currency))
    offered = channels.channels()
    return [Row(months[m], channel, channels.label(channel, offered), currency, int(n), int(net), int(tax), int(gross))
            for m, channel, currency, n, net, tax, gross in db.session.execute(stmt) if m < len(months)]


def as_csv(rows: list[Row]) -> str:
    """The report as CSV: codes as headings, amounts in major units."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "channel", "channel_label", "currency", "orders", "net", "tax", "gross"])
    for r in rows:
        writer.writerow([f"{r.month:%Y-%m}", r.channel, ("'" if r.channel_label[:1] in "=+-@" else "") + r.channel_label, r.currency, r.orders,
                         format_plain(r.net, r.currency), format_plain(r.tax, r.currency),
                         format_plain(r.gross, r.currency)])
    return "\ufeff" + out.getvalue()
