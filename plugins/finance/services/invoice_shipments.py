"""Invoices per shipment: an order invoiced shipment by shipment instead of whole.

Rules kept here:

* a shipment is learnt through logistics' hook ``erp_shipped_goods`` (answered by
  :mod:`plugins.logistics.public`; finance does not require logistics, so it never imports it):
  with logistics switched off nobody answers and nothing here is offered
  (:func:`per_shipment_available` is false);
* a shipment is invoiced once (the order row is locked while issuing, and
  ``finance_invoice.shipment_id`` is unique), and an order is invoiced either whole or per
  shipment, never both;
* the pro-rata rule: an order line of quantity ``Q`` with stored amounts ``net``, ``tax``,
  ``gross`` of which ``p`` units are invoiced already gets ``q`` more units (what the shipment
  carried, at most the ``Q - p`` not invoiced yet). Amounts are rounded on the running quantity:
  the invoice's gross is ``round_half_up(gross * (p + q) / Q)`` minus the gross already invoiced
  for the line, its tax likewise from the line's tax, its net the difference; the invoice that
  reaches ``Q`` (the last shipment's) takes the remainder, ``amount - already invoiced``. So
  the invoices of all shipments of an order add up to the order's net, tax and gross exactly,
  whatever order they are issued in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.errors import NotFound
from erp_core.extensions import db
from erp_core.money import round_half_up
from erp_core.plugins import current_manager
from plugins.orders.public import Order, lock_order

from ..models import Invoice, InvoiceLine
from .invoices import INVOICE, NOT_INVOICEABLE, InvoiceRefused, audit_facts, check_issuable, new_invoice, order_invoice


@dataclass(frozen=True)
class ShipmentToInvoice:
    """A shipment of an order as the invoice panel shows it: id, number, and its invoice (or None)."""

    id: int
    number: str
    invoice: Invoice | None


def per_shipment_available() -> bool:
    """Can invoices be issued per shipment (a plugin, logistics, answers ``erp_shipped_goods``)?"""
    return bool(current_manager().answerers("erp_shipped_goods"))


def _shipped_goods(order_id: int, shipment_id: int | None = None) -> list:
    return current_manager().collect("erp_shipped_goods", order_id=order_id, shipment_id=shipment_id)


def order_shipments(order: Order) -> list[ShipmentToInvoice]:
    """The shipments of ``order`` that carried its goods, each with its invoice if it has one
    (empty with logistics off)."""
    if not per_shipment_available():
        return []
    goods = _shipped_goods(order.id)
    invoices = {i.shipment_id: i for i in db.session.scalars(
        select(Invoice).where(Invoice.order_id == order.id, Invoice.kind == INVOICE, Invoice.shipment_id.is_not(None)))}
    return [ShipmentToInvoice(g.id, g.number, invoices.get(g.id)) for g in goods]


def _invoiced_so_far(order_id: int) -> dict[int, list[int]]:
    """``{order_line_id: [quantity, net, tax, gross]}`` of the order's shipment invoices so far."""
    rows = db.session.execute(
        select(InvoiceLine.order_line_id, InvoiceLine.quantity, InvoiceLine.net_minor, InvoiceLine.tax_minor,
               InvoiceLine.gross_minor)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.order_id == order_id, Invoice.kind == INVOICE, Invoice.shipment_id.is_not(None),
               InvoiceLine.order_line_id.is_not(None)))
    done: dict[int, list[int]] = {}
    for line_id, *values in rows:
        totals = done.setdefault(line_id, [0, 0, 0, 0])
        for i, value in enumerate(values):
            totals[i] += value
    return done


def share_of_line(line, before: list[int], quantity: int) -> tuple[int, int, int]:
    """``(net, tax, gross)`` of ``quantity`` more units of an order ``line`` of which ``before``
    (``[quantity, net, tax, gross]``) is invoiced already: the module's pro-rata rule."""
    done_qty, done_net, done_tax, done_gross = before
    reached = done_qty + quantity
    if reached >= line.quantity:
        return line.net_minor - done_net, line.tax_minor - done_tax, line.gross_minor - done_gross
    gross = round_half_up(Decimal(line.gross_minor * reached) / line.quantity) - done_gross
    tax = round_half_up(Decimal(line.tax_minor * reached) / line.quantity) - done_tax
    return gross - tax, tax, gross


def _lines(order: Order, carried: dict[int, int]) -> list[InvoiceLine]:
    done = _invoiced_so_far(order.id)
    lines = []
    for line in order.lines:
        before = done.get(line.id, [0, 0, 0, 0])
        quantity = min(carried.get(line.id, 0), line.quantity - before[0])
        if quantity <= 0:
            continue
        net, tax, gross = share_of_line(line, before, quantity)
        lines.append(InvoiceLine(position=len(lines) + 1, order_line_id=line.id, sku=line.sku, name=line.name,
                                 quantity=quantity, unit_price_minor=line.unit_price_minor,
                                 tax_rate_percent=line.tax_rate_percent, tax_exempt=bool(line.tax_exempt),
                                 net_minor=net, tax_minor=tax, gross_minor=gross))
    return lines


def issue_shipment_invoice(order: Order, shipment_id: int, invoice_type: str | None = None) -> Invoice:
    """Issue the invoice of one shipment of ``order``: the order lines it carried, their amounts
    pro rata (see the module's docstring). Refused with logistics off, for a shipment of another
    order or one not dispatched, a shipment invoiced already, an order with a whole-order invoice,
    or when every unit the shipment carried is invoiced already."""
    if not per_shipment_available():
        raise InvoiceRefused(_("Shipments are not available: the logistics module is switched off."))
    order = lock_order(order.id, with_lines=True)
    found = _shipped_goods(order.id, shipment_id)
    if not found:
        raise NotFound(_("No such shipment of this order (or it is not dispatched)."))
    goods = found[0]
    if order.status in NOT_INVOICEABLE:
        raise InvoiceRefused(_("Only a confirmed order can be invoiced."))
    whole = order_invoice(order.id)
    if whole is not None:
        raise InvoiceRefused(_("Order %(number)s has the whole-order invoice %(invoice)s: it cannot be invoiced "
                               "per shipment.", number=order.number, invoice=whole.number))
    if db.session.scalar(select(Invoice.id).where(Invoice.shipment_id == goods.id)) is not None:
        raise InvoiceRefused(_("Shipment %(number)s is invoiced already.", number=goods.number))
    buyer, invoice_type = check_issuable(order, invoice_type)
    lines = _lines(order, {g.order_line_id: g.quantity for g in goods.lines})
    if not lines:
        raise InvoiceRefused(_("Everything shipment %(number)s carried is invoiced already.", number=goods.number))
    invoice = new_invoice(INVOICE, order, lines, buyer, invoice_type, shipment_id=goods.id,
                          shipment_number=goods.number)
    audit.record("invoice", invoice.id, "issued", after=audit_facts(invoice))
    return invoice
