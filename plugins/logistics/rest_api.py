"""The JSON API of logistics (``/api/v1/logistics``): carriers, shipments, tracking events and
delivery exceptions, over the same services (and the same permissions) as the pages.

Registered through ``erp_api_blueprints``: the endpoints, and their part of the OpenAPI
document, are gone while the plugin is switched off.
"""

from __future__ import annotations

from decimal import Decimal

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select

from erp_core.api.idempotency import idempotent
from erp_core.api.pagination import paginate
from erp_core.api.schemas import (
    ApiSchema,
    AwareDateTime,
    PageQuerySchema,
    WholeNumber,
    choice_field,
    count,
    existing_id,
    id_field,
    in_range,
    page_schema,
    text_field,
)
from erp_core.errors import DomainError, NotFound
from erp_core.extensions import db
from erp_core.security import requires
from erp_core.ui import apply_sort
from plugins.orders.public import Order, order_scope

from . import adapters as a
from . import services, states
from .models import Carrier, DeliveryException, Shipment, TrackingEvent

bp = Blueprint("logistics_api", __name__, url_prefix="/api/v1/logistics",
               description="Logistics: carriers, shipments, tracking events and delivery exceptions")


# ----------------------------------------------------------------------------- output schemas


class CarrierSchema(ma.Schema):
    id = WholeNumber(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    adapter = ma.fields.String(required=True)
    available = ma.fields.Boolean(required=True, metadata={
        "description": "False while the carrier's adapter is not installed or its plugin is off: it cannot ship"})
    issues_tracking_numbers = ma.fields.Boolean(
        required=True, metadata={"description": "The carrier gives the tracking number: do not send one"})
    asks_carrier_name = ma.fields.Boolean(
        required=True, metadata={"description": "A carrier_name must be sent when shipping with it"})
    tracks = ma.fields.Boolean(required=True, metadata={"description": "Tracking events arrive from the carrier"})


class ShipmentLineSchema(ma.Schema):
    id = WholeNumber(required=True)
    order_line_id = WholeNumber(allow_none=True, required=True)
    product_id = WholeNumber(required=True)
    sku = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    quantity = WholeNumber(required=True)


class TrackingEventSchema(ma.Schema):
    id = WholeNumber(required=True)
    shipment_id = WholeNumber(required=True)
    occurred_at = ma.fields.DateTime(required=True)
    status = ma.fields.String(required=True, metadata={"enum": list(a.EVENT_STATUSES)})
    exception_kind = ma.fields.String(allow_none=True, required=True)
    description = ma.fields.String(required=True)
    location = ma.fields.String(required=True)
    source = ma.fields.String(required=True, metadata={"description": "carrier, webhook or staff"})
    received_at = ma.fields.DateTime(required=True)


class ShipmentSchema(ma.Schema):
    id = WholeNumber(required=True)
    number = ma.fields.String(required=True)
    order_id = WholeNumber(required=True)
    order_number = ma.fields.String(attribute="order.number", required=True)
    kind = ma.fields.String(required=True, metadata={"enum": [states.KIND_ORDER, states.KIND_EXCHANGE]})
    status = ma.fields.String(required=True, metadata={"enum": list(states.STATUSES)})
    outcome = ma.fields.String(allow_none=True, required=True)
    carrier_id = WholeNumber(allow_none=True, required=True)
    carrier = ma.fields.String(attribute="carrier_display", required=True,
                               metadata={"description": "The carrier's name (or the one typed for a manual carrier)"})
    tracking_number = ma.fields.String(allow_none=True, required=True)
    tracking_url = ma.fields.Function(lambda s: services.tracking_link(s), allow_none=True, required=True,
                                      metadata={"type": "string", "description": "Where the parcel can be followed"})
    registration = ma.fields.String(required=True, metadata={
        "description": "Carriers that issue tracking numbers: waiting, done or failed; empty otherwise"})
    ship_date = ma.fields.Date(allow_none=True, required=True)
    expected_delivery = ma.fields.Date(allow_none=True, required=True)
    shipped_at = ma.fields.DateTime(allow_none=True, required=True)
    delivered_at = ma.fields.DateTime(allow_none=True, required=True)
    packages = WholeNumber(allow_none=True, required=True)
    weight_grams = WholeNumber(allow_none=True, required=True)
    notes = ma.fields.String(required=True)
    replaces_id = WholeNumber(allow_none=True, required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    lines = ma.fields.List(ma.fields.Nested(ShipmentLineSchema), required=True)


class ShipmentDetailSchema(ShipmentSchema):
    events = ma.fields.List(ma.fields.Nested(TrackingEventSchema), required=True,
                            metadata={"description": "Tracking events in the order they happened"})


class DeliveryExceptionSchema(ma.Schema):
    id = WholeNumber(required=True)
    shipment_id = WholeNumber(required=True)
    shipment_number = ma.fields.String(attribute="shipment.number", required=True)
    order_id = WholeNumber(required=True)
    kind = ma.fields.String(required=True, metadata={"enum": list(a.EXCEPTION_KINDS)})
    status = ma.fields.String(required=True, metadata={"enum": [states.OPEN, states.RESOLVED]})
    source = ma.fields.String(required=True)
    owner_id = WholeNumber(allow_none=True, required=True)
    owner = ma.fields.Function(lambda e: e.owner.username if e.owner else None, allow_none=True, required=True,
                               metadata={"type": "string", "description": "Username of who handles it"})
    note = ma.fields.String(required=True)
    due_date = ma.fields.Date(allow_none=True, required=True)
    raised_at = ma.fields.DateTime(required=True)
    raised_by = ma.fields.String(required=True)
    contacted_at = ma.fields.DateTime(allow_none=True, required=True)
    resolution = ma.fields.String(allow_none=True, required=True)
    resolution_note = ma.fields.String(required=True)
    resolved_at = ma.fields.DateTime(allow_none=True, required=True)
    resolved_by = ma.fields.String(allow_none=True, required=True)


# ----------------------------------------------------------------------------- input schemas


class PageArgs(PageQuerySchema):
    """Page of a list without filters."""


class ShipmentFilterSchema(PageArgs):
    order_id = id_field()
    carrier = id_field(metadata={"description": "Carrier id"})
    status = choice_field(states.STATUSES)
    from_ = ma.fields.Date(data_key="from", metadata={"description": "Shipped on or after this day"})
    to = ma.fields.Date(metadata={"description": "Shipped on or before this day"})
    sort = choice_field(["number", "-number", "ship_date", "-ship_date", "expected", "-expected", "status", "-status"],
                   load_default="-number")


class ExceptionFilterSchema(PageArgs):
    status = choice_field([states.OPEN, states.RESOLVED])
    kind = choice_field(a.EXCEPTION_KINDS)
    shipment_id = id_field()
    order_id = id_field()
    owner_id = id_field()
    overdue = ma.fields.Boolean(metadata={"description": "Only open exceptions past their due date"})
    sort = choice_field(["due", "-due", "raised", "-raised", "kind", "-kind", "id", "-id"], load_default="due")


class ShipmentLineInSchema(ApiSchema):
    order_line_id = id_field(required=True)
    quantity = WholeNumber(required=True, validate=in_range(1, 1_000_000))


class ShipmentInSchema(ApiSchema):
    order_id = id_field(required=True)
    carrier_id = id_field(required=True)
    lines = ma.fields.List(ma.fields.Nested(ShipmentLineInSchema), required=True,
                           validate=count(1, 500),
                           metadata={"description": "Order lines and how many of each to ship"})
    tracking_number = text_field(64, load_default="", metadata={
        "description": "Required unless the carrier issues tracking numbers itself"})
    carrier_name = text_field(120, load_default="", metadata={
        "description": "Who takes the parcel, for carriers that ask for it (the manual carrier)"})
    ship_date = ma.fields.Date(load_default=None, metadata={"description": "Defaults to today"})
    expected_delivery = ma.fields.Date(load_default=None)
    packages = WholeNumber(load_default=None, allow_none=True, validate=in_range(1, services.MAX_PACKAGES))
    weight_grams = WholeNumber(load_default=None, allow_none=True, validate=in_range(1, services.MAX_WEIGHT_GRAMS))
    notes = text_field(services.NOTES_LIMIT, load_default="")


class StaffEventInSchema(ApiSchema):
    status = choice_field(states.STAFF_EVENTS, required=True)
    occurred_at = AwareDateTime(load_default=None, metadata={"description": "Defaults to now"})
    description = text_field(300, load_default="")
    location = text_field(120, load_default="")


# ----------------------------------------------------------------------------- helpers


def _carrier_json(carrier: Carrier, adapter: a.CarrierAdapter | None) -> dict:
    return {"id": carrier.id, "code": carrier.code, "name": carrier.name, "adapter": carrier.adapter,
            "available": adapter is not None,
            "issues_tracking_numbers": bool(adapter and adapter.can(a.CREATE)),
            "asks_carrier_name": bool(adapter and getattr(adapter, "asks_carrier_name", False)),
            "tracks": bool(adapter and (adapter.can(a.TRACK) or adapter.can(a.WEBHOOK)))}


# Form field names of the services' refusals, as the API's fields are called.
_API_FIELDS = {"weight": "weight_grams", "cred_": "credentials"}


def _api_errors(exc: DomainError) -> DomainError:
    """Rename the form fields a service names (``qty-<line id>``, ``weight``) to the API's."""
    errors = getattr(exc, "errors", None)
    if errors:
        renamed: dict[str, list[str]] = {}
        for key, messages in errors.items():
            name = "lines" if key.startswith("qty-") else _API_FIELDS.get(key, key)
            renamed.setdefault(name, []).extend(str(m) for m in messages)
        exc.errors = renamed
    return exc


class _Detail:
    """A shipment with its tracking events, for :class:`ShipmentDetailSchema`."""

    def __init__(self, shipment: Shipment):
        self._shipment = shipment
        self.events = services.tracking_timeline(shipment.id)

    def __getattr__(self, name):
        return getattr(self._shipment, name)


def _shipment_detail(shipment: Shipment) -> _Detail:
    return _Detail(shipment)


# ----------------------------------------------------------------------------- shipments


@bp.route("/shipments")
class Shipments(MethodView):
    @requires("logistics.view")
    @bp.arguments(ShipmentFilterSchema, location="query")
    @bp.response(200, page_schema(ShipmentSchema, "ShipmentPage"))
    def get(self, args):
        """Shipments, newest first, filtered by order, carrier, status and ship date."""
        stmt = select(Shipment)
        if args.get("order_id"):
            stmt = stmt.where(Shipment.order_id == args["order_id"])
        if args.get("carrier"):
            stmt = stmt.where(Shipment.carrier_id == args["carrier"])
        if args.get("status"):
            stmt = stmt.where(Shipment.status == args["status"])
        if args.get("from_"):
            stmt = stmt.where(Shipment.ship_date >= args["from_"])
        if args.get("to"):
            stmt = stmt.where(Shipment.ship_date <= args["to"])
        stmt, _key, _desc = apply_sort(stmt, {"number": Shipment.id, "ship_date": Shipment.ship_date,
                                              "expected": Shipment.expected_delivery, "status": Shipment.status},
                                       "-number")
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("logistics.ship")
    @idempotent
    @bp.arguments(ShipmentInSchema)
    @bp.response(201, ShipmentDetailSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such order")
    @bp.alt_response(409, response="DEFAULT_ERROR", description="The order cannot be shipped (draft, cancelled, "
                                                                "everything shipped)")
    def post(self, data):
        """Ship lines of a confirmed order.

        Refused, changing nothing, for a draft or cancelled order or one shipped in full (409), and
        for more than remains to ship, a switched-off carrier, or a malformed or already used
        tracking number (422). Send an ``Idempotency-Key`` so that a retry cannot ship twice.
        """
        order = db.session.get(Order, data["order_id"])
        if order is None:
            raise NotFound(_("No such order."), field="order_id")
        quantities: dict[int, int] = {}
        for line in data["lines"]:
            quantities[line["order_line_id"]] = quantities.get(line["order_line_id"], 0) + line["quantity"]
        weight = data.get("weight_grams")
        payload = services.ShipmentInput(
            carrier_id=data["carrier_id"], quantities=quantities, tracking_number=data["tracking_number"],
            carrier_name=data["carrier_name"], ship_date=data["ship_date"], expected_delivery=data["expected_delivery"],
            packages=data.get("packages"), weight_kg=str(Decimal(weight) / 1000) if weight else "",
            notes=data["notes"])
        try:
            shipment = services.create_shipment(order, payload)
        except DomainError as exc:
            raise _api_errors(exc) from None
        db.session.commit()
        shipment = services.get_shipment(shipment.id)
        return _shipment_detail(shipment), 201, {
            "Location": url_for("logistics_api.Shipment", shipment_id=shipment.id)}


@bp.route("/shipments/<int:shipment_id>", endpoint="Shipment")
class ShipmentResource(MethodView):
    @requires("logistics.view")
    @bp.response(200, ShipmentDetailSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such shipment")
    def get(self, shipment_id):
        """One shipment with its lines and tracking events."""
        return _shipment_detail(services.get_shipment(existing_id(shipment_id, _("No such shipment."))))


@bp.route("/shipments/<int:shipment_id>/events")
class ShipmentEvents(MethodView):
    @requires("logistics.view")
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, page_schema(TrackingEventSchema, "TrackingEventPage"))
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such shipment")
    def get(self, args, shipment_id):
        """A shipment's tracking events in the order they happened."""
        shipment = services.get_shipment(existing_id(shipment_id, _("No such shipment.")))
        stmt = select(TrackingEvent).where(TrackingEvent.shipment_id == shipment.id).order_by(
            TrackingEvent.occurred_at, TrackingEvent.id)
        body, headers = paginate(stmt, args)
        return body, 200, headers

    @requires("logistics.ship")
    @idempotent
    @bp.arguments(StaffEventInSchema)
    @bp.response(201, TrackingEventSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such shipment")
    @bp.alt_response(409, response="DEFAULT_ERROR", description="The shipment takes no more events")
    def post(self, data, shipment_id):
        """Record a tracking event typed by staff.

        Picked up, in transit, out for delivery or delivered: it moves the shipment (and its
        order) like a carrier's event. A closed shipment takes no more events (409).
        """
        shipment = services.get_shipment(existing_id(shipment_id, _("No such shipment.")))
        occurred_at = data.get("occurred_at")  # in UTC (AwareDateTime)
        event = services.add_staff_event(shipment, data["status"], occurred_at, data["description"],
                                         data["location"])
        db.session.commit()
        return event, 201


# ----------------------------------------------------------------------------- delivery exceptions


@bp.route("/exceptions")
class Exceptions(MethodView):
    @requires("logistics.exceptions")
    @bp.arguments(ExceptionFilterSchema, location="query")
    @bp.response(200, page_schema(DeliveryExceptionSchema, "DeliveryExceptionPage"))
    def get(self, args):
        """Delivery exceptions (all of them unless filtered), by due date."""
        stmt = select(DeliveryException).where(order_scope(DeliveryException.order_id))  # own customers' only
        for name, column in (("status", DeliveryException.status), ("kind", DeliveryException.kind),
                             ("shipment_id", DeliveryException.shipment_id),
                             ("order_id", DeliveryException.order_id), ("owner_id", DeliveryException.owner_id)):
            if args.get(name):
                stmt = stmt.where(column == args[name])
        if args.get("overdue"):
            stmt = stmt.where(DeliveryException.status == states.OPEN, DeliveryException.due_date < services.today())
        stmt, _key, _desc = apply_sort(stmt, {"id": DeliveryException.id, "due": DeliveryException.due_date,
                                              "raised": DeliveryException.raised_at, "kind": DeliveryException.kind},
                                       "due")
        body, headers = paginate(stmt, args)
        return body, 200, headers


@bp.route("/exceptions/<int:exception_id>")
class ExceptionResource(MethodView):
    @requires("logistics.exceptions")
    @bp.response(200, DeliveryExceptionSchema)
    @bp.alt_response(404, response="DEFAULT_ERROR", description="No such exception")
    def get(self, exception_id):
        """One delivery exception."""
        return services.get_exception(existing_id(exception_id, _("No such exception.")))


# The carriers' part (listing, configuring) lives in a module of its own, on this blueprint.
from . import rest_api_carriers  # noqa: E402,F401
