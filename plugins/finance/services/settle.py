"""Pending online payments whose notification never came: asked of the provider, recorded on the
same path as a callback, and withdrawn once they are too old.

Run by the schedule ``finance.settle_pending`` (:func:`plugins.finance.jobs.settle_pending`). The
provider is never called inside a database transaction: each payment is read, the transaction
committed, the provider asked, and its answer recorded in a new transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from erp_core import audit, settings
from erp_core.extensions import db
from erp_core.timeutil import utcnow

from .. import states
from ..adapters import AdapterError, CallbackRejected, PaymentAdapter
from ..models import Payment
from .callbacks import callback_request, record_notification
from .methods import adapter_classes, get_adapter

log = logging.getLogger(__name__)

QUERY_AFTER = timedelta(minutes=3)  # the provider's own notification usually comes within seconds
EXPIRY_SETTING = "finance.online_payment_expiry_minutes"
EXPIRY_DEFAULT = 120
BATCH = 200


@dataclass
class SettleReport:
    """What one run did, by payment reference."""

    paid: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def expiry() -> timedelta:
    """How long an online payment may stay pending before it is withdrawn at the provider."""
    minutes = settings.get(EXPIRY_SETTING, EXPIRY_DEFAULT)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = EXPIRY_DEFAULT
    return timedelta(minutes=max(minutes, 5))


def pending_to_settle(now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Ids of pending payments of methods that can be asked, older than :data:`QUERY_AFTER`."""
    now = now or utcnow()
    codes = [code for code, cls in adapter_classes().items() if cls.supports_query]
    if not codes:
        return []
    return list(db.session.scalars(
        select(Payment.id).where(Payment.status == states.PENDING, Payment.method.in_(codes),
                                 Payment.created_at <= now - QUERY_AFTER).order_by(Payment.id).limit(limit)))


def settle_pending(now: datetime | None = None) -> SettleReport:
    """Ask the providers about every pending payment due; commits after each one."""
    now = now or utcnow()
    report = SettleReport()
    ids = pending_to_settle(now)
    db.session.commit()
    for payment_id in ids:
        settle_payment(payment_id, report, now)
    return report


def settle_payment(payment_id: int, report: SettleReport, now: datetime | None = None) -> None:
    """Ask the provider about one pending payment and record its answer (commits)."""
    now = now or utcnow()
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.status != states.PENDING:
        db.session.commit()
        return
    ref, too_old = payment.merchant_ref, payment.created_at <= now - expiry()
    adapter = get_adapter(payment.method, must_be_enabled=False)
    request = callback_request(payment)
    db.session.commit()  # no transaction (nor SQLite's write lock) while the provider answers
    try:
        result = adapter.query(request)
    except Exception as exc:  # noqa: BLE001 - a provider or network failure: asked again next run
        log.warning("payment %s: the provider could not be asked: %s", ref, exc)
        report.errors.append(ref)
        return
    if result.status == states.PAID and result.data is not None:
        _record(adapter, result.data, ref, report)
    elif result.status == states.FAILED:
        if _give_up(payment_id, _("%(method)s says the payment was closed or failed: %(message)s",
                                  method=adapter.label, message=result.message or "-")):
            report.failed.append(ref)
    elif too_old:
        _withdraw(adapter, request, payment_id, ref, report)


def _record(adapter: PaymentAdapter, data, ref: str, report: SettleReport) -> None:
    try:
        outcome = record_notification(adapter, data, source="query")
        db.session.commit()
    except CallbackRejected as exc:  # the provider's answer does not match the payment: left for a person
        db.session.rollback()
        log.warning("payment %s: the provider's answer was not recorded: %s", ref, exc)
        report.errors.append(ref)
        return
    if outcome.recorded:
        report.paid.append(ref)


def _withdraw(adapter: PaymentAdapter, request, payment_id: int, ref: str, report: SettleReport) -> None:
    """Close a too old pending payment at the provider, then mark it failed here."""
    try:
        adapter.close(request)
    except AdapterError as exc:  # e.g. paid meanwhile: the next run's query records it
        log.info("payment %s: the provider did not close it: %s", ref, exc)
        report.errors.append(ref)
        return
    except Exception as exc:  # noqa: BLE001 - network failure: tried again next run
        log.warning("payment %s: the provider could not be reached to close it: %s", ref, exc)
        report.errors.append(ref)
        return
    if _give_up(payment_id, _("Not paid in time: closed at %(method)s.", method=adapter.label)):
        report.closed.append(ref)


def _give_up(payment_id: int, note: str) -> bool:
    """pending -> failed with one conditional UPDATE (a callback may have won meanwhile); commits."""
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment_id, Payment.status == states.PENDING)
        .values(status=states.FAILED, updated_at=utcnow(), qr_text=None)
        .execution_options(synchronize_session=False)).rowcount
    if claimed == 1:
        audit.record("payment", payment_id, "failed", before={"status": states.PENDING},
                     after={"status": states.FAILED}, note=note)
    db.session.commit()
    return claimed == 1
