"""The quotation state machine: one explicit table of allowed transitions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

DRAFT = "draft"
SENT = "sent"
ACCEPTED = "accepted"
DECLINED = "declined"
EXPIRED = "expired"
CANCELLED = "cancelled"

STATUSES = (DRAFT, SENT, ACCEPTED, DECLINED, EXPIRED, CANCELLED)

LABELS = {
    DRAFT: _l("Draft"),
    SENT: _l("Sent"),
    ACCEPTED: _l("Accepted"),
    DECLINED: _l("Declined"),
    EXPIRED: _l("Expired"),
    CANCELLED: _l("Cancelled"),
}

BADGES = {DRAFT: "secondary", SENT: "primary", ACCEPTED: "success", DECLINED: "warning", EXPIRED: "dark",
          CANCELLED: "danger"}

# from -> the statuses it may move to. A sent quotation is decided by the customer (or staff on
# their word); a quotation past its validity expires; an expired one may be sent again (new date).
ALLOWED: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SENT, CANCELLED}),
    SENT: frozenset({ACCEPTED, DECLINED, EXPIRED, CANCELLED}),
    ACCEPTED: frozenset(),
    DECLINED: frozenset(),
    EXPIRED: frozenset({SENT, CANCELLED}),
    CANCELLED: frozenset(),
}

EDITABLE = frozenset({DRAFT})
OPEN = frozenset({DRAFT, SENT})


def can_move(current: str, target: str) -> bool:
    """True when the table allows ``current`` -> ``target``."""
    return target in ALLOWED.get(current, frozenset())
