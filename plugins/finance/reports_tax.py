"""Tax reports: output tax by rate and month, and the accounting export per day (会计凭证导出).

Both read the tax amounts each order line stored when it was entered (``net_minor``,
``tax_minor``, ``gross_minor``, the rate snapshot ``tax_rate_percent`` / ``tax_exempt``); nothing
is recomputed here. Like every finance report, the numbers are SQL aggregates (GROUP BY in the
database) per currency, and periods are the company's local days and months
(:mod:`plugins.finance.reports_base`).

Output tax follows the sales view: lines of confirmed orders that are not cancelled, counted in
the month the order was confirmed. Refunds themselves are not split by rate (a refund is money):
credit notes (issued from refunds against an invoice) are deducted in the period they were issued, at
the rates of their lines; the accounting export lists refunds paid out as their own entry.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl
from sqlalchemy import func, literal, select, union_all

from erp_core import settings
from erp_core.contrib import SettingField
from erp_core.extensions import db
from plugins.orders.public import OrderLine

from . import states
from .models import Invoice, InvoiceLine, Payment, Refund
from .reports_base import (
    CURRENCY,
    PERIOD,
    Column,
    Filters,
    Period,
    Report,
    Result,
    _bounds,
    _payment_filters,
    _series_chart,
    _totals,
    orders_by_period,
    period_index,
    periods,
)
from .services.invoices import CREDIT_NOTE

NET = Column("net", _l("Net amount"), "money")
TAX = Column("tax", _l("Output tax"), "money")
GROSS = Column("gross", _l("Amount incl. tax"), "money")
LINES = Column("lines", _pl("finance", "Order lines"), "int")


def rate_label(percent: Decimal | float | int | None, exempt: bool) -> str:
    """A tax rate as the reader reads it: ``13%``, ``0%`` or "Exempt" (免税) for exempt lines."""
    if exempt:
        return _("Tax exempt")
    value = Decimal(str(percent or 0)).normalize()
    return f"{value:f}%"


# ----------------------------------------------------------------------------- output tax


def credit_note_lines(f: Filters, bounds: list):
    """Lines of the credit notes issued in the range (``p`` = their period by issue time), with
    the currency and warehouse filters applied to their orders."""
    return _payment_filters(
        select(period_index(Invoice.issued_at, bounds).label("p"), Invoice.currency.label("currency"),
               InvoiceLine.tax_exempt.label("exempt"), InvoiceLine.tax_rate_percent.label("rate"),
               InvoiceLine.net_minor.label("net"), InvoiceLine.tax_minor.label("tax"))
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(Invoice.kind == CREDIT_NOTE, Invoice.issued_at >= bounds[0], Invoice.issued_at < bounds[-1]),
        f, table=Invoice).subquery()


def run_output_tax(f: Filters, page=None) -> Result:
    """Net, tax and amount incl. tax per month, currency and rate (sales view), less the credit
    notes issued that month at that rate."""
    items = periods(f.start, f.end, "month", f.tz)
    orders = orders_by_period(f, items)
    zero = literal(0)
    keys = (OrderLine.tax_exempt, OrderLine.tax_rate_percent)
    sales = (select(orders.c.p.label("p"), orders.c.currency.label("currency"), keys[0].label("exempt"),
                    keys[1].label("rate"), func.count().label("lines"), func.sum(OrderLine.net_minor).label("net"),
                    func.sum(OrderLine.tax_minor).label("tax"), func.sum(OrderLine.gross_minor).label("gross"),
                    zero.label("c_net"), zero.label("c_tax"))
             .select_from(orders).join(OrderLine, OrderLine.order_id == orders.c.id)
             .group_by(orders.c.p, orders.c.currency, *keys))  # summed before the union
    notes = credit_note_lines(f, _bounds(items))
    credited = (select(notes.c.p, notes.c.currency, notes.c.exempt, notes.c.rate, zero, zero, zero, zero,
                       func.sum(notes.c.net), func.sum(notes.c.tax))
                .group_by(notes.c.p, notes.c.currency, notes.c.exempt, notes.c.rate))
    both = union_all(sales, credited).subquery()
    stmt = (select(both.c.p, both.c.currency, both.c.exempt, both.c.rate,
                   *[func.sum(both.c[k]) for k in ("lines", "net", "tax", "gross", "c_net", "c_tax")])
            .group_by(both.c.p, both.c.currency, both.c.exempt, both.c.rate)
            .order_by(both.c.p, both.c.currency, both.c.exempt, both.c.rate.desc()))
    rows = []
    for p, currency, exempt, percent, *sums in db.session.execute(stmt):
        n, net, tax, gross, c_net, c_tax = (int(v or 0) for v in sums)
        rows.append({"period": items[p].label, "currency": currency, "rate": rate_label(percent, bool(exempt)),
                     "lines": n, "net": net, "tax": tax, "gross": gross, "credited_net": c_net,
                     "credited_tax": c_tax, "tax_due": tax - c_tax})
    columns = [PERIOD, CURRENCY, Column("rate", _l("Tax rate")), LINES, NET, TAX, GROSS,
               Column("credited_net", _l("Credit notes: net"), "money"),
               Column("credited_tax", _l("Credit notes: tax"), "money"),
               Column("tax_due", _l("Output tax less credit notes"), "money")]
    keys_summed = ["lines", "net", "tax", "gross", "credited_net", "credited_tax", "tax_due"]
    return Result(columns, rows, totals=_totals(rows, keys_summed), chart=_rate_chart(items, rows),
                  notes=[_("Credit notes are deducted in the month they were issued, at the rates of their lines. "
                           "A refund without a credit note (an order never invoiced) is not deducted here.")])


def _rate_chart(items: list[Period], rows: list[dict]) -> dict:
    """Output tax per month, one bar per rate and currency."""
    labels = [p.label for p in items]
    index = {p.label: i for i, p in enumerate(items)}
    series: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        values = series.setdefault((row["currency"], row["rate"]), [0] * len(items))
        values[index[row["period"]]] += row["tax_due"]
    return {"type": "bar", "labels": labels,
            "datasets": [{"label": f"{TAX.label} {rate} ({currency})", "currency": currency, "minor": values}
                         for (currency, rate), values in sorted(series.items())]}


# ----------------------------------------------------------------------------- accounting export

ACCOUNT_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,19}$")
# (setting key suffix, what it books, default code of the Chinese chart of accounts (企业会计准则))
ACCOUNTS = (
    ("sales", _l("Sales (net of tax)"), "6001"),     # 主营业务收入
    ("tax", _l("Output tax"), "22210102"),           # 应交税费—应交增值税（销项税额）
    ("receipts", _l("Receipts"), "1002"),            # 银行存款
    ("refunds", _l("Refunds paid out"), "1002"),     # 银行存款
)
ACCOUNT_LABELS = {key: label for key, label, _default in ACCOUNTS}


def account_setting(key: str) -> str:
    """The setting holding the account code of an entry of the accounting export."""
    return f"finance.account.{key}"


def check_account_code(value: Any) -> Any:
    """Settings validation of an account code: letters, digits, dots or hyphens, up to 20."""
    if not ACCOUNT_CODE.match(str(value or "")):
        return _l("Type an account code: letters, digits, dots or hyphens, at most 20 characters.")
    return None


def account_settings_fields() -> list[SettingField]:
    """The finance settings of the accounting export: one account code per entry."""
    section = _l("Accounting export")
    return [SettingField(account_setting(key), _l("Account code: %(entry)s", entry=label), "string", default,
                         section, required=True, validate=check_account_code,
                         help=_l("Written next to this entry in the accounting export (CSV per day)."))
            for key, label, default in ACCOUNTS]


def account_codes() -> dict[str, str]:
    """The account code of each entry as the settings say (their defaults until changed)."""
    return {key: str(settings.get(account_setting(key)) or default) for key, _label, default in ACCOUNTS}


def run_accounting(f: Filters, page=None) -> Result:
    """Per day (or the chosen grain) and currency: sales net, output tax (sales view), receipts
    and refunds paid out (cash view), one row per entry with its account code."""
    items = periods(f.start, f.end, f.grain, f.tz)
    bounds = _bounds(items)
    orders = orders_by_period(f, items)
    zero = literal(0)
    sales = (select(orders.c.p.label("p"), orders.c.currency.label("currency"),
                    func.sum(OrderLine.net_minor).label("sales"), func.sum(OrderLine.tax_minor).label("tax"),
                    zero.label("receipts"), zero.label("refunds"))
             .select_from(orders).join(OrderLine, OrderLine.order_id == orders.c.id)
             .group_by(orders.c.p, orders.c.currency))  # summed before the union: a row per day, not per line
    paid = _payment_filters(
        select(period_index(Payment.paid_at, bounds).label("p"), Payment.currency.label("currency"),
               zero.label("sales"), zero.label("tax"), Payment.amount_minor.label("receipts"), zero.label("refunds"))
        .where(Payment.status == states.PAID, Payment.paid_at >= bounds[0], Payment.paid_at < bounds[-1]), f)
    refunded = _payment_filters(
        select(period_index(Refund.refunded_at, bounds).label("p"), Refund.currency.label("currency"),
               zero.label("sales"), zero.label("tax"), zero.label("receipts"), Refund.amount_minor.label("refunds"))
        .where(Refund.status == states.REFUNDED, Refund.refunded_at >= bounds[0], Refund.refunded_at < bounds[-1]),
        f, table=Refund)
    notes = credit_note_lines(f, bounds)
    credited = select(notes.c.p, notes.c.currency, -func.sum(notes.c.net), -func.sum(notes.c.tax), zero, zero
                      ).group_by(notes.c.p, notes.c.currency)
    both = union_all(sales, paid, refunded, credited).subquery()
    stmt = (select(both.c.p, both.c.currency, func.sum(both.c.sales), func.sum(both.c.tax),
                   func.sum(both.c.receipts), func.sum(both.c.refunds))
            .group_by(both.c.p, both.c.currency).order_by(both.c.p, both.c.currency))
    per_day = [{"period": items[p].label, "currency": currency, "sales": int(s or 0), "tax": int(t or 0),
                "receipts": int(r or 0), "refunds": int(x or 0)}
               for p, currency, s, t, r, x in db.session.execute(stmt)]
    codes = account_codes()
    rows = [{"period": day["period"], "currency": day["currency"], "entry": str(ACCOUNT_LABELS[key]),
             "account": codes[key], "amount": day[key]}
            for day in per_day for key, _label, _default in ACCOUNTS if day[key]]
    columns = [PERIOD, CURRENCY, Column("entry", _l("Entry")), Column("account", _l("Account code")),
               Column("amount", _pl("finance", "Amount"), "money")]
    result = Result(columns, rows,
                    chart=_series_chart(items, per_day, [(key, label) for key, label, _d in ACCOUNTS]))
    result.notes.append(_("Sales and output tax count confirmed orders that are not cancelled on the day they "
                          "were confirmed, less the credit notes issued that day; receipts and refunds count money "
                          "on the day it was paid."))
    return result


TAX_REPORTS = (
    Report("output_tax", _l("Output tax by rate and month"),
           _l("Sales view: order lines of confirmed orders that are not cancelled, by the month the order was "
              "confirmed and by the tax rate stored on each line, with net amount, output tax and amount incl. tax."),
           "percent", run_output_tax),
    Report("accounting", _l("Accounting export"),
           _l("Per day: sales net of tax and output tax (confirmed orders that are not cancelled), receipts and "
              "refunds paid out, each with the account code set in the finance settings."),
           "journal-text", run_accounting, uses_grain=True, uses_method=False),
)
