"""Demo data: payments (cash, bank transfer, demo gateway) and refunds on the demo orders."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from erp_core import settings
from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.models import AuditLog
from erp_core.timeutil import utcnow
from plugins.orders.public import Order

from . import services, states

log = logging.getLogger(__name__)

REASONS = ("Damaged in transit", "Customer returned one item", "Price adjustment agreed with the customer",
           "Late delivery goodwill gesture")


def _orders(ctx) -> list[Order]:
    found = []
    for item in ctx.data.get("orders", []) or []:
        order = item if isinstance(item, Order) else db.session.get(Order, int(item))
        if order is not None:
            found.append(order)
    return found


def _when(order: Order, rng) -> datetime:  # noqa: F821
    base = order.confirmed_at or order.created_at or utcnow()
    moment = base + timedelta(hours=rng.randint(1, 72))
    return min(moment, utcnow() - timedelta(minutes=1))


def _backdate(when) -> None:
    """Give the audit entries not yet written the demo's point in time."""
    for obj in db.session.new:
        if isinstance(obj, AuditLog):
            obj.at = when


def load(ctx) -> None:
    rng = ctx.rng
    # The simulated gateway belongs to demo sites only: switched on here, off on any other site.
    settings.set_many({services.method_setting_key("demo_gateway"): True})
    gateway = services.get_adapter("demo_gateway", must_be_enabled=False)
    counts = {"payments": 0, "refunds": 0}
    refundable = []
    for order in _orders(ctx):
        if order.status not in states.SALE_STATUSES or order.total_minor <= 0:
            continue
        roll = rng.random()
        try:
            if roll < 0.15:
                continue  # unpaid: shows up in receivables
            if roll < 0.30:  # partly paid in cash
                part = max(order.total_minor * rng.choice((30, 50, 70)) // 100, 1)
                when = _when(order, rng)
                services.record_payment(order, "cash", part, paid_at=when, note="Deposit")
                _backdate(when)
                counts["payments"] += 1
                continue
            if roll < 0.55:  # paid online through the demo gateway
                when = _when(order, rng)
                payment, _url = services.start_online_payment(order, "demo_gateway", order.total_minor,
                                                              site_url="http://localhost/")
                _backdate(when)
                body, headers = gateway.sign_test_callback(services.callback_request(payment),
                                                           "DG-" + secrets.token_hex(8).upper())
                services.handle_callback("demo_gateway", body, headers)
                payment.paid_at = when  # demo history: spread over the past days
                _backdate(when)
                refundable.append(payment)
            else:
                method = rng.choice(("cash", "bank_transfer"))
                payment = services.record_payment(order, method, order.total_minor, paid_at=_when(order, rng),
                                                  reference=f"TRX{rng.randint(100000, 999999)}"
                                                  if method == "bank_transfer" else "")
                _backdate(payment.paid_at)
                refundable.append(payment)
            counts["payments"] += 1
        except DomainError as exc:  # e.g. a method switched off on this site
            log.debug("demo: no payment for order %s: %s", order.number, exc)
    db.session.flush()
    invoiced = _invoice_some(refundable, rng)
    for index, payment in enumerate(rng.sample(refundable, min(len(refundable), max(4, len(refundable) // 6)))):
        amount = max(payment.amount_minor * rng.choice((10, 25, 50)) // 100, 1)
        when = min(payment.paid_at + timedelta(days=rng.randint(1, 5)), utcnow())
        refund = services.request_refund(payment, amount, rng.choice(REASONS))
        refund.requested_at = when
        if index % 4 == 3:
            services.reject_refund(refund, "Goods not received back yet")
        elif index % 4 != 2:  # one in four stays in the queue, waiting for finance
            _approve(refund, payment, invoiced)
            refund.refunded_at = refund.decided_at = when
        _backdate(when)
        counts["refunds"] += 1
    ctx.data["finance_invoices"] = len(invoiced)
    ctx.log(f"  {len(invoiced)} invoices")
    ctx.data["finance"] = counts
    ctx.log(f"  {counts['payments']} payments, {counts['refunds']} refunds")


DEMO_SELLER = {"company.legal_name": "上海茗香茶具商行有限公司", "company.address": "上海市黄浦区南京东路 100 号 3 楼",
               "company.phone": "021-6321 8888", "finance.invoice.taxpayer_id": "91310101MA1FPX1234",
               "finance.invoice.bank": "招商银行上海南京东路支行", "finance.invoice.account": "1219 0880 1010 888"}


def _approve(refund, payment, invoiced: list) -> None:
    """Pay a demo refund out; an invoiced order's refund issues its credit note, and at least one
    refunded order is invoiced so that the demo has a credit note."""
    if not invoiced:
        invoiced.append(_invoice(payment, None))
    services.approve_refund(refund)


def _invoice(payment, invoice_type):
    from .services import invoices

    return _dated(payment, invoices.issue_invoice(payment.order, invoice_type))


def _dated(payment, invoice):
    if payment.paid_at and payment.paid_at.year == invoice.issued_at.year:
        invoice.issued_at = payment.paid_at  # demo history: issued when paid
        _backdate(payment.paid_at)
    return invoice


def _invoice_shipments(payment, invoice_type) -> list:
    """An invoice per dispatched shipment of the order (none with logistics off or unshipped)."""
    from .services import invoice_shipments

    return [_dated(payment, invoice_shipments.issue_shipment_invoice(payment.order, s.id, invoice_type))
            for s in invoice_shipments.order_shipments(payment.order)]


def _invoice_some(payments, rng) -> list:
    """Invoices for about half of the paid orders (the fapiao asked for: the buyer's, or an ordinary or special one),
    shipped ones sometimes invoiced per shipment; the seller's details are filled in first where the site has none."""
    settings.set_many({k: v for k, v in DEMO_SELLER.items() if not settings.get(k)})
    made = []
    for payment in payments:
        roll = rng.random()
        if roll < 0.5:
            try:
                invoice_type = rng.choice((None, None, "ordinary", "special"))
                per_shipment = _invoice_shipments(payment, invoice_type) if roll < 0.2 else []
                made.extend(per_shipment or [_invoice(payment, invoice_type)])
            except DomainError as exc:
                log.debug("demo: no invoice for order %s: %s", payment.order.number, exc)
    return made
