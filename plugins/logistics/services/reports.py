"""Lists and panels: the dashboard's attention list, the order page's panel, what the customer
sees, and look-ups of shipments and exceptions.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import func, select

from erp_core.db import MAX_ID
from erp_core.errors import NotFound
from erp_core.extensions import db
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, customer_visible
from plugins.orders.public import states as order_states

from .. import adapters as a
from .. import states
from ..models import DeliveryException, Shipment, TrackingEvent
from ._common import SHIPPABLE, today
from .carrier_setup import try_adapter
from .shipments import order_shipments, remaining_by_line
from .tracking import tracking_link


def shipments_needing_attention(limit: int = 5) -> dict:
    """For the dashboard: open exceptions, late shipments, and confirmed orders past their promised date."""
    day = today()
    now = utcnow()
    open_exceptions = select(DeliveryException).where(DeliveryException.status == states.OPEN)
    late = select(Shipment).where(Shipment.status == states.IN_TRANSIT, Shipment.expected_delivery < day)
    overdue_orders = select(Order).where(Order.status.in_([order_states.CONFIRMED, order_states.PARTIALLY_SHIPPED]),
                                         Order.promised_date < now)
    pending = select(Shipment).where(Shipment.status == states.PENDING)

    def count(stmt):
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))

    return {
        "exceptions": list(db.session.scalars(open_exceptions.order_by(DeliveryException.due_date,
                                                                       DeliveryException.id).limit(limit)).unique()),
        "exception_count": count(open_exceptions),
        "overdue_exception_count": count(open_exceptions.where(DeliveryException.due_date < day)),
        "late": list(db.session.scalars(late.order_by(Shipment.expected_delivery, Shipment.id).limit(limit)).unique()),
        "late_count": count(late),
        "orders": list(db.session.scalars(overdue_orders.order_by(Order.promised_date, Order.id).limit(limit)).unique()),
        "order_count": count(overdue_orders),
        "pending_count": count(pending),
        "today": day,
    }


def order_overview(order: Order) -> dict:
    """What the order page's logistics panel shows."""
    shipments = order_shipments(order.id)
    remaining = remaining_by_line(order, shipments)
    adapters_by_carrier: dict[int, a.CarrierAdapter | None] = {}
    links = {}
    for shipment in shipments:
        if shipment.carrier_id not in adapters_by_carrier:
            adapters_by_carrier[shipment.carrier_id] = try_adapter(shipment.carrier)
        links[shipment.id] = tracking_link(shipment, adapters_by_carrier[shipment.carrier_id])
    open_exceptions = {e.shipment_id: e for e in db.session.scalars(select(DeliveryException).where(
        DeliveryException.order_id == order.id, DeliveryException.status == states.OPEN)).unique()}
    return {"shipments": shipments, "remaining": remaining, "links": links, "exceptions": open_exceptions,
            "left_to_ship": sum(remaining.values()),
            "can_ship": order.status in SHIPPABLE and any(remaining.values())}


def public_shipments(order: Order) -> list[dict]:
    """What the customer may see: dispatched shipments, their carrier, tracking link and events."""
    shipments = [s for s in order_shipments(order.id) if s.status not in (states.PENDING, states.CANCELLED)]
    if not shipments:
        return []
    events: dict[int, list[TrackingEvent]] = defaultdict(list)
    for event in db.session.scalars(select(TrackingEvent).where(
            TrackingEvent.shipment_id.in_([s.id for s in shipments]))
            .order_by(TrackingEvent.occurred_at, TrackingEvent.id)):
        events[event.shipment_id].append(event)
    return [{"number": s.number, "carrier": s.carrier_display, "tracking_number": s.tracking_number,
             "link": tracking_link(s), "status": s.status, "ship_date": s.ship_date,
             "expected_delivery": s.expected_delivery, "delivered_at": s.delivered_at,
             "lines": [(l.name, l.quantity) for l in s.lines],
             "events": [_public_event(e) for e in events[s.id][-10:][::-1]]}
            for s in shipments]


def _public_event(event: TrackingEvent) -> dict:
    """An event as the customer sees it: what staff typed as description stays internal."""
    return {"status": event.status, "exception_kind": event.exception_kind, "occurred_at": event.occurred_at,
            "location": event.location, "description": "" if event.source == "staff" else event.description}


def get_shipment(shipment_id) -> Shipment:
    """The shipment with this id; NotFound otherwise, also when its order's customer is out of
    the logged-in user's scope ("own customers only")."""
    shipment = db.session.get(Shipment, int(shipment_id)) if str(shipment_id).isdigit() else None
    if shipment is None or not customer_visible(shipment.order.customer):
        raise NotFound(_("No such shipment."))
    return shipment


def get_exception(exception_id) -> DeliveryException:
    """The delivery exception with this id; NotFound otherwise, also when its order's customer is
    out of the logged-in user's scope ("own customers only")."""
    exception = db.session.get(DeliveryException, int(exception_id)) if str(exception_id).isdigit() else None
    if exception is None or not customer_visible(exception.shipment.order.customer):
        raise NotFound(_("No such exception."))
    return exception


def replacement_links(shipment: Shipment) -> list[Shipment]:
    """The shipments that replace this one."""
    return list(db.session.scalars(select(Shipment).where(Shipment.replaces_id == shipment.id)
                                   .order_by(Shipment.id)).unique())


def shipment_exceptions(shipment_id: int) -> list[DeliveryException]:
    """The shipment's delivery exceptions, newest first."""
    return list(db.session.scalars(select(DeliveryException).where(DeliveryException.shipment_id == shipment_id)
                                   .order_by(DeliveryException.id.desc())).unique())


def source_labels(sources) -> dict[tuple[str, str], tuple[str, str | None]]:
    """``erp_source_labels`` for delivery exceptions (the cause of refunds, replacements and tickets
    logistics asked for): "Delivery exception on SH-…" linked to the exception, in one query."""
    from erp_core.ui import path_for

    from ._common import EXCEPTION_SOURCE

    ids = sorted({int(i) for t, i in sources if t == EXCEPTION_SOURCE and str(i).isdigit() and int(i) <= MAX_ID})
    if not ids:
        return {}
    rows = db.session.execute(select(DeliveryException.id, Shipment.number)
                              .join(Shipment, Shipment.id == DeliveryException.shipment_id)
                              .where(DeliveryException.id.in_(ids)))
    return {(EXCEPTION_SOURCE, str(eid)): (_("Delivery exception on %(number)s", number=number),
                                           path_for("logistics_exceptions.detail", exception_id=eid))
            for eid, number in rows}
