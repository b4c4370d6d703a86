"""The payables report: bills not yet fully paid, by supplier and due date, in buckets
(overdue, due within 7 days, later). Each query is one statement whatever the page size."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select

from erp_core.extensions import db

from ..models import PurchaseOrder, SupplierBill
from .bills import PAID

OVERDUE, DUE_SOON, LATER = "overdue", "due_soon", "later"
DUE_SOON_OR_OVERDUE = "due"
BUCKETS = {OVERDUE: _l("Overdue"), DUE_SOON: _l("Due within 7 days"), LATER: _l("Due later")}
SOON_DAYS = 7
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def bucket_of(due: date, today: date) -> str:
    """The bucket of a bill due on ``due``: overdue (before today), due soon (today to 7 days
    ahead) or later."""
    if due < today:
        return OVERDUE
    return DUE_SOON if due <= today + timedelta(days=SOON_DAYS) else LATER


def _filtered(stmt: Select, today: date, supplier_id: int | None = None, bucket: str = "",
              currency: str = "") -> Select:
    stmt = stmt.where(SupplierBill.status != PAID)
    if supplier_id:
        stmt = stmt.where(SupplierBill.supplier_id == supplier_id)
    if currency:
        stmt = stmt.where(SupplierBill.currency == currency)
    soon = today + timedelta(days=SOON_DAYS)
    if bucket == OVERDUE:
        stmt = stmt.where(SupplierBill.due_date < today)
    elif bucket == DUE_SOON:
        stmt = stmt.where(SupplierBill.due_date >= today, SupplierBill.due_date <= soon)
    elif bucket == LATER:
        stmt = stmt.where(SupplierBill.due_date > soon)
    elif bucket == DUE_SOON_OR_OVERDUE:
        stmt = stmt.where(SupplierBill.due_date <= soon)
    return stmt


def payables_query(today: date, supplier_id: int | None = None, bucket: str = "", currency: str = "") -> Select:
    """Bills still owed (filtered by supplier, bucket, currency), soonest due first."""
    return _filtered(select(SupplierBill), today, supplier_id, bucket, currency).order_by(
        SupplierBill.due_date, SupplierBill.id)


def payables_rows(today: date, **filters) -> list[tuple[SupplierBill, str]]:
    """Every bill of :func:`payables_query` with its purchase order's number (one query)."""
    stmt = payables_query(today, **filters).add_columns(PurchaseOrder.number).join(
        PurchaseOrder, PurchaseOrder.id == SupplierBill.order_id)
    return [(bill, number) for bill, number in db.session.execute(stmt).all()]


def payables_totals(today: date, **filters) -> dict[str, dict[str, int]]:
    """``{currency: {bucket: still owed in minor units}}`` of the filtered bills (one query)."""
    soon = today + timedelta(days=SOON_DAYS)
    owed = SupplierBill.amount_minor - SupplierBill.paid_minor
    stmt = _filtered(select(SupplierBill.currency,
                            func.sum(case((SupplierBill.due_date < today, owed), else_=0)),
                            func.sum(case(((SupplierBill.due_date >= today) & (SupplierBill.due_date <= soon), owed),
                                             else_=0)),
                            func.sum(case((SupplierBill.due_date > soon, owed), else_=0))),
                     today, **filters).group_by(SupplierBill.currency).order_by(SupplierBill.currency)
    return {currency: {OVERDUE: int(a or 0), DUE_SOON: int(b or 0), LATER: int(c or 0)}
            for currency, a, b, c in db.session.execute(stmt)}


def csv_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula (a supplier named "=HYPERLINK(...)")."""
    text = str(value or "")
    return "'" + text if text.startswith(FORMULA_STARTS) else text
