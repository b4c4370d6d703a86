"""Vocabularies and state tables of support: tickets, return requests, channels, categories."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

# ----------------------------------------------------------------------------- tickets

OPEN, PENDING, RESOLVED, CLOSED = "open", "pending", "resolved", "closed"
TICKET_STATUSES = (OPEN, PENDING, RESOLVED, CLOSED)
TICKET_LABELS = {
    OPEN: _l("Open"),
    PENDING: _l("Pending on customer"),
    RESOLVED: _l("Resolved"),
    CLOSED: _l("Closed"),
}
TICKET_BADGES = {OPEN: "primary", PENDING: "warning", RESOLVED: "success", CLOSED: "secondary"}
# from -> allowed targets; going back to open from resolved or closed is a reopen.
TICKET_ALLOWED = {
    OPEN: frozenset({PENDING, RESOLVED, CLOSED}),
    PENDING: frozenset({OPEN, RESOLVED, CLOSED}),
    RESOLVED: frozenset({OPEN, CLOSED}),
    CLOSED: frozenset({OPEN}),
}
ACTIVE = frozenset({OPEN, PENDING})

PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_LABELS = {"low": lazy_pgettext("priority", "Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
PRIORITY_BADGES = {"low": "secondary", "normal": "info", "high": "warning", "urgent": "danger"}

CHANNELS = ("web", "phone", "email", "chat", "walk_in", "internal")
CHANNEL_LABELS = {
    "web": _l("Web form"), "phone": _l("Phone"), "email": _l("E-mail"), "chat": _l("Chat"),
    "walk_in": _l("Walk-in"), "internal": _l("Internal request"),
}

CATEGORIES = ("order_question", "delivery", "return", "complaint", "other")
CATEGORY_LABELS = {
    "order_question": _l("Order question"), "delivery": _l("Delivery"), "return": _l("Return / exchange"),
    "complaint": _l("Complaint"), "other": _l("Other"),
}
# What a customer may choose on the public form.
PUBLIC_CATEGORIES = CATEGORIES

MESSAGE_KINDS = {"reply": _l("Reply to customer"), "customer": _l("Customer"), "note": _l("Internal note")}

# ----------------------------------------------------------------------------- returns

REQUESTED, APPROVED, REJECTED, RECEIVED = "requested", "approved", "rejected", "received"
REFUNDED, EXCHANGED, RETURN_CLOSED = "refunded", "exchanged", "closed"
RETURN_STATUSES = (REQUESTED, APPROVED, REJECTED, RECEIVED, REFUNDED, EXCHANGED, RETURN_CLOSED)
RETURN_LABELS = {
    REQUESTED: _l("Requested"), APPROVED: _l("Approved"), REJECTED: _l("Rejected"),
    RECEIVED: _l("Goods received"), REFUNDED: _l("Refund started"), EXCHANGED: _l("Exchanged"),
    RETURN_CLOSED: _l("Closed"),
}
RETURN_BADGES = {
    REQUESTED: "primary", APPROVED: "info", REJECTED: "danger", RECEIVED: "warning", REFUNDED: "success",
    EXCHANGED: "success", RETURN_CLOSED: "secondary",
}
RETURN_ALLOWED = {
    REQUESTED: frozenset({APPROVED, REJECTED}),
    APPROVED: frozenset({RECEIVED}),
    REJECTED: frozenset({RETURN_CLOSED}),
    RECEIVED: frozenset({REFUNDED, EXCHANGED}),
    REFUNDED: frozenset({RETURN_CLOSED}),
    EXCHANGED: frozenset({RETURN_CLOSED}),
    RETURN_CLOSED: frozenset(),
}
RETURN_OPEN = frozenset({REQUESTED, APPROVED, RECEIVED})

RETURN_KINDS = {"refund": _l("Return for a refund"), "exchange": _l("Exchange for the same item")}
REASONS = {
    "damaged": _l("Arrived damaged"), "wrong_item": _l("Wrong item sent"),
    "not_as_described": _l("Not as described"), "changed_mind": _l("No longer wanted"), "other": _l("Other"),
}
LINK_KINDS = {"stock": _l("Stock"), "refund": _l("Refund"), "shipment": _l("Replacement shipment")}

# Order statuses after which goods count as delivered (and may come back).
DELIVERED_ORDER_STATUSES = frozenset({"delivered", "completed"})
