"""Refunds: requested against a payment (never more than is left of it), approved through the
payment's adapter or rejected, and refunds other plugins ask for on an order."""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from erp_core import audit, jobs, webhooks
from erp_core.errors import Conflict
from erp_core.extensions import db
from erp_core.i18n import company_locale, render_system_text
from erp_core.money import format_money, format_plain
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, money_returned

from .. import states
from ..adapters import AdapterError, CallbackRejected, RefundNotice, RefundRequest
from ..models import Payment, Refund
from ._common import RefundRefused, _facts, _text, parse_money
from .invoices import credit_refund
from .methods import get_adapter


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
                         currency=refund.currency, reason=_provider_text(refund.reason), reference=refund.reference,
                         payment_amount_minor=payment.amount_minor)


def _provider_text(value: str) -> str:
    """A stored system text (e.g. "Return RMA-…") as the provider reads it: in the company's language."""
    with force_locale(company_locale()):
        return render_system_text(value)


def _mark_refunded(refund: Refund, provider_ref: str | None) -> bool:
    """requested -> refunded with one conditional UPDATE (the provider's answer to the job and
    its notification may arrive together): False when another one recorded it first."""
    now = utcnow()
    values = {"status": states.REFUNDED, "refunded_at": now, "decided_at": refund.decided_at or now}
    if provider_ref:
        values["provider_ref"] = provider_ref[:120]
    claimed = db.session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == states.REQUESTED).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(refund)
    if claimed != 1:
        return False
    hooks().erp_refund_recorded(refund=refund)
    webhooks.emit("refund.recorded", refund)
    money_returned(refund.order, refund.amount_minor, refund.currency, refund_ref(refund))
    audit.record("refund", refund.id, "refunded", before={"status": states.REQUESTED},
                 after=_facts(status=states.REFUNDED, transaction=provider_ref, reference=refund.reference or None),
                 note=refund.decision_note or None)
    credit_refund(refund)  # the credit note of the order's invoice, if it has one
    return True


def refund_from_ref(ref: str) -> Refund | None:
    """The refund a provider names by this site's reference ("REF-000045")."""
    digits = str(ref).removeprefix("REF-")
    return db.session.get(Refund, int(digits)) if digits.isdigit() and len(digits) < 12 else None


def record_refund_notice(adapter, notice: RefundNotice) -> tuple[Refund, bool]:
    """Record a provider's verified notification about a refund it was sent: checked against the
    refund (method, payment, amount) and recorded once. Returns ``(refund, recorded)``; raises
    CallbackRejected when it names no refund sent to this provider or another amount."""
    refund = refund_from_ref(notice.refund_ref)
    if refund is None or refund.method != adapter.code or refund.payment.merchant_ref != notice.merchant_ref:
        raise CallbackRejected(_("The callback names no refund of this site."))
    if notice.amount_minor != refund.amount_minor:
        raise CallbackRejected(_("The callback's amount differs from the refund's."))
    if notice.status == states.REFUNDED:
        if refund.status == states.REFUNDED:
            return refund, False
        if refund.status != states.REQUESTED or refund.decided_at is None:
            raise CallbackRejected(_("The refund was not sent to the provider."))
        return refund, _mark_refunded(refund, notice.provider_ref)
    failed = db.session.execute(
        update(Refund).where(Refund.id == refund.id, Refund.status == states.REQUESTED, Refund.decided_at.is_not(None))
        .values(decided_at=None).execution_options(synchronize_session=False)).rowcount
    db.session.refresh(refund)
    if failed == 1:  # back to the queue, to be retried or rejected
        message = str(notice.raw.get("refund_status") or notice.status)
        audit.record("refund", refund.id, "provider_failed", before={"status": states.REQUESTED},
                     after={"status": states.REQUESTED}, note=message)
        hooks().erp_refund_failed(refund=refund, message=message)
    return refund, failed == 1


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
    hooks().erp_refund_failed(refund=refund, message=message or status)


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


def refund_cancelled_order(order: Order, reason: str | None) -> list[Refund]:
    """Ask for the refund of what was paid on ``order``, which was just cancelled: one refund
    request (status requested) per received payment with something left to give back, for that
    amount, linked to the cancellation (source ``order_cancelled``). Payments whose method cannot
    refund here are left for finance to settle by hand (the order's panel says what was received).
    Called by the ``erp_order_status_changed`` hook inside the cancelling transaction."""
    payments = list(db.session.scalars(
        select(Payment).where(Payment.order_id == order.id, Payment.status == states.PAID)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())))
    reason = (reason or "").strip() or _("Order cancelled")
    refunds = []
    for payment in payments:
        left = payment.amount_minor - payment.refunded_minor
        if left <= 0 or not get_adapter(payment.method, must_be_enabled=False).refundable:
            continue
        refunds.append(request_refund(payment, left, reason, source_type=states.ORDER_CANCELLED,
                                      source_id=f"{order.id}-{order.version}"))
    return refunds


def refund_overpaid_order(order: Order, reason: str | None) -> list[Refund]:
    """Ask for the refund of what was received on ``order`` beyond its total, after the rest of
    the partly shipped order was closed (its total became that of what was delivered): refund
    requests (source ``order_rest_closed``) against its received payments, newest first, until
    the overpaid amount is covered. Payments whose method cannot refund here are left for
    finance. Called by the ``erp_order_changed`` hook inside the closing transaction."""
    payments = list(db.session.scalars(
        select(Payment).where(Payment.order_id == order.id, Payment.status == states.PAID,
                              Payment.currency == order.currency)
        .order_by(Payment.paid_at.desc(), Payment.id.desc())))
    over = sum(p.amount_minor - p.refunded_minor for p in payments) - order.total_minor
    reason = (reason or "").strip() or _("Rest of the order closed")
    refunds = []
    for payment in payments:
        left = min(payment.amount_minor - payment.refunded_minor, over)
        if left <= 0 or not get_adapter(payment.method, must_be_enabled=False).refundable:
            continue
        refunds.append(request_refund(payment, left, reason, source_type=states.REST_CLOSED,
                                      source_id=f"{order.id}-{order.version}"))
        over -= left
    return refunds
