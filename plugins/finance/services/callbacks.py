"""Provider callbacks: verified by the payment's adapter, checked against the pending payment
and recorded once, however often they arrive."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from erp_core import audit, webhooks
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.money import format_plain
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow
from plugins.orders.public import Order

from .. import states
from ..adapters import (
    AdapterError,
    CallbackData,
    CallbackRejected,
    PaymentAdapter,
    PaymentRequest,
    RefundNotice,
)
from ..models import Payment
from ._common import PaymentRefused, _facts, _request_for, clean_text
from .credit import _credit_part, _lock_order
from .methods import get_adapter
from .queries import payment_from_ref
from .refunds import record_refund_notice


def callback_request(payment: Payment) -> PaymentRequest:
    """The PaymentRequest an adapter needs to sign or check a callback of ``payment``."""
    return _request_for(payment, db.session.get(Order, payment.order_id))


@dataclass(frozen=True)
class CallbackOutcome:
    payment: Payment
    recorded: bool  # False when the same callback was already processed


def handle_callback(method: str, body: bytes, headers) -> CallbackOutcome:
    """Process a provider's notification: verify it, check it against the pending payment and
    record it once.

    A provider's notification about a refund (:class:`RefundNotice`) is recorded on its refund
    (:func:`record_refund_notice`); the outcome then names the refund's payment.

    Raises :class:`CallbackRejected` (not authentic, malformed, or not matching the payment's
    order, amount or currency), :class:`~plugins.finance.review.TransactionTaken` when another
    payment already holds its transaction; a duplicate delivery returns ``recorded=False`` and
    changes nothing. A "paid" for a payment marked failed is recorded and flagged for review.
    """
    adapter = _adapter(method)
    data = adapter.verify_callback(body, headers)
    if isinstance(data, RefundNotice):
        refund, recorded = record_refund_notice(adapter, data)
        return CallbackOutcome(refund.payment, recorded)
    return record_notification(adapter, data)


def record_notification(adapter: PaymentAdapter, data: CallbackData, source: str = "callback") -> CallbackOutcome:
    """Record what a provider confirmed of a payment (a verified callback, or the answer to
    ``adapter.query``): checked against the pending payment and recorded once, on one path.
    ``source`` names the way it came in the audit log ("callback" or "query")."""
    from ..review import check_transaction_free

    callback = _matched(adapter, data)
    payment, status, provider_ref = callback.payment, callback.status, callback.provider_ref
    check_transaction_free(payment, provider_ref)
    # A "paid" after the payment was given up (by staff, or by an earlier "failed" callback): the
    # provider has the money, so it is recorded, and flagged for finance to review.
    late = payment.status == states.FAILED and status == states.PAID
    if payment.status != states.PENDING and not late:
        return _repeated_callback(payment, provider_ref, status)
    before = payment.status
    claimed = _claim_payment(callback, late)
    if claimed is None:
        return CallbackOutcome(payment, False)
    db.session.refresh(payment)
    if claimed != 1:  # another delivery of the same callback won the race
        return _repeated_callback(payment, provider_ref, status)
    _announce(callback, before, late, source)
    return CallbackOutcome(payment, True)


@dataclass(frozen=True)
class _Callback:
    """A verified callback matched to its payment: what the provider confirmed."""

    adapter: PaymentAdapter
    payment: Payment
    order: Order
    status: str
    provider_ref: str


def _adapter(method: str) -> PaymentAdapter:
    try:
        return get_adapter(method, must_be_enabled=False)
    except PaymentRefused:
        raise CallbackRejected(_("Unknown payment method.")) from None


def _matched(adapter: PaymentAdapter, data: CallbackData) -> _Callback:
    """Check that verified provider data names one of this site's payments, with that payment's
    order, amount and currency and a transaction; else raise CallbackRejected."""
    payment = payment_from_ref(data.merchant_ref)
    if payment is None or payment.method != adapter.code:
        raise CallbackRejected(_("The callback names no payment of this site."))
    order = db.session.get(Order, payment.order_id)
    if data.order_number != order.number:
        raise CallbackRejected(_("The callback is for another order."))
    if data.currency != payment.currency or data.amount_minor != payment.amount_minor:
        raise CallbackRejected(_("The callback's amount or currency differs from the payment's."))
    try:
        confirmed = adapter.confirm(_request_for(payment, order), data)
    except AdapterError as exc:
        raise CallbackRejected(str(exc)) from None
    provider_ref = clean_text(confirmed.provider_ref or data.provider_ref, 120)
    if not provider_ref:
        raise CallbackRejected(_("The callback names no transaction."))
    return _Callback(adapter, payment, order, confirmed.status, provider_ref)


def _claim_payment(callback: _Callback, late: bool) -> int | None:
    """Move the payment to the confirmed status with one conditional UPDATE; the row count (None
    when the provider's status is neither paid nor failed: nothing to record)."""
    from ..review import claim

    payment, provider_ref = callback.payment, callback.provider_ref
    before = payment.status
    now = utcnow()
    if callback.status == states.PAID:
        # Money taken by the provider cannot be refused: what exceeds the order's due (another
        # payment came in meanwhile) is kept as customer credit, and said so.
        _lock_order(callback.order)
        credit = _credit_part(callback.order, payment.amount_minor, True, exclude_payment_id=payment.id)
        return claim(payment, before, status=states.PAID, paid_at=now, updated_at=now, provider_ref=provider_ref,
                     credit_minor=max(credit, payment.credit_minor), needs_review=late, qr_text=None)
    if callback.status == states.FAILED:
        return claim(payment, before, status=states.FAILED, updated_at=now, provider_ref=provider_ref, qr_text=None)
    return None


def _announce(callback: _Callback, before: str, late: bool, source: str = "callback") -> None:
    """Tell other plugins and webhooks of a payment a callback made paid, and audit the callback."""
    payment, adapter = callback.payment, callback.adapter
    if payment.status == states.PAID:
        hooks().erp_payment_recorded(payment=payment)
        webhooks.emit("payment.recorded", payment)
    note = system_text("finance.confirmed_by", method=adapter.label)
    if source == "query":
        note = system_text("finance.confirmed_by_query", method=adapter.label)
    if late:
        note = system_text("finance.paid_after_failed", method=adapter.label)
    audit.record("payment", payment.id, source, before={"status": before},
                 after=_facts(status=payment.status, transaction=callback.provider_ref,
                              credit=format_plain(payment.credit_minor, payment.currency) if payment.credit_minor
                              else None, needs_review=True if late else None),
                 note=note)


def _repeated_callback(payment: Payment, provider_ref: str, status: str) -> CallbackOutcome:
    if payment.provider_ref == provider_ref and payment.status == status:
        return CallbackOutcome(payment, False)
    raise CallbackRejected(_("The payment was already settled by another transaction."))
