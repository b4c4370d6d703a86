"""The order state machine: one explicit table of allowed transitions.

Actions a user can take are listed with the permission each needs; other transitions (partially
shipped, shipped, delivered through shipments) are made by other plugins through
:func:`plugins.orders.services.transition`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

DRAFT = "draft"
CONFIRMED = "confirmed"
PARTIALLY_SHIPPED = "partially_shipped"
SHIPPED = "shipped"
DELIVERED = "delivered"
COMPLETED = "completed"
CANCELLED = "cancelled"

STATUSES = (DRAFT, CONFIRMED, PARTIALLY_SHIPPED, SHIPPED, DELIVERED, COMPLETED, CANCELLED)

LABELS = {
    DRAFT: _l("Draft"),
    CONFIRMED: _l("Confirmed"),
    PARTIALLY_SHIPPED: _l("Partially shipped"),
    SHIPPED: _l("Shipped"),
    DELIVERED: _l("Delivered"),
    COMPLETED: _l("Completed"),
    CANCELLED: _l("Cancelled"),
}

BADGES = {
    DRAFT: "secondary", CONFIRMED: "primary", PARTIALLY_SHIPPED: "info", SHIPPED: "info",
    DELIVERED: "success", COMPLETED: "dark", CANCELLED: "danger",
}

# from -> the statuses it may move to. Shipped goods come back through a return, never a cancel.
ALLOWED: dict[str, frozenset[str]] = {
    DRAFT: frozenset({CONFIRMED, CANCELLED}),
    CONFIRMED: frozenset({DRAFT, CANCELLED, PARTIALLY_SHIPPED, SHIPPED}),
    PARTIALLY_SHIPPED: frozenset({SHIPPED}),
    SHIPPED: frozenset({DELIVERED}),
    DELIVERED: frozenset({COMPLETED}),
    COMPLETED: frozenset(),
    CANCELLED: frozenset({DRAFT}),
}

# Lines, quantities, address and contact may change until the first shipment.
EDITABLE = frozenset({DRAFT, CONFIRMED})
# ... and the lines of a partly shipped order, never below what shipped (services.backorders).
LINES_EDITABLE = EDITABLE | {PARTIALLY_SHIPPED}
# States in which the order holds (or will hold) stock.
OPEN = frozenset({DRAFT, CONFIRMED, PARTIALLY_SHIPPED})


@dataclass(frozen=True)
class Action:
    """A button on the order page."""

    name: str
    sources: frozenset
    target: str
    label: object
    permission: str
    style: str = "outline-primary"
    icon: str = "arrow-right"
    needs_note: bool = False
    manual_shipping: bool = False  # offered only when no plugin ships orders itself


ACTIONS = (
    Action("confirm", frozenset({DRAFT}), CONFIRMED, _l("Confirm"), "orders.confirm", "primary", "check2-circle"),
    Action("unconfirm", frozenset({CONFIRMED}), DRAFT, _l("Back to draft"), "orders.confirm", "outline-secondary", "arrow-counterclockwise"),
    Action("mark_shipped", frozenset({CONFIRMED}), SHIPPED, _l("Mark shipped"), "orders.ship", "outline-primary", "truck",
           manual_shipping=True),
    Action("mark_delivered", frozenset({SHIPPED}), DELIVERED, _l("Mark delivered"), "orders.ship", "outline-success", "box-seam",
           manual_shipping=True),
    Action("complete", frozenset({DELIVERED}), COMPLETED, _l("Complete"), "orders.edit", "outline-dark", "flag"),
    Action("reopen", frozenset({CANCELLED}), DRAFT, _l("Reopen as draft"), "orders.cancel", "outline-secondary", "arrow-counterclockwise"),
    Action("cancel", frozenset({DRAFT, CONFIRMED}), CANCELLED, _l("Cancel order"), "orders.cancel", "outline-danger", "x-circle", needs_note=True),
)
ACTIONS_BY_NAME = {a.name: a for a in ACTIONS}


def can_move(current: str, target: str) -> bool:
    """True when the table allows ``current`` -> ``target``."""
    return target in ALLOWED.get(current, frozenset())
