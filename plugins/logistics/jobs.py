"""Background work of logistics: talking to carriers and the scheduled checks.

These functions run as jobs (``erp_core.jobs``) or from ``erp logistics ...``. A carrier's system
is called between transactions: the job reads what it needs and commits, calls the adapter, then
stores the answer in a new transaction, so no database lock is held while a carrier answers.
"""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core.errors import DomainError
from erp_core.extensions import db
from erp_core.timeutil import utcnow

from . import adapters as a
from . import services, states
from .models import Carrier, Shipment

log = logging.getLogger(__name__)

SYNC_BATCH = 200


def register_shipment(shipment_id: int, callback_url: str = "") -> None:
    """Ask the carrier of a new shipment for its tracking number and label (``CREATE``), or
    subscribe to the pushes of its typed number (``SUBSCRIBE``, to ``callback_url``)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.registration != "waiting":
        return
    adapter = services.try_adapter(shipment.carrier)
    if adapter is not None and adapter.can(a.SUBSCRIBE) and shipment.tracking_number:
        _subscribe(adapter, shipment, callback_url)
        return
    if adapter is None or not adapter.can(a.CREATE) or shipment.tracking_number:
        return
    request = services.registration_request(shipment)
    db.session.commit()  # no transaction stays open while the carrier answers
    created, error = None, ""
    try:
        created = adapter.create_shipment(request)
    except a.AdapterError as exc:
        error = str(exc) or type(exc).__name__
    except Exception as exc:  # a broken adapter must not lose the shipment
        log.exception("carrier adapter %s failed to create shipment %s", adapter.key, request.reference)
        error = f"{type(exc).__name__}: {exc}"
    services.store_registration(db.session.get(Shipment, shipment_id), created, error)
    db.session.commit()


def _subscribe(adapter: a.CarrierAdapter, shipment: Shipment, callback_url: str) -> None:
    """Tell the carrier about the shipment's number so that it pushes its events."""
    shipment_id, number = shipment.id, shipment.tracking_number
    callback_url = callback_url or services.webhook_url(shipment.carrier)
    db.session.commit()  # no transaction stays open while the carrier answers
    error = ""
    if not callback_url:
        error = _("The address of this site is not known: set it under Settings → Logistics.")
    else:
        try:
            adapter.subscribe(number, callback_url)
        except a.AdapterError as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # a broken adapter must not lose the shipment
            log.exception("carrier adapter %s failed to subscribe %s", adapter.key, number)
            error = f"{type(exc).__name__}: {exc}"
    services.store_subscription(db.session.get(Shipment, shipment_id), error)
    db.session.commit()


def sync_shipment(shipment_id: int) -> dict | None:
    """Pull the carrier's events of one shipment; None when it cannot be tracked."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None or shipment.status not in states.ACTIVE or not shipment.tracking_number \
            or shipment.carrier is None or not shipment.carrier.enabled:
        return None
    adapter = services.try_adapter(shipment.carrier)
    if adapter is None or not adapter.can(a.TRACK):
        return None
    number = shipment.tracking_number
    db.session.commit()
    try:
        events = adapter.fetch_tracking(number)
    except Exception as exc:
        log.warning("tracking of %s (%s) failed: %s", number, adapter.key, exc)
        db.session.get(Shipment, shipment_id).last_synced_at = utcnow()
        db.session.commit()
        return {"error": str(exc)}
    shipment = db.session.get(Shipment, shipment_id)
    counts = services.record_events(shipment, [e for e in events if e.tracking_number == number], "carrier")
    shipment.last_synced_at = utcnow()
    db.session.commit()
    return counts


def trackable_shipments(limit: int = SYNC_BATCH) -> list[int]:
    """Shipments on their way whose carrier offers tracking, least recently synced first."""
    keys = [key for key, cls in services.adapter_classes().items() if a.TRACK in cls.supports]
    if not keys:
        return []
    stmt = (select(Shipment.id).join(Carrier, Carrier.id == Shipment.carrier_id)
            .where(Shipment.status.in_(states.ACTIVE), Shipment.tracking_number.is_not(None),
                   Carrier.enabled.is_(True), Carrier.adapter.in_(keys))
            .order_by(Shipment.last_synced_at.asc().nulls_first(), Shipment.id).limit(limit))
    return list(db.session.scalars(stmt))


def sync_tracking(limit: int = SYNC_BATCH) -> dict[str, int]:
    """The periodic pull (``logistics.sync``, ``erp logistics sync``)."""
    ids = trackable_shipments(limit)
    db.session.commit()
    summary = {"shipments": 0, "new": 0, "duplicate": 0, "failed": 0}
    for shipment_id in ids:
        try:
            counts = sync_shipment(shipment_id)
        except DomainError as exc:
            db.session.rollback()
            log.warning("tracking events of shipment %s refused: %s", shipment_id, exc)
            summary["failed"] += 1
            continue
        if counts is None:
            continue
        summary["shipments"] += 1
        if "error" in counts:
            summary["failed"] += 1
        else:
            summary["new"] += counts["new"]
            summary["duplicate"] += counts["duplicate"]
    return summary


def check_delays() -> int:
    """The scheduled check (``logistics.check_delays``): shipments past their expected date."""
    raised = services.check_delays()
    db.session.commit()
    return len(raised)
