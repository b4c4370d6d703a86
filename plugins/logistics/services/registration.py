"""Registering shipments with carriers: those whose adapters issue tracking numbers (``CREATE``)
and those told about a typed number so that they push its events (``SUBSCRIBE``). The call
itself runs in a job, :mod:`plugins.logistics.jobs`.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from erp_core import audit
from erp_core.errors import Conflict
from erp_core.extensions import db
from erp_core.i18n import system_text

from .. import adapters as a
from ..models import Shipment
from ._common import _lock_order, _reload, today
from .carrier_setup import adapter_for


def registration_request(shipment: Shipment) -> a.ShipmentRequest:
    """What the carrier's adapter is given to register the shipment."""
    order = shipment.order
    return a.ShipmentRequest(
        reference=shipment.number, order_number=order.number, ship_date=shipment.ship_date or today(),
        address=a.Address(recipient=order.ship_recipient or order.contact_name, phone=order.contact_phone,
                          line1=order.ship_line1, line2=order.ship_line2, city=order.ship_city,
                          region=order.ship_region, postcode=order.ship_postcode, country=order.ship_country),
        lines=tuple(a.ParcelLine(l.sku, l.name, l.quantity) for l in shipment.lines),
        packages=shipment.packages, weight_grams=shipment.weight_grams)


def store_registration(shipment: Shipment, created: a.CreatedShipment | None, error: str = "") -> None:
    """Keep what the carrier answered to ``create_shipment`` (or why it failed)."""
    _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    if shipment.registration not in ("waiting", "failed") or shipment.tracking_number:
        return  # another run got there first
    if created is not None:
        adapter = adapter_for(shipment.carrier)
        try:
            number = adapter.validate_tracking_number(created.tracking_number)
        except a.TrackingNumberInvalid:
            created, error = None, system_text("logistics.malformed_number")
        else:
            taken = db.session.scalar(select(Shipment.number).where(
                Shipment.carrier_id == shipment.carrier_id, Shipment.tracking_number == number))
            if taken:
                created, error = None, system_text("logistics.number_taken", number=number, shipment=taken)
    if created is None:
        shipment.registration, shipment.registration_error = "failed", (error or "")[:2000]
        audit.record("shipment", shipment.id, "registration_failed", note=shipment.registration_error)
        return
    shipment.tracking_number = number
    shipment.registration, shipment.registration_error = "done", ""
    if created.expected_delivery and not shipment.expected_delivery:
        shipment.expected_delivery = created.expected_delivery
    if created.label is not None:
        shipment.label_data = created.label.data
        shipment.label_type = created.label.content_type[:60]
        shipment.label_name = created.label.filename[:120]
    audit.record("shipment", shipment.id, "registered", after={"tracking_number": number})


def store_subscription(shipment: Shipment, error: str = "") -> None:
    """Keep what the carrier answered to ``subscribe`` (done, or why it failed)."""
    _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    if shipment.registration not in ("waiting", "failed"):
        return  # another run got there first
    if error:
        shipment.registration, shipment.registration_error = "failed", error[:2000]
        audit.record("shipment", shipment.id, "registration_failed", note=shipment.registration_error)
        return
    shipment.registration, shipment.registration_error = "done", ""
    audit.record("shipment", shipment.id, "subscribed", after={"tracking_number": shipment.tracking_number})


def retry_registration(shipment: Shipment) -> None:
    """Ask the carrier again after a failed registration (runs as a job after commit)."""
    if shipment.registration != "failed":
        raise Conflict(_("Shipment %(number)s is not waiting for the carrier.", number=shipment.number))
    shipment.registration, shipment.registration_error = "waiting", ""
    audit.record("shipment", shipment.id, "registration_retried")
    from erp_core.jobs import enqueue

    from .. import jobs
    from .carrier_setup import webhook_url

    enqueue(jobs.register_shipment, shipment.id, webhook_url(shipment.carrier))
