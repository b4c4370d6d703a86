"""Invoices and credit notes: issued from an order and from refunds, numbered without gaps per year.

Rules kept here:

* numbers are ``INV-YYYY-NNNNNN`` and ``CN-YYYY-NNNNNN``, gap-free per calendar year of the company's
  time zone: the counter row (``core_counter``, key ``finance.invoice.<year>`` or
  ``finance.credit_note.<year>``) is bumped inside the issuing transaction with one
  ``UPDATE ... RETURNING`` (:func:`erp_core.db.next_counter`), which row-locks it until commit on
  PostgreSQL (as ``SELECT ... FOR UPDATE`` would) and runs under SQLite's write lock; a rolled-back
  issue gives its number back;
* an invoice is a snapshot: its lines (sku, name, quantity, unit price, rate, net, tax, gross), the
  seller (company settings) and the buyer are copied when it is issued and never change; an order
  is invoiced once, either whole or per shipment (:mod:`.invoice_shipments`), never both (the
  order row is locked while issuing, so two clicks give one invoice);
* corrections are credit notes from refunds: a refunded amount ``A`` credited against an invoice is
  split over the invoice's tax rates in proportion to each rate's gross (:func:`split_by_rate`), so
  the credit note's net + tax always equal ``A`` to the cent and never more than the invoice is
  credited (a conditional UPDATE of ``credited_minor``); an order invoiced per shipment has its
  refunds credited against its invoices oldest first, each up to what it has left to credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_pgettext as _pl
from sqlalchemy import and_, func, or_, select, update

from erp_core import audit, settings
from erp_core.db import next_counter
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.money import format_plain, round_half_up
from erp_core.timeutil import to_zone, utcnow
from plugins.orders.public import Order, lock_order, order_invoicing_details, percent_text, tax_by_rate
from plugins.orders.public import check_taxpayer_id as public_check_taxpayer_id
from plugins.orders.public import states as order_states

from .. import states
from ..models import Invoice, InvoiceLine, Refund
from ._common import _text

INVOICE, CREDIT_NOTE = "invoice", "credit_note"
PREFIXES = {INVOICE: "INV", CREDIT_NOTE: "CN"}
INVOICE_TYPES = ("none", "ordinary", "special")
SELLER_KEYS = ("company.legal_name", "company.address", "company.phone", "finance.invoice.taxpayer_id",
               "finance.invoice.bank", "finance.invoice.account")
NOT_INVOICEABLE = frozenset({order_states.DRAFT, order_states.CANCELLED})
EXEMPT_LABEL = _pl("finance", "exempt")


class InvoiceRefused(DomainError):
    code = "invoice_refused"
    status = 422


@dataclass(frozen=True)
class RateShare:
    """One tax rate's part of an amount: percent, exempt flag, net, tax and gross minor units."""

    percent: Decimal
    exempt: bool
    net: int
    tax: int
    gross: int


def next_number(kind: str, when=None) -> str:
    """The next number of ``kind`` for the year of ``when`` (now) in the company's time zone, inside
    the caller's transaction (gap-free: see the module's docstring)."""
    year = to_zone(when or utcnow(), settings.company_timezone()).year
    return f"{PREFIXES[kind]}-{year}-{next_counter(db.session, f'finance.{kind}.{year}'):06d}"


def seller_details() -> dict:
    """The seller block printed on invoices, from the company settings (copied into each invoice)."""
    values = {key.rsplit(".", 1)[-1]: str(settings.get(key) or "") for key in SELLER_KEYS}
    values["name"] = values.pop("legal_name") or str(settings.get("company.name") or "")
    return values


def missing_seller_details() -> list[str]:
    """Labels of the company details an invoice needs and the settings do not have yet."""
    seller = seller_details()
    labels = {"name": _("Legal name"), "address": _("Address"), "taxpayer_id": _("Taxpayer ID")}
    return [str(label) for key, label in labels.items() if not seller.get(key)]


def buyer_details(order: Order) -> dict:
    """The buyer block of an invoice of ``order``: the order's invoicing details (orders'
    :func:`order_invoicing_details`), titled with the customer's name when they give no title."""
    details = order_invoicing_details(order)
    return {"title": details.title or order.customer.name, "taxpayer_id": details.taxpayer_id,
            "address": details.address, "phone": details.phone, "bank": details.bank, "account": details.account,
            "invoice_type": details.invoice_type or "none"}


def order_invoice(order_id: int) -> Invoice | None:
    """The whole-order invoice of an order, if it has one (not its shipments' invoices)."""
    return db.session.scalar(select(Invoice).where(Invoice.order_id == order_id, Invoice.kind == INVOICE,
                                                   Invoice.shipment_id.is_(None))
                             .order_by(Invoice.id).limit(1))


def order_invoices(order_id: int) -> list[Invoice]:
    """Every invoice of an order (its whole-order invoice, or its shipments' invoices), oldest first."""
    return list(db.session.scalars(select(Invoice).where(Invoice.order_id == order_id, Invoice.kind == INVOICE)
                                   .order_by(Invoice.id)))


def issue_invoice(order: Order, invoice_type: str | None = None) -> Invoice:
    """Issue the invoice of the whole ``order`` (confirmed or later, with a total above zero, not
    invoiced yet). ``invoice_type`` is the fapiao the buyer wants (none / ordinary / special);
    by default the buyer's own choice."""
    order = lock_order(order.id, with_lines=True)
    if order.status in NOT_INVOICEABLE:
        raise InvoiceRefused(_("Only a confirmed order can be invoiced."))
    invoiced = order_invoices(order.id)
    if any(i.shipment_id is not None for i in invoiced):
        raise InvoiceRefused(_("Order %(number)s is invoiced per shipment: invoice its other shipments one by one.",
                               number=order.number))
    if invoiced:
        raise InvoiceRefused(_("Order %(number)s is invoiced already.", number=order.number))
    buyer, invoice_type = check_issuable(order, invoice_type)
    lines = [InvoiceLine(position=i, sku=line.sku, name=line.name, quantity=line.quantity,
                         unit_price_minor=line.unit_price_minor, tax_rate_percent=line.tax_rate_percent,
                         tax_exempt=bool(line.tax_exempt), net_minor=line.net_minor, tax_minor=line.tax_minor,
                         gross_minor=line.gross_minor)
             for i, line in enumerate(order.lines, 1)]
    invoice = new_invoice(INVOICE, order, lines, buyer, invoice_type)
    audit.record("invoice", invoice.id, "issued", after=audit_facts(invoice))
    return invoice


def check_issuable(order: Order, invoice_type: str | None) -> tuple[dict, str]:
    """Refuse to invoice (part of) a locked ``order`` with nothing to pay or while the company's
    invoicing details are missing; else the buyer block and the fapiao type (``invoice_type``, by
    default the buyer's own choice)."""
    if order.total_minor <= 0:
        raise InvoiceRefused(_("An order with nothing to pay cannot be invoiced."))
    missing = missing_seller_details()
    if missing:
        raise InvoiceRefused(_("Fill in the company's invoicing details first: %(missing)s.",
                               missing=", ".join(missing)))
    buyer = buyer_details(order)
    invoice_type = invoice_type or buyer.get("invoice_type") or "none"
    if invoice_type not in INVOICE_TYPES:
        raise InvoiceRefused(_("Choose the kind of fapiao."), field="invoice_type")
    return buyer, invoice_type


def new_invoice(kind: str, order: Order, lines: list[InvoiceLine], buyer: dict, invoice_type: str, **links) -> Invoice:
    now = utcnow()
    _actor_id, actor_name = audit.current_actor()
    invoice = Invoice(kind=kind, number=next_number(kind, now), order_id=order.id, currency=order.currency,
                      net_minor=sum(x.net_minor for x in lines), tax_minor=sum(x.tax_minor for x in lines),
                      gross_minor=sum(x.gross_minor for x in lines), credited_minor=0, seller=seller_details(),
                      buyer=buyer, buyer_name=_text(buyer.get("title"), 200) or order.customer.name,
                      invoice_type=invoice_type, issued_at=now, issued_by_name=actor_name, lines=lines, **links)
    db.session.add(invoice)
    db.session.flush()
    return invoice


def audit_facts(invoice: Invoice) -> dict:
    """The facts an invoice's audit row keeps (number, order, amounts; a credit note's invoice,
    a shipment's number)."""
    facts = {"number": invoice.number, "order": invoice.order.number,
             "amount": format_plain(invoice.gross_minor, invoice.currency),
             "tax": format_plain(invoice.tax_minor, invoice.currency), "currency": invoice.currency}
    if invoice.invoice is not None:
        facts["invoice"] = invoice.invoice.number
    if invoice.shipment_number:
        facts["shipment"] = invoice.shipment_number
    return facts


def rate_totals(invoice: Invoice) -> list[RateShare]:
    """The invoice's amounts summed per tax rate (orders' :func:`tax_by_rate` over its lines),
    highest rate first."""
    return [RateShare(t.percent, t.exempt, t.net, t.tax, t.gross) for t in tax_by_rate(invoice)]


def split_by_rate(amount: int, shares: list[RateShare]) -> list[RateShare]:
    """Split a gross ``amount`` over ``shares`` (an invoice's totals per rate) in proportion to
    each rate's gross.

    The rule: each rate gets ``floor(amount * gross_r / gross)``; the cents left over go one by
    one to the rates with the largest remainders (the higher rate first on a tie), so the parts add
    up to ``amount`` exactly. Within a rate the tax is ``round_half_up(part * tax_r / gross_r)``
    (the rate's own tax share, so an exempt or zero rate gets no tax) and the net is the rest.
    """
    total = sum(s.gross for s in shares)
    if amount <= 0 or total <= 0:
        return []
    amount = min(amount, total)
    parts = []
    for index, share in enumerate(shares):
        whole, rest = divmod(amount * share.gross, total)
        parts.append([whole, rest, index])
    left = amount - sum(p[0] for p in parts)
    for part in sorted(parts, key=lambda p: (-p[1], p[2]))[:left]:
        part[0] += 1
    result = []
    for (gross, _rest, index) in parts:
        share = shares[index]
        if gross == 0:
            continue
        tax = round_half_up(Decimal(gross) * share.tax / share.gross)
        result.append(RateShare(share.percent, share.exempt, gross - tax, tax, gross))
    return result


def credited_for_refund(refund_id: int) -> int:
    """Gross already credited for this refund by credit notes."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Invoice.gross_minor), 0))
                                 .where(Invoice.refund_id == refund_id, Invoice.kind == CREDIT_NOTE)))


def credit_refund(refund: Refund) -> list[Invoice]:
    """Issue the credit notes of a refunded ``refund`` against its order's invoices: the refunded
    amount not credited yet, taken from the invoices oldest first, each up to what it still has to
    credit (one invoice for a whole-order invoice; several for an order invoiced per shipment).
    Empty when the order has no invoice or nothing is left to credit; refused for a refund not
    paid out."""
    if refund.status != states.REFUNDED:
        raise InvoiceRefused(_("Only a refund paid out gets a credit note."))
    order = lock_order(refund.order_id)
    left = refund.amount_minor - credited_for_refund(refund.id)
    notes = []
    for invoice in order_invoices(order.id):
        wanted = min(left, invoice.gross_minor - invoice.credited_minor)
        if wanted > 0:
            notes.append(_credit(order, refund, invoice, wanted))
            left -= wanted
    return notes


def _credit(order: Order, refund: Refund, invoice: Invoice, wanted: int) -> Invoice:
    taken = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.gross_minor - Invoice.credited_minor >= wanted)
        .values(credited_minor=Invoice.credited_minor + wanted)
        .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise InvoiceRefused(_("The invoice was credited meanwhile: try again."))
    db.session.refresh(invoice, ["credited_minor"])
    lines = [InvoiceLine(position=i, sku="", name=_credit_line_name(refund, invoice, share), quantity=1,
                         unit_price_minor=share.gross, tax_rate_percent=share.percent, tax_exempt=share.exempt,
                         net_minor=share.net, tax_minor=share.tax, gross_minor=share.gross)
             for i, share in enumerate(split_by_rate(wanted, rate_totals(invoice)), 1)]
    note = new_invoice(CREDIT_NOTE, order, lines, dict(invoice.buyer), invoice.invoice_type, invoice_id=invoice.id,
                       refund_id=refund.id)
    audit.record("invoice", note.id, "credited", after=audit_facts(note))
    return note


def _credit_line_name(refund: Refund, invoice: Invoice, share: RateShare) -> str:
    """A credit note line's name, stored as a system text (read in the reader's language)."""
    rate = EXEMPT_LABEL if share.exempt else f"{percent_text(share.percent)}%"
    return system_text("finance.credit_line", ref=f"REF-{refund.id:06d}", number=invoice.number, rate=rate)


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    """The credit notes of an invoice, oldest first."""
    return list(db.session.scalars(select(Invoice).where(Invoice.invoice_id == invoice.id).order_by(Invoice.id)))


def invoice_status(invoice: Invoice) -> str:
    """issued, partly_credited or credited (a credit note is always issued)."""
    if invoice.is_credit_note or invoice.credited_minor == 0:
        return "issued"
    return "credited" if invoice.credited_minor >= invoice.gross_minor else "partly_credited"


def fapiao_wanted(invoice: Invoice) -> bool:
    """The buyer asked for a fapiao and none is recorded yet."""
    return invoice.kind == INVOICE and invoice.invoice_type != "none" and not invoice.fapiao_number


def fapiao_wanted_condition():
    """:func:`fapiao_wanted` as a WHERE condition (the fapiao queue, the list's filters)."""
    return and_(Invoice.kind == INVOICE, Invoice.invoice_type != "none", Invoice.fapiao_number.is_(None))


def text_condition(q: str):
    """Invoices whose number, buyer or order number contains ``q`` (the query joins the order)."""
    like = f"%{q}%"
    return or_(Invoice.number.ilike(like), Invoice.buyer_name.ilike(like), Order.number.ilike(like))


def _check_fapiao(invoice: Invoice, code: str, number: str, issued_on: date | None) -> None:
    if invoice.kind != INVOICE:
        raise InvoiceRefused(_("A fapiao is recorded against an invoice, not a credit note."))
    if not number.isdigit() or not 8 <= len(number) <= 20:
        raise InvoiceRefused(_("The fapiao number is 8 to 20 digits."), field="number")
    if code and (not code.isdigit() or len(code) not in (10, 12)):
        raise InvoiceRefused(_("The fapiao code is 10 or 12 digits (leave it empty for a fully digital fapiao)."),
                             field="code")
    if issued_on is None or issued_on < to_zone(invoice.issued_at, settings.company_timezone()).date():
        raise InvoiceRefused(_("The fapiao cannot be dated before the invoice."), field="issued_on")


def record_fapiao(invoice: Invoice, code: str, number: str, issued_on: date, adapter: str = "manual") -> Invoice:
    """Record the fapiao issued in the tax authority's system for ``invoice`` (once)."""
    code, number = _text(code, 20), _text(number, 20)
    _check_fapiao(invoice, code, number, issued_on)
    _actor_id, actor_name = audit.current_actor()
    done = db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id, Invoice.fapiao_number.is_(None))
        .values(fapiao_code=code or None, fapiao_number=number, fapiao_date=issued_on, fapiao_adapter=adapter,
                fapiao_recorded_by_name=actor_name)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise InvoiceRefused(_("A fapiao is recorded for this invoice already."))
    db.session.refresh(invoice)
    audit.record("invoice", invoice.id, "fapiao", after={"fapiao_code": code or None, "fapiao_number": number,
                                                          "fapiao_date": issued_on.isoformat()})
    return invoice


def check_taxpayer_id(value) -> str | None:
    """Setting validator of the seller's taxpayer ID (统一社会信用代码): empty, or a code that
    passes orders' check (18 characters, the standard's alphabet, the GB 32100-2015 check character)."""
    try:
        public_check_taxpayer_id(value)
    except DomainError as exc:
        return str(exc)
    return None
