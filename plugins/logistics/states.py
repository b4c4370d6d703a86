"""Shipment and delivery-exception states, their labels, and which resolutions fit which exception.

Shipment: pending (a replacement waiting to be dispatched) -> in_transit -> delivered; an open
shipment -> exception -> (in_transit | returned | lost | delivered). A pending shipment may be
cancelled. ``outcome`` says how a closed shipment ended for the order (re-shipped, restocked,
refunded, cancelled).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from . import adapters as a

PENDING = "pending"
IN_TRANSIT = "in_transit"
DELIVERED = "delivered"
EXCEPTION = "exception"
RETURNED = "returned"
LOST = "lost"
CANCELLED = "cancelled"
STATUSES = (PENDING, IN_TRANSIT, DELIVERED, EXCEPTION, RETURNED, LOST, CANCELLED)
# Shipments whose parcel is still on its way (the tracking sync looks at these).
ACTIVE = frozenset({IN_TRANSIT, EXCEPTION})

STATUS_LABELS = {
    PENDING: _l("Waiting for dispatch"),
    IN_TRANSIT: _l("In transit"),
    DELIVERED: _l("Delivered"),
    EXCEPTION: _l("Exception"),
    RETURNED: _l("Returned"),
    LOST: _l("Lost"),
    CANCELLED: _l("Cancelled"),
}
STATUS_BADGES = {
    PENDING: "secondary", IN_TRANSIT: "info", DELIVERED: "success", EXCEPTION: "danger",
    RETURNED: "warning", LOST: "dark", CANCELLED: "light",
}

# Shipment kinds: "order" shipments fulfil the order's lines (including re-ships of them);
# "exchange" shipments are replacements support asked for, on top of what was ordered.
KIND_ORDER = "order"
KIND_EXCHANGE = "exchange"

# How a closed shipment ended for the order.
RESHIPPED = "reshipped"
RESTOCKED = "restocked"
REFUNDED = "refunded"
WITHDRAWN = "cancelled"
OUTCOME_LABELS = {
    RESHIPPED: _l("Re-shipped"), RESTOCKED: _l("Returned to stock"), REFUNDED: _l("Cancelled and refunded"),
    WITHDRAWN: _l("Cancelled"),
}
# Outcomes after which the shipment no longer carries the order's goods: its quantities are
# free to ship again (restocked, cancelled) or carried by the replacement (re-shipped).
RELEASED = frozenset({RESHIPPED, RESTOCKED, WITHDRAWN})

EVENT_LABELS = {
    a.INFO: _l("Information received"),
    a.PICKED_UP: _l("Picked up"),
    a.IN_TRANSIT: _l("In transit"),
    a.OUT_FOR_DELIVERY: _l("Out for delivery"),
    a.DELIVERED: _l("Delivered"),
    a.EXCEPTION: _l("Exception"),
    a.RETURNED: _l("Returned to sender"),
}
# Events staff may type on a shipment (exceptions are raised with their own form).
STAFF_EVENTS = (a.PICKED_UP, a.IN_TRANSIT, a.OUT_FOR_DELIVERY, a.DELIVERED)

KIND_LABELS = {
    a.DELAYED: _l("Delayed"),
    a.LOST: _l("Lost"),
    a.DAMAGED: _l("Damaged"),
    a.ADDRESS_PROBLEM: _l("Address problem"),
    a.REFUSED: _l("Refused by the recipient"),
    a.RETURNED_TO_SENDER: _l("Returned to sender"),
}
# Kinds where the goods come back to the warehouse (they can go back on the shelf).
GOODS_COME_BACK = frozenset({a.REFUSED, a.RETURNED_TO_SENDER})
# Kinds where the carrier still has the parcel and may deliver it after all.
CARRIER_STILL_HAS_IT = frozenset({a.DELAYED, a.ADDRESS_PROBLEM})

OPEN = "open"
RESOLVED = "resolved"
EXCEPTION_STATUS_LABELS = {OPEN: _l("Open"), RESOLVED: _l("Resolved")}

SOURCE_STAFF = "staff"
SOURCE_CARRIER = "carrier"
SOURCE_SCHEDULE = "schedule"
SOURCE_LABELS = {SOURCE_STAFF: _l("Staff"), SOURCE_CARRIER: _l("Carrier"), SOURCE_SCHEDULE: _l("Scheduled check")}

# Resolutions of an exception.
RESHIP = "reship"
RETURN_TO_STOCK = "return_to_stock"
CANCEL_REFUND = "cancel_refund"
RESUME = "resume"
DELIVERED_AFTER_ALL = "delivered"  # set by the carrier's delivered event, not chosen by staff
CONTACT = "contact_customer"  # an action that keeps the exception open
RESOLUTION_LABELS = {
    RESHIP: _l("Re-ship"),
    RETURN_TO_STOCK: _l("Return to stock"),
    CANCEL_REFUND: _l("Cancel and refund"),
    RESUME: _l("Back in transit"),
    DELIVERED_AFTER_ALL: _l("Delivered after all"),
    CONTACT: _l("Contact the customer"),
}
RESOLUTION_HELP = {
    RESHIP: _l("Send the goods again in a new shipment; the lost or returned parcel is closed."),
    RETURN_TO_STOCK: _l("The goods came back: put them on the shelf. The quantities can be shipped again later."),
    CANCEL_REFUND: _l("Do not send the goods again; ask finance to refund their value."),
    RESUME: _l("The carrier still has the parcel and carries on delivering it."),
    CONTACT: _l("Open a support ticket so customer service contacts the customer; the exception stays open."),
}


def resolutions_for(kind: str) -> tuple[str, ...]:
    """The resolutions that make sense for an exception of ``kind`` (before plugin checks)."""
    chosen = [RESHIP]
    if kind in GOODS_COME_BACK:
        chosen.append(RETURN_TO_STOCK)
    chosen.append(CANCEL_REFUND)
    if kind in CARRIER_STILL_HAS_IT:
        chosen.append(RESUME)
    return tuple(chosen)


def closing_status(kind: str) -> str:
    """Where a shipment ends when its goods do not arrive: back at the warehouse, or lost."""
    return RETURNED if kind in GOODS_COME_BACK else LOST
