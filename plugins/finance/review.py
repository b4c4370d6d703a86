"""Payments that need a person's look: a provider's "paid" that came after the payment was
marked failed (the money was taken, so it is recorded and flagged), and transactions that a
provider names twice.

The flag is shown on the payment, filtered in the payments list ("needs review"), and cleared
by a user holding ``finance.payments.review``, with a note in the audit log.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from erp_core import audit
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db

from .adapters import CallbackRejected
from .models import Payment


class TransactionTaken(CallbackRejected):
    """A callback names a provider transaction already recorded on another payment (409)."""

    status = 409
    code = "transaction_taken"


def _taken() -> TransactionTaken:
    return TransactionTaken(_("This transaction is already recorded on another payment."))


def check_transaction_free(payment: Payment, provider_ref: str) -> None:
    """Refuse (:class:`TransactionTaken`) a transaction another payment of the method holds."""
    other = db.session.scalar(select(Payment.id).where(
        Payment.method == payment.method, Payment.provider_ref == provider_ref, Payment.id != payment.id))
    if other is not None:
        raise _taken()


def claim(payment: Payment, from_status: str, **values) -> int:
    """Move ``payment`` from ``from_status`` with one conditional UPDATE; returns the rows
    changed (0: another delivery won). A transaction taken meanwhile by a concurrent callback
    of another payment (the unique constraint, which PostgreSQL checks at once) is a
    :class:`TransactionTaken`, not a server error."""
    try:
        with db.session.begin_nested():
            return db.session.execute(
                update(Payment).where(Payment.id == payment.id, Payment.status == from_status)
                .values(**values).execution_options(synchronize_session=False)).rowcount
    except IntegrityError:
        raise _taken() from None


def clear_review(payment: Payment, note: str) -> None:
    """Finance checked a flagged payment: the flag goes, the note stays in the audit log."""
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what was checked."), field="note")
    claimed = db.session.execute(
        update(Payment).where(Payment.id == payment.id, Payment.needs_review.is_(True))
        .values(needs_review=False).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        raise Conflict(_("This payment does not need a review."))
    db.session.refresh(payment)
    audit.record("payment", payment.id, "review_cleared", before={"needs_review": True},
                 after={"needs_review": False}, note=note[:2000])
