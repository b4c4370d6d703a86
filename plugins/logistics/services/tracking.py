"""Tracking events: storing carrier events once (pulled or pushed by webhook), events staff
type, moving shipments along, the timeline and the customer's tracking link.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from erp_core import audit, settings
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.timeutil import utcnow
from plugins.orders.public import Order

from .. import adapters as a
from .. import states
from ..models import Carrier, Shipment, TrackingEvent
from ._common import _lock_order, _reload
from .carrier_setup import try_adapter
from .exceptions import _close, _open_exception, current_exception
from .shipments import _status_changed, _sync_order

log = logging.getLogger(__name__)


def record_events(shipment: Shipment, events: list[a.TrackingEvent], source: str) -> dict[str, int]:
    """Store carrier events (pulled or pushed) and move the shipment along.

    An event already stored (same carrier id, or the same content) is skipped; events older than
    the newest one go into the timeline without changing the state.
    """
    order = _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    counts = {"new": 0, "duplicate": 0}
    for event in sorted(_sane(events), key=lambda e: e.occurred_at):
        stored = _store_event(shipment, event, source)
        counts["new" if stored else "duplicate"] += 1
        if stored:
            _apply_event(order, shipment, event)
    return counts


def _future_hours() -> int:
    """The ``logistics.future_event_hours`` setting (24 when unset or wrong)."""
    try:
        return max(int(settings.get("logistics.future_event_hours", 24)), 0)
    except (TypeError, ValueError):
        return 24


def future_limit() -> datetime:
    """The latest time a carrier's event may carry (now + the ``logistics.future_event_hours``
    setting): a later one would make every true event look older and freeze the shipment."""
    return utcnow() + timedelta(hours=_future_hours())


def _sane(events: list[a.TrackingEvent]) -> list[a.TrackingEvent]:
    """Events an adapter returned that logistics can use (known status, aware time, not dated
    beyond :func:`future_limit`)."""
    usable = []
    limit = future_limit()
    for event in events:
        if event.status not in a.EVENT_STATUSES or event.occurred_at is None or event.occurred_at.tzinfo is None:
            log.warning("ignoring a malformed tracking event of %s: %r", event.tracking_number, event)
            continue
        if event.occurred_at > limit:
            log.warning("ignoring a tracking event of %s dated in the future: %r", event.tracking_number, event)
            continue
        if event.exception_kind not in a.EXCEPTION_KINDS:
            event = replace(event, exception_kind=None)
        usable.append(event)
    return usable


def _store_event(shipment: Shipment, event: a.TrackingEvent, source: str, user_id: int | None = None) -> bool:
    """Store the event once; False when it is known already."""
    key = event.key()
    if db.session.scalar(select(TrackingEvent.id).where(TrackingEvent.shipment_id == shipment.id,
                                                        TrackingEvent.external_id == key)):
        return False
    row = TrackingEvent(shipment_id=shipment.id, external_id=key, occurred_at=event.occurred_at,
                        status=event.status, exception_kind=event.exception_kind,
                        description=(event.description or "")[:300], location=(event.location or "")[:120],
                        source=source, received_at=utcnow(), created_by_id=user_id)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # the same event arrived at the same moment through another request
        return False
    return True


def _apply_event(order: Order, shipment: Shipment, event: a.TrackingEvent, typed: bool = False) -> None:
    """Move the shipment as the event says, unless a newer event is already known (an older
    event arriving late only joins the timeline). What staff type always applies."""
    if shipment.last_event_at is not None and event.occurred_at < shipment.last_event_at and not typed:
        return
    shipment.last_event_at = max(event.occurred_at, shipment.last_event_at or event.occurred_at)
    if shipment.status not in states.ACTIVE:
        return
    if event.status == a.DELIVERED:
        shipment.delivered_at = event.occurred_at
        open_exception = current_exception(shipment)
        if open_exception is not None:
            _close(open_exception, states.DELIVERED_AFTER_ALL, system_text("logistics.carrier_delivered"))
        _status_changed(shipment, states.DELIVERED, note=event.description or None)
        _sync_order(order, system_text("logistics.shipment_delivered", number=shipment.number))
    elif event.status in (a.EXCEPTION, a.RETURNED) and shipment.status == states.IN_TRANSIT:
        kind = event.exception_kind if event.status == a.EXCEPTION else a.RETURNED_TO_SENDER
        _open_exception(order, shipment, kind or a.DELAYED, event.description or "", states.SOURCE_CARRIER)


def add_staff_event(shipment: Shipment, status: str, occurred_at: datetime | None, description: str,
                    location: str) -> TrackingEvent:
    """A member of staff records a step (e.g. "delivered" for a carrier without tracking);
    returns the stored event."""
    if status not in states.STAFF_EVENTS:
        raise DomainError(_("Choose what happened."), field="status")
    occurred_at = occurred_at or utcnow()
    if occurred_at > utcnow() + timedelta(minutes=5):
        raise DomainError(_("The time of the event cannot be in the future."), field="occurred_at")
    order = _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    if shipment.status not in states.ACTIVE:
        raise Conflict(_("Shipment %(number)s is %(status)s: it takes no more events.",
                         number=shipment.number, status=states.STATUS_LABELS[shipment.status]))
    event = a.TrackingEvent(tracking_number=shipment.tracking_number or "", occurred_at=occurred_at, status=status,
                            description=(description or "").strip()[:300], location=(location or "").strip()[:120],
                            event_id="staff-" + uuid.uuid4().hex)
    user_id, _name = audit.current_actor()
    _store_event(shipment, event, "staff", user_id)
    audit.record("shipment", shipment.id, "event_added", after={"event": status, "at": occurred_at},
                 note=event.description or None)
    _apply_event(order, shipment, event, typed=True)
    return db.session.scalar(select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id,
                                                         TrackingEvent.external_id == event.key()))


def mark_delivered(shipment: Shipment, occurred_at: datetime | None) -> TrackingEvent:
    """Staff say the parcel arrived (typical for a carrier without tracking): the same path as a
    typed "delivered" event, so the order's status, history and open exception follow alike.

    Refused (Conflict) when the shipment is delivered already or no longer on its way; the time
    may not lie in the future and not before the ship date."""
    shipment = _reload(shipment)
    if shipment.status == states.DELIVERED:
        raise Conflict(_("Shipment %(number)s is delivered already.", number=shipment.number))
    occurred_at = occurred_at or utcnow()
    shipped_on = shipment.ship_date
    if shipped_on is not None and occurred_at.date() < shipped_on - timedelta(days=1):
        raise DomainError(_("The parcel cannot be delivered before it was shipped (%(day)s).", day=shipped_on.isoformat()),
                          field="occurred_at")
    return add_staff_event(shipment, a.DELIVERED, occurred_at, "", "")


def tracking_timeline(shipment_id: int) -> list[TrackingEvent]:
    """The shipment's events in the order they happened (not the order they arrived)."""
    stmt = select(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id).order_by(
        TrackingEvent.occurred_at, TrackingEvent.id)
    return list(db.session.scalars(stmt))


def handle_webhook(code: str, headers, body: bytes) -> dict[str, int]:
    """A carrier pushed tracking events: verify, store each once, move shipments along.

    Raises NotFound for an unknown or switched-off carrier (or one without webhooks), and the
    adapter's WebhookRejected / WebhookMalformed for a bad signature or body, or an event dated
    beyond :func:`future_limit`.
    """
    carrier = db.session.scalar(select(Carrier).where(Carrier.code == (code or "")[:40]))
    adapter = try_adapter(carrier) if carrier is not None and carrier.enabled else None
    if adapter is None or not adapter.can(a.WEBHOOK):
        raise NotFound(_("No such carrier."))
    events = adapter.parse_webhook(headers, body)
    limit = future_limit()
    if any(e.occurred_at is not None and e.occurred_at.tzinfo is not None and e.occurred_at > limit for e in events):
        raise a.WebhookMalformed(_("An event is dated more than %(hours)d hours in the future; nothing was stored.",
                                   hours=_future_hours()))
    numbers = sorted({e.tracking_number for e in events})
    shipments = list(db.session.scalars(select(Shipment).where(
        Shipment.carrier_id == carrier.id, Shipment.tracking_number.in_(numbers))
        .order_by(Shipment.order_id, Shipment.id)).unique()) if numbers else []
    by_number = {s.tracking_number: s for s in shipments}
    totals = {"new": 0, "duplicate": 0, "unknown": 0}
    for shipment in shipments:  # in order id order: concurrent webhooks lock orders alike
        counts = record_events(shipment, [e for e in events if e.tracking_number == shipment.tracking_number], "webhook")
        totals["new"] += counts["new"]
        totals["duplicate"] += counts["duplicate"]
    totals["unknown"] = sum(1 for e in events if e.tracking_number not in by_number)
    return totals


def tracking_link(shipment: Shipment, adapter: a.CarrierAdapter | None = None) -> str | None:
    """Where the customer can follow the parcel, when the carrier's adapter can say."""
    if not shipment.tracking_number or shipment.carrier is None:
        return None
    adapter = adapter or try_adapter(shipment.carrier)
    if adapter is None or not adapter.can(a.LINK):
        return None
    url = adapter.tracking_url(shipment.tracking_number)
    if not url or not (url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//"))):
        return None  # only web links: never javascript: or other schemes in a customer's page
    return url
