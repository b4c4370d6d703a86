"""The purchase order state machine: one explicit table of allowed transitions (like orders')."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DRAFT = "draft"
SENT = "sent"
PARTIALLY_RECEIVED = "partially_received"
RECEIVED = "received"
CLOSED = "closed"
CANCELLED = "cancelled"

STATUSES = (DRAFT, SENT, PARTIALLY_RECEIVED, RECEIVED, CLOSED, CANCELLED)

LABELS = {
    DRAFT: _l("Draft"),
    SENT: _l("Sent"),
    PARTIALLY_RECEIVED: _l("Partially received"),
    RECEIVED: _l("Received"),
    CLOSED: _l("Closed"),
    CANCELLED: _l("Cancelled"),
}

BADGES = {DRAFT: "secondary", SENT: "primary", PARTIALLY_RECEIVED: "info", RECEIVED: "success",
          CLOSED: "dark", CANCELLED: "danger"}

# from -> the statuses it may move to. Receipts move sent/partially received on; the rest of a
# partly received order is closed with a reason; nothing received yet is cancelled instead.
ALLOWED: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SENT, CANCELLED}),
    SENT: frozenset({PARTIALLY_RECEIVED, RECEIVED, CANCELLED}),
    PARTIALLY_RECEIVED: frozenset({RECEIVED, CLOSED}),
    RECEIVED: frozenset(),
    CLOSED: frozenset(),
    CANCELLED: frozenset(),
}

EDITABLE = frozenset({DRAFT})
RECEIVABLE = frozenset({SENT, PARTIALLY_RECEIVED})
# Goods still to come count as "on order" in these states.
ON_ORDER = frozenset({DRAFT, SENT, PARTIALLY_RECEIVED})


def can_move(current: str, target: str) -> bool:
    """True when the table allows ``current`` -> ``target``."""
    return target in ALLOWED.get(current, frozenset())
