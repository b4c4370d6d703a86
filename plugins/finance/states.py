"""States of payments, refunds and of an order's payment (derived, never stored)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl

# Payment: pending -> paid | failed. Manual methods record a payment as paid at once; an online
# payment waits (pending) for the provider's verified callback.
PENDING = "pending"
PAID = "paid"
FAILED = "failed"
PAYMENT_STATUSES = (PENDING, PAID, FAILED)
PAYMENT_LABELS = {PENDING: _pl("finance", "Pending"), PAID: _pl("finance", "Paid"), FAILED: _pl("finance", "Failed")}
PAYMENT_BADGES = {PENDING: "warning", PAID: "success", FAILED: "secondary"}

# Refund: requested -> refunded | rejected.
REQUESTED = "requested"
REFUNDED = "refunded"
REJECTED = "rejected"
REFUND_STATUSES = (REQUESTED, REFUNDED, REJECTED)
REFUND_LABELS = {REQUESTED: _pl("finance", "Requested"), REFUNDED: _pl("finance", "Refunded"),
                 REJECTED: _pl("finance", "Rejected")}
REFUND_BADGES = {REQUESTED: "warning", REFUNDED: "info", REJECTED: "secondary"}

# Where a refund comes from.
ORDER_CANCELLED = "order_cancelled"  # the refund of what was paid on an order that was cancelled
REST_CLOSED = "order_rest_closed"  # the refund of what was paid beyond a closed order's new total
SOURCE_LABELS = {
    "manual": _l("Entered by finance"),
    ORDER_CANCELLED: _l("Order cancelled"),
    REST_CLOSED: _l("Rest of the order closed"),
    "return": _pl("finance", "Return"),
    "shipment": _l("Delivery exception"),
}

# The payment state of an order, derived from its payments and refunds.
UNPAID = "unpaid"
PARTIALLY_PAID = "partially_paid"
ORDER_PAID = "paid"
PARTIALLY_REFUNDED = "partially_refunded"
ORDER_REFUNDED = "refunded"
ORDER_STATES = (UNPAID, PARTIALLY_PAID, ORDER_PAID, PARTIALLY_REFUNDED, ORDER_REFUNDED)
ORDER_LABELS = {
    UNPAID: _pl("finance", "Unpaid"),
    PARTIALLY_PAID: _pl("finance", "Partially paid"),
    ORDER_PAID: _pl("finance", "Paid"),
    PARTIALLY_REFUNDED: _pl("finance", "Partially refunded"),
    ORDER_REFUNDED: _pl("finance", "Refunded"),
}
ORDER_BADGES = {UNPAID: "danger", PARTIALLY_PAID: "warning", ORDER_PAID: "success",
                PARTIALLY_REFUNDED: "info", ORDER_REFUNDED: "secondary"}

# Order statuses (plugins.orders.states) that count as sales: confirmed and not cancelled.
SALE_STATUSES = ("confirmed", "partially_shipped", "shipped", "delivered", "completed")
SHIPPING_STATUSES = ("partially_shipped", "shipped")


def order_state(total: int, paid: int, refunded: int) -> str:
    """The payment state of an order from its total and the sums of its paid payments and
    completed refunds (all in the order's currency, minor units)."""
    if refunded > 0:
        return ORDER_REFUNDED if paid - refunded <= 0 else PARTIALLY_REFUNDED
    if paid >= total:
        return ORDER_PAID
    return PARTIALLY_PAID if paid > 0 else UNPAID
