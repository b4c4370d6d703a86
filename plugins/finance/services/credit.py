"""The rule that a payment never exceeds what the order still owes unless the excess is recorded
explicitly as customer credit, and the order lock that makes concurrent payments see each other."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core.extensions import db
from erp_core.money import format_money
from plugins.orders import public as orders_public
from plugins.orders.public import Order

from .. import states
from ..models import Payment
from ._common import PaymentRefused


def _lock_order(order: Order) -> None:
    """Row-lock the order so that concurrent payments see each other's sums."""
    orders_public.lock_order(order.id)


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
