"""Business rules of finance: payments, refunds, gateway callbacks and an order's balance.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller commits, or rolls back and shows the message. Other plugins hear about
payments and refunds through ``erp_payment_recorded`` and ``erp_refund_recorded``, fired here
inside the same transaction.

Rules kept here:

* an order's payment state and balance are derived from its payments and refunds
  (:func:`order_summary`), never typed in;
* a payment is in the order's currency and never more than what the order still owes, unless the
  user records the excess explicitly as customer credit;
* a refund never exceeds what is left of its payment: one conditional UPDATE of the payment's
  ``refunded_minor`` counter (``WHERE amount - refunded >= :x``), checked by row count, so twenty
  simultaneous requests cannot refund more than was paid;
* a provider callback is verified by its adapter and recorded once, however often it arrives
  (a conditional UPDATE ``pending -> paid`` checked by row count, plus a unique provider
  reference).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select, update

from erp_core import audit, jobs, settings, webhooks
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.money import MoneyError, currency_exponent, format_money, format_plain, parse_amount
from erp_core.timeutil import utcnow
from erp_core.plugins import current_manager, hooks
from plugins.orders.models import Order

from . import states
from .adapters import (AdapterError, CallbackData, CallbackRejected, PaymentAdapter, PaymentRequest,
                       RefundRequest)
from .models import Payment, Refund

log = logging.getLogger(__name__)

MAX_TEXT = 1000


class PaymentRefused(DomainError):
    code = "payment_refused"
    status = 422


class RefundRefused(DomainError):
    code = "refund_refused"
    status = 422


# ----------------------------------------------------------------------------- adapters


def adapter_classes() -> dict[str, type[PaymentAdapter]]:
    """Every payment adapter offered by enabled plugins, by code (first one wins on a clash)."""
    found: dict[str, type[PaymentAdapter]] = {}
    for cls in current_manager().collect("erp_payment_adapters"):
        if cls.code and cls.code not in found:
            found[cls.code] = cls
    return dict(sorted(found.items(), key=lambda item: item[0]))


def method_setting_key(code: str) -> str:
    return f"finance.method.{code}"


def method_enabled(code: str, classes: dict | None = None) -> bool:
    cls = (classes or adapter_classes()).get(code)
    if cls is None:
        return False
    return bool(settings.get(method_setting_key(code), cls.enabled_by_default))


def enabled_methods(online: bool | None = None) -> list[type[PaymentAdapter]]:
    """Adapters switched on in the settings (optionally only online or only manual ones)."""
    classes = adapter_classes()
    return [cls for code, cls in classes.items()
            if method_enabled(code, classes) and (online is None or cls.online == online)]


def method_label(code: str) -> str:
    cls = adapter_classes().get(code)
    return str(cls.label) if cls else code


def method_labels() -> dict[str, str]:
    return {code: str(cls.label) for code, cls in adapter_classes().items()}


def derived_secret(purpose: str) -> str:
    """A secret derived from the site's SECRET_KEY for ``purpose`` (never stored)."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"finance:{purpose}".encode(), hashlib.sha256).hexdigest()


def get_adapter(code: str, *, must_be_enabled: bool = True) -> PaymentAdapter:
    """An adapter instance with its settings; refuses unknown or switched-off methods."""
    classes = adapter_classes()
    cls = classes.get(code)
    if cls is None:
        raise PaymentRefused(_("Unknown payment method %(code)s.", code=code), field="method")
    if must_be_enabled and not method_enabled(code, classes):
        raise PaymentRefused(_("The payment method %(method)s is switched off.", method=cls.label), field="method")
    prefix = f"finance.{code}."
    values = {f.key[len(prefix):]: settings.get(f.key) for f in cls.settings_fields() if f.key.startswith(prefix)}
    if code == "demo_gateway" and not values.get("secret"):
        values["secret"] = derived_secret("demo_gateway")
    return cls(values)


# ----------------------------------------------------------------------------- balances


@dataclass(frozen=True)
class Summary:
    """The derived payment position of one order (minor units of ``currency``)."""

    order_id: int
    currency: str
    total: int
    paid: int  # payments received
    refunded: int  # refunds paid out
    pending: int  # online payments started, not yet confirmed
    refund_requested: int  # refunds waiting for a decision

    @property
    def balance(self) -> int:
        """What the company holds for this order: paid minus refunded."""
        return self.paid - self.refunded

    @property
    def due(self) -> int:
        """What the customer still owes (refunds, e.g. of returned goods, do not reopen it)."""
        return max(self.total - self.paid, 0)

    @property
    def credit(self) -> int:
        """What the company holds beyond the order total: the customer's credit."""
        return max(self.balance - self.total, 0)

    @property
    def state(self) -> str:
        return states.order_state(self.total, self.paid, self.refunded)

    @property
    def state_label(self):
        return states.ORDER_LABELS[self.state]

    @property
    def state_badge(self) -> str:
        return states.ORDER_BADGES[self.state]


def summaries(orders) -> dict[int, Summary]:
    """Summaries of several orders in two SQL statements (for lists and panels)."""
    orders = list(orders)
    if not orders:
        return {}
    ids = [o.id for o in orders]
    pay = {row.order_id: row for row in db.session.execute(
        select(Payment.order_id,
               func.coalesce(func.sum(case((Payment.status == states.PAID, Payment.amount_minor), else_=0)), 0)
               .label("paid"),
               func.coalesce(func.sum(case((Payment.status == states.PENDING, Payment.amount_minor), else_=0)), 0)
               .label("pending"))
        .where(Payment.order_id.in_(ids)).group_by(Payment.order_id))}
    ref = {row.order_id: row for row in db.session.execute(
        select(Refund.order_id,
               func.coalesce(func.sum(case((Refund.status == states.REFUNDED, Refund.amount_minor), else_=0)), 0)
               .label("refunded"),
               func.coalesce(func.sum(case((Refund.status == states.REQUESTED, Refund.amount_minor), else_=0)), 0)
               .label("requested"))
        .where(Refund.order_id.in_(ids)).group_by(Refund.order_id))}
    result = {}
    for order in orders:
        p, r = pay.get(order.id), ref.get(order.id)
        result[order.id] = Summary(order.id, order.currency, order.total_minor,
                                   int(p.paid) if p else 0, int(r.refunded) if r else 0,
                                   int(p.pending) if p else 0, int(r.requested) if r else 0)
    return result


def order_summary(order: Order) -> Summary:
    return summaries([order])[order.id]


# ----------------------------------------------------------------------------- input helpers


def parse_money(text, currency: str, field: str = "amount") -> int:
    """Minor units of what a user typed, with a translated message beside ``field``."""
    try:
        minor = parse_amount(text if text is not None else "", currency)
    except MoneyError as exc:
        reason = str(exc)
        if "decimals" in reason:
            message = _("%(code)s has %(n)d decimals at most.", code=currency, n=currency_exponent(currency))
        elif "negative" in reason:
            message = _("The amount must not be negative.")
        elif "too large" in reason:
            message = _("The amount is too large.")
        elif "empty" in reason:
            message = _("Type an amount.")
        else:
            message = _("The amount is not a number.")
        raise DomainError(message, field=field) from None
    if minor <= 0:
        raise DomainError(_("The amount must be more than zero."), field=field)
    return minor


def _facts(**values) -> dict:
    """What an audit entry records, without the empty values."""
    return {k: v for k, v in values.items() if v is not None}


def clean_text(value, limit: int = MAX_TEXT) -> str:
    """Typed text, trimmed and without NUL characters (PostgreSQL refuses them in text)."""
    return (value or "").replace("\x00", "").strip()[:limit]


_text = clean_text


def _lock_order(order: Order) -> None:
    """Row-lock the order (PostgreSQL) so that concurrent payments see each other's sums.

    SQLite needs nothing: write transactions there are already serialised (BEGIN IMMEDIATE).
    """
    db.session.execute(select(Order.id).where(Order.id == order.id).with_for_update())


def _check_order_open(order: Order) -> None:
    if order.status == "cancelled":
        raise PaymentRefused(_("Order %(number)s is cancelled; no payment can be taken for it.",
                               number=order.number))


def _request_for(payment: Payment, order: Order, **links) -> PaymentRequest:
    return PaymentRequest(merchant_ref=payment.merchant_ref, order_number=order.number,
                          amount_minor=payment.amount_minor, currency=payment.currency,
                          description=_("Order %(number)s", number=order.number), reference=payment.reference,
                          **links)


def _credit_part(order: Order, amount: int, as_credit: bool, exclude_payment_id: int | None = None) -> int:
    """How much of ``amount`` goes beyond what the order still owes; refuses it unless
    ``as_credit``. Must run after :func:`_lock_order`."""
    stmt = select(func.coalesce(func.sum(Payment.amount_minor), 0)).where(
        Payment.order_id == order.id, Payment.status == states.PAID)
    if exclude_payment_id is not None:
        stmt = stmt.where(Payment.id != exclude_payment_id)
    paid = int(db.session.scalar(stmt))
    due = max(order.total_minor - paid, 0)
    if amount <= due:
        return 0
    if not as_credit:
        if due == 0:
            message = _("Order %(number)s is already paid in full. Tick \u201crecord the excess as customer "
                        "credit\u201d to take the money anyway.", number=order.number)
        else:
            message = _("That is more than the %(due)s still due on order %(number)s. Record %(due)s, or tick "
                        "\u201crecord the excess as customer credit\u201d.", due=format_money(due, order.currency),
                        number=order.number)
        raise PaymentRefused(message, field="amount")
    return amount - due


# ----------------------------------------------------------------------------- payments


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
    audit.record("payment", payment.id, "started", after={"status": states.PENDING, "order": order.number,
                                                         "method": adapter.code,
                                                         "amount": format_plain(minor, order.currency),
                                                         "currency": order.currency})
    return payment, result.redirect_url


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

    Raises :class:`CallbackRejected` (not authentic, malformed, or not matching the payment's
    order, amount or currency), :class:`~plugins.finance.review.TransactionTaken` when another
    payment already holds its transaction; a duplicate delivery returns ``recorded=False`` and
    changes nothing. A "paid" for a payment marked failed is recorded and flagged for review.
    """
    try:
        adapter = get_adapter(method, must_be_enabled=False)
    except PaymentRefused:
        raise CallbackRejected(_("Unknown payment method.")) from None
    data: CallbackData = adapter.verify_callback(body, headers)
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
    from .review import check_transaction_free, claim

    check_transaction_free(payment, provider_ref)
    # A "paid" after the payment was given up (by staff, or by an earlier "failed" callback): the
    # provider has the money, so it is recorded, and flagged for finance to review.
    late = payment.status == states.FAILED and confirmed.status == states.PAID
    if payment.status != states.PENDING and not late:
        return _repeated_callback(payment, provider_ref, confirmed.status)
    before = payment.status
    now = utcnow()
    if confirmed.status == states.PAID:
        # Money taken by the provider cannot be refused: what exceeds the order's due (another
        # payment came in meanwhile) is kept as customer credit, and said so.
        _lock_order(order)
        credit = _credit_part(order, payment.amount_minor, True, exclude_payment_id=payment.id)
        claimed = claim(payment, before, status=states.PAID, paid_at=now, updated_at=now, provider_ref=provider_ref,
                        credit_minor=max(credit, payment.credit_minor), needs_review=late)
    elif confirmed.status == states.FAILED:
        claimed = claim(payment, before, status=states.FAILED, updated_at=now, provider_ref=provider_ref)
    else:
        return CallbackOutcome(payment, False)
    db.session.refresh(payment)
    if claimed != 1:  # another delivery of the same callback won the race
        return _repeated_callback(payment, provider_ref, confirmed.status)
    if payment.status == states.PAID:
        hooks().erp_payment_recorded(payment=payment)
        webhooks.emit("payment.recorded", payment)
    note = _("Confirmed by %(method)s", method=adapter.label)
    if late:
        note = _("Paid at %(method)s after the payment was marked failed: needs review", method=adapter.label)
    audit.record("payment", payment.id, "callback", before={"status": before},
                 after=_facts(status=payment.status, transaction=provider_ref,
                              credit=format_plain(payment.credit_minor, payment.currency) if payment.credit_minor
                              else None, needs_review=True if late else None),
                 note=note)
    return CallbackOutcome(payment, True)


def _repeated_callback(payment: Payment, provider_ref: str, status: str) -> CallbackOutcome:
    if payment.provider_ref == provider_ref and payment.status == status:
        return CallbackOutcome(payment, False)
    raise CallbackRejected(_("The payment was already settled by another transaction."))


def payment_from_ref(ref: str) -> Payment | None:
    """The payment a provider names by its merchant reference ("PAY-000123")."""
    digits = str(ref).removeprefix("PAY-")
    return db.session.get(Payment, int(digits)) if digits.isdigit() and len(digits) < 12 else None


def mark_payment_failed(payment: Payment, note: str) -> None:
    """Give up on a pending online payment (the customer abandoned it)."""
    note = _text(note)
    if not note:
        raise DomainError(_("Say why the payment is given up."), field="note")
    now = utcnow()
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.status == states.PENDING)
        .values(status=states.FAILED, updated_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_("This payment is no longer pending."))
    db.session.refresh(payment)
    audit.record("payment", payment.id, "failed", before={"status": states.PENDING},
                 after={"status": states.FAILED}, note=note)


def get_payment(payment_id) -> Payment:
    payment = db.session.get(Payment, int(payment_id)) if str(payment_id).isdigit() else None
    if payment is None:
        raise NotFound(_("No such payment."))
    return payment


def get_refund(refund_id) -> Refund:
    refund = db.session.get(Refund, int(refund_id)) if str(refund_id).isdigit() else None
    if refund is None:
        raise NotFound(_("No such refund."))
    return refund


# ----------------------------------------------------------------------------- refunds


def refund_ref(refund: Refund) -> str:
    return f"REF-{refund.id:06d}"


def request_refund(payment: Payment, amount, reason: str, *, source_type: str = "manual",
                   source_id: str | None = None, reference: str = "") -> Refund:
    """Ask to give back ``amount`` of ``payment`` (status requested).

    The amount is promised at once with one conditional UPDATE of the payment's counter, so
    concurrent requests can never together exceed the payment. A reason is required.
    """
    reason = _text(reason)
    if not reason:
        raise RefundRefused(_("Give a reason for the refund."), field="reason")
    if payment.status != states.PAID:
        raise RefundRefused(_("Only a received payment can be refunded."))
    adapter = get_adapter(payment.method, must_be_enabled=False)
    if not adapter.refundable:
        raise RefundRefused(_("%(method)s payments cannot be refunded here.", method=adapter.label))
    minor = amount if isinstance(amount, int) else parse_money(amount, payment.currency)
    if minor <= 0:
        raise RefundRefused(_("The amount must be more than zero."), field="amount")
    now = utcnow()
    taken = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == states.PAID,
               Payment.amount_minor - Payment.refunded_minor >= minor)
        .values(refunded_minor=Payment.refunded_minor + minor, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(payment, ["refunded_minor", "status"])
    if taken != 1:
        left = payment.amount_minor - payment.refunded_minor
        raise RefundRefused(_("Only %(left)s of this payment can still be refunded.",
                              left=format_money(max(left, 0), payment.currency)), field="amount")
    _actor_id, actor_name = audit.current_actor()
    refund = Refund(payment_id=payment.id, order_id=payment.order_id, method=payment.method,
                    status=states.REQUESTED, amount_minor=minor, currency=payment.currency, reason=reason,
                    source_type=_text(source_type, 40) or "manual",
                    source_id=(str(source_id)[:60] if source_id is not None else None),
                    reference=_text(reference, 120), requested_at=now, requested_by_name=actor_name)
    db.session.add(refund)
    db.session.flush()
    hooks().erp_refund_recorded(refund=refund)
    webhooks.emit("refund.recorded", refund)
    audit.record("refund", refund.id, "requested", before=None,
                 after={"status": states.REQUESTED, "payment": payment.merchant_ref,
                        "amount": format_plain(minor, payment.currency), "currency": payment.currency,
                        "source": f"{refund.source_type}:{refund.source_id}" if refund.source_id
                        else refund.source_type},
                 note=reason)
    return refund


def approve_refund(refund: Refund, *, reference: str = "", note: str = "") -> bool:
    """Pay a requested refund out through the payment's adapter.

    Local adapters (cash, bank transfer, demo gateway) answer at once: the refund becomes
    refunded in this transaction. A remote adapter is called from a job after commit; the
    refund stays requested until the provider answers. Returns True when it is refunded now.
    """
    payment = refund.payment
    adapter = get_adapter(refund.method, must_be_enabled=False)
    reference = _text(reference, 120)
    now = utcnow()
    # Claim the decision: of two simultaneous approvals (or an approval and a rejection) one wins.
    claimed = db.session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == states.REQUESTED,
                             Refund.decided_at.is_(None))
        .values(decided_at=now, decision_note=_text(note), reference=reference or Refund.reference)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_("This refund was already decided."))
    db.session.refresh(refund)
    _actor_id, actor_name = audit.current_actor()
    refund.decided_by_name = actor_name
    if adapter.remote:
        audit.record("refund", refund.id, "sent", before={"status": states.REQUESTED},
                     after={"status": states.REQUESTED, "provider": str(adapter.label)},
                     note=refund.decision_note or None)
        jobs.enqueue("plugins.finance.jobs:send_refund", refund.id)
        return False
    try:
        result = adapter.refund(adapter_refund_request(refund, payment))
    except AdapterError as exc:
        raise RefundRefused(_("%(method)s refused the refund: %(message)s", method=adapter.label,
                              message=exc)) from None
    if result.status == states.REFUNDED:
        _mark_refunded(refund, result.provider_ref)
        return True
    if result.status == "pending":
        audit.record("refund", refund.id, "sent", before={"status": states.REQUESTED},
                     after={"status": states.REQUESTED, "provider": str(adapter.label)},
                     note=result.message or None)
        return False
    raise RefundRefused(_("%(method)s refused the refund: %(message)s", method=adapter.label,
                          message=result.message or result.status))


def adapter_refund_request(refund: Refund, payment: Payment) -> RefundRequest:
    return RefundRequest(refund_ref=refund_ref(refund), merchant_ref=payment.merchant_ref,
                         provider_ref=payment.provider_ref, amount_minor=refund.amount_minor,
                         currency=refund.currency, reason=refund.reason, reference=refund.reference)


def _mark_refunded(refund: Refund, provider_ref: str | None) -> None:
    now = utcnow()
    refund.status = states.REFUNDED
    refund.refunded_at = now
    refund.decided_at = refund.decided_at or now
    if provider_ref:
        refund.provider_ref = provider_ref[:120]
    db.session.flush()
    hooks().erp_refund_recorded(refund=refund)
    webhooks.emit("refund.recorded", refund)
    audit.record("refund", refund.id, "refunded", before={"status": states.REQUESTED},
                 after=_facts(status=states.REFUNDED, transaction=provider_ref, reference=refund.reference or None),
                 note=refund.decision_note or None)


def reject_refund(refund: Refund, note: str) -> None:
    """Refuse a requested refund (a reason is required); its amount becomes refundable again."""
    note = _text(note)
    if not note:
        raise RefundRefused(_("Say why the refund is rejected."), field="note")
    now = utcnow()
    claimed = db.session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == states.REQUESTED,
                             Refund.decided_at.is_(None))
        .values(status=states.REJECTED, decided_at=now, decision_note=note)
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_("This refund was already decided."))
    db.session.execute(
        update(Payment).where(Payment.id == refund.payment_id)
        .values(refunded_minor=Payment.refunded_minor - refund.amount_minor, updated_at=now)
        .execution_options(synchronize_session=False))
    db.session.refresh(refund)
    db.session.refresh(refund.payment, ["refunded_minor"])
    _actor_id, actor_name = audit.current_actor()
    refund.decided_by_name = actor_name
    hooks().erp_refund_recorded(refund=refund)
    webhooks.emit("refund.recorded", refund)
    audit.record("refund", refund.id, "rejected", before={"status": states.REQUESTED},
                 after={"status": states.REJECTED}, note=note)


def finish_remote_refund(refund_id: int, status: str, provider_ref: str | None, message: str = "") -> None:
    """Record a remote provider's answer to a refund sent by :func:`approve_refund`."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status != states.REQUESTED:
        return
    if status == states.REFUNDED:
        _mark_refunded(refund, provider_ref)
        return
    if status == "pending":
        return
    # The provider refused: the refund goes back to the queue, to be retried or rejected.
    refund.decided_at = None
    audit.record("refund", refund.id, "provider_failed", before={"status": states.REQUESTED},
                 after={"status": states.REQUESTED}, note=message or status)


def refund_order(order: Order, amount_minor: int, currency: str, reason: str, source_type: str,
                 source_id) -> list[Refund]:
    """Request refunds of ``amount_minor`` on ``order`` for another plugin (a return, a delivery
    exception), spread over its payments (newest first). Linked to ``(source_type, source_id)``;
    asking again for the same source and amount returns the refunds already requested."""
    if currency != order.currency:
        raise RefundRefused(_("Order %(number)s is in %(ours)s, not %(theirs)s.", number=order.number,
                              ours=order.currency, theirs=currency))
    if not isinstance(amount_minor, int) or amount_minor <= 0:
        raise RefundRefused(_("The amount must be more than zero."))
    source_id = str(source_id) if source_id is not None else None
    existing = list(db.session.scalars(
        select(Refund).where(Refund.order_id == order.id, Refund.source_type == source_type,
                             Refund.source_id == source_id, Refund.status != states.REJECTED)
        .order_by(Refund.id)))
    if existing:
        if sum(r.amount_minor for r in existing) == amount_minor:
            return existing
        raise Conflict(_("A refund for this %(source)s already exists.",
                         source=states.SOURCE_LABELS.get(source_type, source_type)))
    payments = list(db.session.scalars(
        select(Payment).where(Payment.order_id == order.id, Payment.status == states.PAID)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())))
    refundable = sum(p.amount_minor - p.refunded_minor for p in payments)
    if refundable < amount_minor:
        raise RefundRefused(_("Only %(left)s was paid on order %(number)s and can be refunded, not %(asked)s.",
                              left=format_money(refundable, order.currency), number=order.number,
                              asked=format_money(amount_minor, order.currency)))
    refunds, left = [], amount_minor
    for payment in payments:
        part = min(left, payment.amount_minor - payment.refunded_minor)
        if part <= 0:
            continue
        refunds.append(request_refund(payment, part, reason, source_type=source_type, source_id=source_id))
        left -= part
        if left == 0:
            break
    return refunds


# ----------------------------------------------------------------------------- policy


def payment_before_shipping() -> bool:
    return bool(settings.get("finance.payment_before_shipping", False))


def shipping_problems(order: Order, new_status: str) -> list[str]:
    """The "payment before shipping" policy: goods of an unpaid order do not leave."""
    if new_status not in states.SHIPPING_STATUSES or not payment_before_shipping():
        return []
    summary = order_summary(order)
    if summary.due <= 0:
        return []
    return [_("Order %(number)s cannot ship yet: %(due)s is still unpaid and this site asks for payment before "
              "shipping. Record the payment first.", number=order.number,
              due=format_money(summary.due, order.currency))]


# ----------------------------------------------------------------------------- timelines


def finance_timeline(payments, refunds, limit: int = 300):
    """Audit entries of these payments and refunds, oldest first (for one timeline)."""
    from erp_core.models import AuditLog
    from sqlalchemy import and_, or_

    conditions = []
    if payments:
        conditions.append(and_(AuditLog.object_type == "payment",
                               AuditLog.object_id.in_([str(p.id) for p in payments])))
    if refunds:
        conditions.append(and_(AuditLog.object_type == "refund",
                               AuditLog.object_id.in_([str(r.id) for r in refunds])))
    if not conditions:
        return []
    stmt = select(AuditLog).where(or_(*conditions)).order_by(AuditLog.id.desc()).limit(limit)
    return list(reversed(db.session.scalars(stmt).all()))

