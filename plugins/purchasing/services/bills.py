"""Supplier bills (the supplier's invoice for a purchase order) and payments against them.

A bill is open, partly paid or paid. A payment adds to ``paid_minor`` with one conditional
UPDATE that refuses to go above the bill's amount, so two payments at once can never overpay.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select, update

from erp_core import audit, settings
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.money import MoneyError, format_money, parse_amount
from erp_core.timeutil import to_zone, utcnow

from .. import states
from ..models import BillPayment, PurchaseOrder, SupplierBill
from ._common import clean, parse_day

OPEN, PARTLY_PAID, PAID = "open", "partly_paid", "paid"
BILL_STATUSES = (OPEN, PARTLY_PAID, PAID)
BILL_LABELS = {OPEN: _l("Open"), PARTLY_PAID: _l("Partly paid"), PAID: _l("Paid")}
BILL_BADGES = {OPEN: "warning", PARTLY_PAID: "info", PAID: "success"}
METHODS = {"bank_transfer": _l("Bank transfer"), "cash": _l("Cash"), "alipay": _l("Alipay"),
           "wechat": _l("WeChat Pay"), "other": _l("Other")}


def company_today() -> date:
    """Today in the company's time zone."""
    return to_zone(utcnow(), settings.company_timezone()).date()


def _amount(raw, currency: str, field: str) -> int:
    text = str(raw if raw is not None else "").strip()
    try:
        value = parse_amount(text, currency) if text else 0
    except MoneyError:
        value = 0
    if value <= 0:
        raise DomainError(_("Enter an amount above 0, like 12.50."), field=field)
    return value


def _day(raw, field: str, default: date | None = None) -> date:
    day = parse_day(raw, field) or default
    if day is None:
        raise DomainError(_("Enter a date."), field=field)
    return day


def record_bill(po: PurchaseOrder, number: str, amount, bill_date=None, due_date=None) -> SupplierBill:
    """Record the supplier's invoice ``number`` for ``amount`` (major units as typed, in the
    order's currency) dated ``bill_date`` (default today), due ``due_date`` (default the bill
    date). Refused on a draft or cancelled order and for a number the supplier used already."""
    if po.status in (states.DRAFT, states.CANCELLED):
        raise Conflict(_("Bills are recorded on purchase orders that were sent."))
    number = clean(number, 64, "number")
    if not number:
        raise DomainError(_("Enter the supplier's invoice number."), field="number")
    value = _amount(amount, po.currency, "amount")
    billed_on = _day(bill_date, "bill_date", company_today())
    due = _day(due_date, "due_date", billed_on)
    if due < billed_on:
        raise DomainError(_("The due date cannot be before the bill's date."), field="due_date")
    taken = db.session.scalar(select(SupplierBill.id).where(SupplierBill.supplier_id == po.supplier_id,
                                                            SupplierBill.number == number))
    if taken is not None:
        raise Conflict(_("This supplier's invoice %(number)s is recorded already.", number=number), field="number")
    _uid, actor_name = audit.current_actor()
    bill = SupplierBill(order_id=po.id, supplier_id=po.supplier_id, number=number, amount_minor=value, paid_minor=0,
                        currency=po.currency, bill_date=billed_on, due_date=due, status=OPEN, created_by=actor_name)
    db.session.add(bill)
    db.session.flush()
    audit.record("purchase_order", po.id, "bill_recorded",
                 after={"bill": number, "amount": value, "currency": po.currency, "due_date": due.isoformat()})
    return bill


def pay_bill(bill: SupplierBill, amount, paid_on=None, method: str = "bank_transfer", reference: str = "") -> BillPayment:
    """Pay ``amount`` (major units as typed) of ``bill`` on ``paid_on`` (default today) by
    ``method`` with an optional ``reference``. More than is still owed is refused, also when
    another payment lands at the same moment (one conditional UPDATE)."""
    value = _amount(amount, bill.currency, "amount")
    day = _day(paid_on, "paid_on", company_today())
    if method not in METHODS:
        raise DomainError(_("Choose how it was paid."), field="method")
    reference = clean(reference, 100, "reference")
    new_paid = SupplierBill.paid_minor + value
    done = db.session.execute(
        update(SupplierBill).where(SupplierBill.id == bill.id, new_paid <= SupplierBill.amount_minor)
        .values(paid_minor=new_paid,
                status=case((new_paid >= SupplierBill.amount_minor, PAID), else_=PARTLY_PAID))
        .execution_options(synchronize_session=False))
    db.session.refresh(bill)
    if done.rowcount != 1:
        raise Conflict(_("That is more than is still owed on bill %(number)s (%(owed)s); nothing was paid.",
                         number=bill.number, owed=format_money(bill.owed_minor, bill.currency)), field="amount")
    _uid, actor_name = audit.current_actor()
    payment = BillPayment(bill_id=bill.id, amount_minor=value, paid_on=day, method=method, reference=reference,
                          created_by=actor_name)
    db.session.add(payment)
    db.session.flush()
    audit.record("purchase_order", bill.order_id, "bill_paid",
                 after={"bill": bill.number, "amount": value, "currency": bill.currency, "method": method,
                        "reference": reference or None, "bill_status": bill.status})
    return payment


def get_bill(bill_id) -> SupplierBill:
    """The bill with this id, or NotFound."""
    bill = db.session.get(SupplierBill, int(bill_id)) if str(bill_id).isdigit() else None
    if bill is None:
        raise NotFound(_("Unknown bill."))
    return bill


def bills_of(po_id: int) -> list[SupplierBill]:
    """A purchase order's bills, oldest first (one query)."""
    return list(db.session.scalars(select(SupplierBill).where(SupplierBill.order_id == po_id).order_by(SupplierBill.id)))


def payments_of(bill_ids) -> dict[int, list[BillPayment]]:
    """``{bill id: its payments, oldest first}`` (one query)."""
    ids = list(bill_ids)
    found: dict[int, list[BillPayment]] = {i: [] for i in ids}
    if ids:
        for payment in db.session.scalars(select(BillPayment).where(BillPayment.bill_id.in_(ids))
                                          .order_by(BillPayment.id)):
            found[payment.bill_id].append(payment)
    return found
