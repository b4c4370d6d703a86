"""The kinds of customer notification, their settings and the labels of their log entries."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ORDER_CONFIRMED = "order_confirmed"
SHIPPED = "shipped"
DELIVERED = "delivered"
DELIVERY_PROBLEM = "delivery_problem"
RETURN_APPROVED = "return_approved"
RETURN_RECEIVED = "return_received"
REFUND_PAID = "refund_paid"

KINDS = (ORDER_CONFIRMED, SHIPPED, DELIVERED, DELIVERY_PROBLEM, RETURN_APPROVED, RETURN_RECEIVED, REFUND_PAID)

KIND_LABELS = {
    ORDER_CONFIRMED: _l("Order confirmed"),
    SHIPPED: _l("Order shipped"),
    DELIVERED: _l("Order delivered"),
    DELIVERY_PROBLEM: _l("Delivery problem"),
    RETURN_APPROVED: _l("Return approved"),
    RETURN_RECEIVED: _l("Returned goods received"),
    REFUND_PAID: _l("Refund paid"),
}

EMAIL = "email"
SMS = "sms"
CHANNEL_LABELS = {EMAIL: _l("E-mail"), SMS: _l("Text message")}

QUEUED = "queued"
MAIL_OFF = "mail_off"
RECORDED = "recorded"
SENT = "sent"
FAILED = "failed"
STATUS_LABELS = {
    QUEUED: _l("Queued"),
    MAIL_OFF: _l("Not sent: mail is not set up"),
    RECORDED: _l("Recorded (not sent)"),
    SENT: _l("Sent"),
    FAILED: _l("Failed"),
}
STATUS_BADGES = {QUEUED: "info", MAIL_OFF: "warning", RECORDED: "secondary", SENT: "success", FAILED: "danger"}


def setting_key(kind: str) -> str:
    """The boolean setting that switches ``kind`` on or off."""
    return f"support.notify.{kind}"


SMS_SETTING = "support.notify.sms_adapter"
