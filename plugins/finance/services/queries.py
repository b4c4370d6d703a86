"""Reading finance: an order's derived payment position (:class:`Summary`), finding payments
and refunds, the "payment before shipping" policy and the audit timeline of payments and refunds."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, or_, select

from erp_core import settings
from erp_core.errors import NotFound
from erp_core.extensions import db
from erp_core.money import format_money
from plugins.orders.public import Order, customer_visible

from .. import states
from ..models import Payment, Refund


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

def payment_from_ref(ref: str) -> Payment | None:
    """The payment a provider names by its merchant reference ("PAY-000123")."""
    digits = str(ref).removeprefix("PAY-")
    return db.session.get(Payment, int(digits)) if digits.isdigit() and len(digits) < 12 else None


def get_payment(payment_id) -> Payment:
    """The payment with this id; NotFound otherwise, also when its order's customer is out of the
    logged-in user's scope ("own customers only")."""
    payment = db.session.get(Payment, int(payment_id)) if str(payment_id).isdigit() else None
    if payment is None or not customer_visible(payment.order.customer):
        raise NotFound(_("No such payment."))
    return payment


def get_refund(refund_id) -> Refund:
    """The refund with this id; NotFound otherwise, also when its order's customer is out of the
    logged-in user's scope ("own customers only")."""
    refund = db.session.get(Refund, int(refund_id)) if str(refund_id).isdigit() else None
    if refund is None or not customer_visible(refund.order.customer):
        raise NotFound(_("No such refund."))
    return refund


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
