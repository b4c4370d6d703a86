"""Payments: money recorded by hand (cash, bank transfer...), online payments started with a
provider, and pending payments given up."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import update

from erp_core import audit, webhooks
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.money import format_plain
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow
from plugins.orders.public import Order

from .. import states
from ..adapters import AdapterError
from ..models import Payment
from ._common import PaymentRefused, _facts, _request_for, _text, parse_money
from .credit import _credit_part, _lock_order
from .methods import get_adapter


def _check_order_open(order: Order) -> None:
    if order.status == "cancelled":
        raise PaymentRefused(_("Order %(number)s is cancelled; no payment can be taken for it.",
                               number=order.number))


def record_payment(order: Order, method: str, amount, *, paid_at: datetime | None = None, reference: str = "",
                   note: str = "", as_credit: bool = False) -> Payment:
    """Record money received for ``order`` by a manual method (cash, bank transfer...).

    ``amount`` is text as typed (or minor units as an int). Refuses more than the order still
    owes unless ``as_credit``; refuses times in the future.
    """
    adapter = get_adapter(method)
    if adapter.online:
        raise PaymentRefused(_("%(method)s payments are confirmed by the provider, not entered by hand.",
                               method=adapter.label), field="method")
    _check_order_open(order)
    minor = amount if isinstance(amount, int) else parse_money(amount, order.currency)
    if minor <= 0:
        raise PaymentRefused(_("The amount must be more than zero."), field="amount")
    now = utcnow()
    paid_at = paid_at or now
    if paid_at.tzinfo is None:
        raise ValueError("paid_at must be timezone-aware")
    if paid_at > now + timedelta(minutes=5):
        raise PaymentRefused(_("The payment time is in the future."), field="paid_at")
    reference, note = _text(reference, 120), _text(note)
    _lock_order(order)
    credit = _credit_part(order, minor, as_credit)
    actor_id, actor_name = audit.current_actor()
    payment = Payment(order_id=order.id, method=adapter.code, status=states.PENDING, amount_minor=minor,
                      currency=order.currency, refunded_minor=0, credit_minor=credit, paid_at=None,
                      reference=reference, note=note, created_at=now, updated_at=now, created_by_id=actor_id,
                      created_by_name=actor_name)
    db.session.add(payment)
    db.session.flush()
    try:
        result = adapter.start(_request_for(payment, order))
    except AdapterError as exc:
        field = "reference" if adapter.requires_reference and not reference else "method"
        raise PaymentRefused(str(exc), field=field) from None
    if result.status != states.PAID:
        raise PaymentRefused(_("%(method)s did not confirm the payment: %(message)s",
                               method=adapter.label, message=result.message or result.status))
    payment.status = states.PAID
    payment.paid_at = paid_at
    db.session.flush()
    hooks().erp_payment_recorded(payment=payment)
    webhooks.emit("payment.recorded", payment)
    audit.record("payment", payment.id, "recorded", before=None,
                 after=_facts(status=states.PAID, order=order.number, method=adapter.code,
                              amount=format_plain(minor, order.currency), currency=order.currency,
                              credit=format_plain(credit, order.currency) if credit else None,
                              reference=reference or None), note=note or None)
    return payment


def start_online_payment(order: Order, method: str, amount, *, site_url: str, return_url: str = "",
                         callback_url: str = "", as_credit: bool = False) -> tuple[Payment, str]:
    """Create a pending payment and ask the provider where to send the customer.

    Returns ``(payment, redirect_url)``. The payment becomes paid only through a verified
    callback (:func:`handle_callback`).
    """
    adapter = get_adapter(method)
    if not adapter.online:
        raise PaymentRefused(_("%(method)s is not an online payment method.", method=adapter.label),
                             field="method")
    _check_order_open(order)
    minor = amount if isinstance(amount, int) else parse_money(amount, order.currency)
    _lock_order(order)
    credit = _credit_part(order, minor, as_credit)
    now = utcnow()
    actor_id, actor_name = audit.current_actor()
    payment = Payment(order_id=order.id, method=adapter.code, status=states.PENDING, amount_minor=minor,
                      currency=order.currency, refunded_minor=0, credit_minor=credit, created_at=now,
                      updated_at=now, created_by_id=actor_id, created_by_name=actor_name)
    db.session.add(payment)
    db.session.flush()
    try:
        result = adapter.start(_request_for(payment, order, site_url=site_url, return_url=return_url,
                                            callback_url=callback_url))
    except AdapterError as exc:
        raise PaymentRefused(str(exc), field="method") from None
    if result.provider_ref:
        payment.provider_ref = result.provider_ref[:120]
    if result.qr_text:
        if len(result.qr_text) > 500:
            raise PaymentRefused(_("%(method)s answered a payment code that is too long.", method=adapter.label))
        payment.qr_text = result.qr_text
    audit.record("payment", payment.id, "started", after={"status": states.PENDING, "order": order.number,
                                                         "method": adapter.code,
                                                         "amount": format_plain(minor, order.currency),
                                                         "currency": order.currency})
    return payment, result.redirect_url


def mark_payment_failed(payment: Payment, note: str) -> None:
    """Give up on a pending online payment (the customer abandoned it)."""
    note = _text(note)
    if not note:
        raise DomainError(_("Say why the payment is given up."), field="note")
    now = utcnow()
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status == states.PENDING)
        .values(status=states.FAILED, updated_at=now, qr_text=None)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_("This payment is no longer pending."))
    db.session.refresh(payment)
    audit.record("payment", payment.id, "failed", before={"status": states.PENDING},
                 after={"status": states.FAILED}, note=note)
