"""How shipments, delivery exceptions and carriers read in histories and the audit log
(erp_audit_vocabulary), and the sentences logistics writes for people (erp_system_texts)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db

from . import states

SYSTEM_TEXTS = {
    "logistics.created_dispatched": _l("Created and dispatched."),
    "logistics.dispatched": _l("Dispatched."),
    "logistics.shipment_dispatched": _l("Shipment %(number)s dispatched."),
    "logistics.shipment_cancelled": _l("Shipment %(number)s cancelled."),
    "logistics.shipment_delivered": _l("Shipment %(number)s delivered."),
    "logistics.exception_resolved": _l("Delivery exception on shipment %(number)s resolved."),
    "logistics.exception_on": _l("Delivery exception on shipment %(number)s: %(kind)s"),
    "logistics.kind_note": _l("%(kind)s: %(note)s"),
    "logistics.kind": _l("%(kind)s"),
    "logistics.delivery_problem": _l("Delivery problem with %(order)s (shipment %(number)s): %(kind)s"),
    "logistics.expected_not_delivered": _l("Expected on %(date)s; not delivered yet."),
    "logistics.carrier_delivered": _l("The carrier delivered the parcel."),
    "logistics.malformed_number": _l("The carrier answered with a malformed tracking number."),
    "logistics.number_taken": _l("The carrier answered with tracking number %(number)s, already used by %(shipment)s."),
    # The Demo Express simulator's tracking events.
    "logistics.demo.info_received": _l("Shipment information received"),
    "logistics.demo.picked_up": _l("Picked up by courier"),
    "logistics.demo.sorting_centre": _l("Arrived at sorting centre"),
    "logistics.demo.out_for_delivery": _l("Out for delivery"),
    "logistics.demo.delivered_signed": _l("Delivered, signed by recipient"),
    "logistics.demo.held_weather": _l("Held at hub: severe weather"),
    "logistics.demo.address_incomplete": _l("Address incomplete, recipient not found"),
    "logistics.demo.second_attempt": _l("Out for delivery (second attempt)"),
    "logistics.demo.refused": _l("Recipient refused the parcel"),
    "logistics.demo.returned": _l("Returned to sender"),
}

SHIPMENT_ACTIONS = {
    "created": _l("Created"), "status_changed": _l("Status changed"), "registered": _l("Registered with the carrier"),
    "registration_failed": _l("Carrier registration failed"), "registration_retried": _l("Carrier asked again"),
    "event_added": _l("Event recorded"), "subscribed": _l("Subscribed to the carrier's updates"),
}
EXCEPTION_ACTIONS = {
    "raised": _l("Reported"), "changed": _l("Changed"), "resolved": _l("Resolved"),
    "customer_contacted": _l("Customer service asked to contact the customer"),
}
CARRIER_ACTIONS = {
    "created": _l("Created"), "changed": _l("Changed"), "enabled": _l("Switched on"), "disabled": _l("Switched off"),
    "webhook_secret_rotated": _l("New webhook secret"), "connection_tested": _l("Connection tested"),
}


def _event_labels() -> dict:
    return {**states.STATUS_LABELS, **states.EVENT_LABELS}


def _adapter_titles() -> dict:
    from .services.carrier_setup import adapter_classes

    return {key: cls.title for key, cls in adapter_classes().items()}


def _replacement_for(value, _values) -> str:
    kind, _sep, number = str(value).partition(" ")
    label = {"support_return": _l("Return"), "logistics_exception": _l("Delivery exception")}.get(kind)
    return f"{label if label is not None else kind.replace('_', ' ').capitalize()} #{number}".strip()


def _shipments(ids: list[str]) -> dict:
    from .models import Shipment

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Shipment.id, Shipment.number).where(Shipment.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.number, url_for("logistics.shipment", shipment_id=r.id)) for r in rows}


def _exceptions(ids: list[str]) -> dict:
    from .models import DeliveryException, Shipment

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(DeliveryException.id, Shipment.number).join(Shipment)
                              .where(DeliveryException.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.number, url_for("logistics_exceptions.detail", exception_id=r.id)) for r in rows}


def _carriers(ids: list[str]) -> dict:
    from .models import Carrier

    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Carrier.id, Carrier.name).where(Carrier.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.name, url_for("logistics_carriers.edit", carrier_id=r.id)) for r in rows}


def audit_vocabulary() -> list[AuditVocabulary]:
    """Shipments, delivery exceptions and carriers."""
    shipment = {
        "number": _l("Shipment"), "order": _l("Order"), "carrier": _l("Carrier"),
        "tracking_number": _l("Tracking number"), "lines": HistoryField(_l("Goods"), "list"),
        "replacement_for": HistoryField(_l("Replacement for"), "custom", format=_replacement_for),
        "status": HistoryField(_l("Status"), "code", choices=states.STATUS_LABELS),
        "event": HistoryField(_l("Event"), "code", choices=_event_labels),
        "at": HistoryField(_l("When"), "datetime"),
    }
    exception = {
        "kind": HistoryField(_l("Problem"), "code", choices=states.KIND_LABELS), "shipment": _l("Shipment"),
        "source": HistoryField(_l("Reported by"), "code", choices=states.SOURCE_LABELS),
        "due_date": HistoryField(_l("Due"), "date"), "owner": _l("Owner"), "note": _l("Note"),
        "status": HistoryField(_l("Status"), "code", choices=states.EXCEPTION_STATUS_LABELS),
        "resolution": HistoryField(_l("Resolution"), "code", choices=states.RESOLUTION_LABELS),
        "tickets": HistoryField(_l("Tickets"), "list"),
    }
    carrier = {
        "name": _l("Name"), "code": _l("Code"), "adapter": HistoryField(_l("Connection"), "code", choices=_adapter_titles),
        "enabled": HistoryField(_l("Switched on"), "boolean"),
    }
    return [AuditVocabulary("shipment", _l("Shipment"), SHIPMENT_ACTIONS, shipment, resolve=_shipments),
            AuditVocabulary("delivery_exception", _l("Delivery exception"), EXCEPTION_ACTIONS, exception,
                            resolve=_exceptions),
            AuditVocabulary("carrier", _l("Carrier"), CARRIER_ACTIONS, carrier, resolve=_carriers)]
