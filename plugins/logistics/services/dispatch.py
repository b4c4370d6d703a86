"""Creating and dispatching shipments: the form's input and its checks (quantities, carrier,
tracking number, dates, parcels), the goods leaving, withdrawing a pending shipment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from erp_core import audit
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.plugins import hooks
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, OrderLine
from plugins.orders.public import states as order_states

from .. import adapters as a
from .. import states
from ..models import Carrier, Shipment, ShipmentLine
from ._common import (
    MAX_PACKAGES,
    MAX_WEIGHT_GRAMS,
    NOTES_LIMIT,
    SHIPPABLE,
    AlreadyCreated,
    Invalid,
    _lock_order,
    _reload,
    _whole,
    today,
)
from .carrier_setup import try_adapter, webhook_url
from .shipments import (
    _status_changed,
    _sync_order,
    next_shipment_number,
    order_shipments,
    remaining_by_line,
)


@dataclass
class ShipmentInput:
    """What the shipment and dispatch forms submit. ``quantities`` is ``{order_line_id: text}``."""

    carrier_id: int | str | None = None
    quantities: dict = field(default_factory=dict)
    tracking_number: str = ""
    carrier_name: str = ""
    ship_date: date | None = None
    expected_delivery: date | None = None
    packages: str | int | None = ""
    weight_kg: str | None = ""
    notes: str = ""
    request_key: str | None = None


def _check_quantities(order: Order, wanted: dict, remaining: dict[int, int], errors: dict) -> list[tuple[OrderLine, int]]:
    """The ``(order line, quantity)`` pairs to ship; problems go into ``errors`` per line."""
    lines = {line.id: line for line in order.lines}
    chosen = []
    for raw_id, raw_qty in (wanted or {}).items():
        line = lines.get(int(raw_id)) if str(raw_id).isdigit() else None
        if line is None:
            errors.setdefault("lines", []).append(_("A line does not belong to order %(number)s; reload the page.",
                                                    number=order.number))
            continue
        try:
            quantity = _whole(raw_qty, 1_000_000) or 0
        except ValueError:
            errors.setdefault(f"qty-{line.id}", []).append(_("%(sku)s: type a whole number.", sku=line.sku))
            continue
        if quantity > remaining.get(line.id, 0):
            errors.setdefault(f"qty-{line.id}", []).append(
                _("%(sku)s: only %(n)d left to ship.", sku=line.sku, n=remaining.get(line.id, 0)))
            continue
        if quantity:
            chosen.append((line, quantity))
    if not chosen and not errors:
        errors.setdefault("lines", []).append(_("Ship at least one item."))
    return chosen


@dataclass
class _Dispatch:
    """What the form says about the carrier, the parcel and its dates, checked."""

    carrier: Carrier | None = None
    adapter: a.CarrierAdapter | None = None
    tracking_number: str | None = None
    carrier_name: str = ""
    ship_date: date | None = None
    expected_delivery: date | None = None
    packages: int | None = None
    weight_grams: int | None = None
    notes: str = ""


def _check_dispatch(data: ShipmentInput, errors: dict, exclude_id: int | None = None) -> _Dispatch:
    """What the form says about the carrier, tracking number, dates, parcels and notes, checked;
    each problem goes into ``errors`` under its field."""
    out = _Dispatch()
    _check_carrier(data, out, errors, exclude_id)
    _check_dates(data, out, errors)
    _check_parcels(data, out, errors)
    return out


def _check_carrier(data: ShipmentInput, out: _Dispatch, errors: dict, exclude_id: int | None) -> None:
    """The carrier (known, switched on, its adapter installed), the name of the carrier that
    takes the parcel when the adapter asks for it, and a typed tracking number when the adapter
    does not issue one."""
    raw = str(data.carrier_id or "").strip()
    carrier = db.session.get(Carrier, int(raw)) if raw.isdigit() else None
    if carrier is None or not carrier.enabled:
        errors.setdefault("carrier_id", []).append(_("Choose a carrier.") if not raw or carrier is None
                                                   else _("Carrier %(name)s is switched off.", name=carrier.name))
        return
    out.carrier = carrier
    out.adapter = adapter = try_adapter(carrier)
    if adapter is None:
        errors.setdefault("carrier_id", []).append(
            _("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
              name=carrier.name, adapter=carrier.adapter))
        return
    if getattr(adapter, "asks_carrier_name", False):
        out.carrier_name = (data.carrier_name or "").strip()[:120]
        if not out.carrier_name:
            errors.setdefault("carrier_name", []).append(_("Type the name of the carrier that takes the parcel."))
    if not adapter.can(a.CREATE):
        out.tracking_number = check_tracking_number(carrier, adapter, data.tracking_number, errors, exclude_id)


def _check_dates(data: ShipmentInput, out: _Dispatch, errors: dict) -> None:
    """The ship date (today when blank, not in the future) and the expected delivery (not before it)."""
    out.ship_date = data.ship_date or today()
    if out.ship_date > today() + timedelta(days=1):
        errors.setdefault("ship_date", []).append(_("The ship date cannot be in the future."))
    out.expected_delivery = data.expected_delivery
    if out.expected_delivery and out.expected_delivery < out.ship_date:
        errors.setdefault("expected_delivery", []).append(_("Expected delivery cannot be before the ship date."))


def _check_parcels(data: ShipmentInput, out: _Dispatch, errors: dict) -> None:
    """The number of packages, the weight and the notes."""
    try:
        out.packages = _whole(data.packages, MAX_PACKAGES)
        if out.packages == 0:
            raise ValueError
    except ValueError:
        errors.setdefault("packages", []).append(_("Packages: a whole number from 1 to %(max)d.", max=MAX_PACKAGES))
    out.weight_grams = _weight_grams(data.weight_kg, errors)
    out.notes = (data.notes or "").strip()
    if len(out.notes) > NOTES_LIMIT:
        errors.setdefault("notes", []).append(_("Notes are limited to %(n)d characters.", n=NOTES_LIMIT))


def _weight_grams(raw, errors: dict) -> int | None:
    """The weight typed in kilograms, in grams; None when blank or wrong (then an error)."""
    text = str(raw or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        grams = Decimal(text) * 1000
        if not grams.is_finite() or grams != grams.to_integral_value() or grams <= 0 or grams > MAX_WEIGHT_GRAMS:
            raise InvalidOperation
    except InvalidOperation:
        errors.setdefault("weight", []).append(_("Weight: kilograms above zero, with at most three decimals."))
        return None
    return int(grams)


def check_tracking_number(carrier: Carrier, adapter: a.CarrierAdapter, raw: str, errors: dict,
                          exclude_id: int | None = None) -> str | None:
    """The tracking number in the adapter's normal form, unless it is malformed or already used."""
    raw = (raw or "").strip()
    if not raw:
        errors.setdefault("tracking_number", []).append(_("Type the tracking number."))
        return None
    try:
        number = adapter.validate_tracking_number(raw)
    except a.TrackingNumberInvalid:
        errors.setdefault("tracking_number", []).append(
            _("%(number)s is not a valid %(carrier)s tracking number.", number=raw[:64], carrier=carrier.name))
        return None
    taken = db.session.scalar(select(Shipment.number).where(
        Shipment.carrier_id == carrier.id, Shipment.tracking_number == number,
        Shipment.id != (exclude_id or 0)))
    if taken:
        errors.setdefault("tracking_number", []).append(
            _("Tracking number %(number)s is already used by shipment %(shipment)s.", number=number, shipment=taken))
        return None
    return number


def _apply_dispatch(shipment: Shipment, checked: _Dispatch) -> None:
    """Write the checked carrier, tracking number, dates and parcels on the shipment."""
    shipment.carrier = checked.carrier
    shipment.carrier_name = checked.carrier_name
    shipment.tracking_number = checked.tracking_number
    # waiting: the carrier issues the number (CREATE), or is told the typed one (SUBSCRIBE)
    subscribe = checked.adapter.can(a.SUBSCRIBE) and bool(checked.tracking_number)
    shipment.registration = "waiting" if checked.adapter.can(a.CREATE) or subscribe else ""
    shipment.registration_error = ""
    shipment.ship_date = checked.ship_date
    shipment.expected_delivery = checked.expected_delivery
    shipment.packages, shipment.weight_grams = checked.packages, checked.weight_grams
    if checked.notes:
        shipment.notes = checked.notes


def _flush_new(shipment: Shipment) -> None:
    """Flush a new or dispatched shipment; a tracking number taken meanwhile is refused."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        if shipment.request_key:
            first = db.session.scalar(select(Shipment).where(Shipment.request_key == shipment.request_key))
            if first is not None:
                raise AlreadyCreated(first) from None
        raise Invalid({"tracking_number": [_("Tracking number %(number)s is already used by another shipment.",
                                              number=shipment.tracking_number)]}) from None


def _dispatch(order: Order, shipment: Shipment, what: str) -> None:
    """The goods leave: inventory consumes them, the shipment is in transit, the order follows."""
    shipment.shipped_at = utcnow()
    hooks().erp_order_goods_shipped(order=order, quantities=shipment.quantities, reference=shipment.number)
    _status_changed(shipment, states.IN_TRANSIT, note=what)
    _sync_order(order, system_text("logistics.shipment_dispatched", number=shipment.number))
    if shipment.registration == "waiting":
        from erp_core.jobs import enqueue

        from .. import jobs

        enqueue(jobs.register_shipment, shipment.id, webhook_url(shipment.carrier))


def create_shipment(order: Order, data: ShipmentInput) -> Shipment:
    """Ship some lines of a confirmed (or partially shipped) order.

    Refuses (changing nothing) more than remains, a draft or cancelled order, a switched-off
    carrier, and a malformed or already used tracking number. With an adapter that issues
    tracking numbers, the carrier is asked by a job after commit.
    """
    order = _lock_order(order.id)
    if data.request_key:
        first = db.session.scalar(select(Shipment).where(Shipment.request_key == data.request_key))
        if first is not None:
            raise AlreadyCreated(first)
    if order.status not in SHIPPABLE:
        raise Conflict(_("Order %(number)s is %(status)s: only confirmed orders can be shipped.",
                         number=order.number, status=order_states.LABELS.get(order.status, order.status)))
    shipments = order_shipments(order.id)
    remaining = remaining_by_line(order, shipments)
    if not any(remaining.values()):
        raise Conflict(_("Everything on order %(number)s has been shipped already.", number=order.number))
    errors: dict[str, list[str]] = {}
    chosen = _check_quantities(order, data.quantities, remaining, errors)
    checked = _check_dispatch(data, errors)
    if errors:
        raise Invalid(errors)
    user_id, _name = audit.current_actor()
    now = utcnow()
    shipment = Shipment(number=next_shipment_number(), order=order, kind=states.KIND_ORDER, status=states.PENDING,
                        request_key=(data.request_key or None), created_at=now, updated_at=now,
                        created_by_id=user_id)
    _apply_dispatch(shipment, checked)
    shipment.lines = [ShipmentLine(order_line_id=line.id, product_id=line.product_id, sku=line.sku, name=line.name,
                                   quantity=quantity) for line, quantity in chosen]
    db.session.add(shipment)
    _flush_new(shipment)
    audit.record("shipment", shipment.id, "created", after={
        "number": shipment.number, "order": order.number, "carrier": shipment.carrier_display,
        "tracking_number": shipment.tracking_number, "lines": {l.sku: q for l, q in chosen}})
    _dispatch(order, shipment, system_text("logistics.created_dispatched"))
    return shipment


def dispatch_shipment(shipment: Shipment, data: ShipmentInput) -> Shipment:
    """Send a pending (replacement) shipment: carrier, tracking number and dates as on creation."""
    order = _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    if shipment.status != states.PENDING:
        raise Conflict(_("Shipment %(number)s is %(status)s: only a shipment waiting for dispatch can be dispatched.",
                         number=shipment.number, status=states.STATUS_LABELS[shipment.status]))
    errors: dict[str, list[str]] = {}
    checked = _check_dispatch(data, errors, exclude_id=shipment.id)
    if errors:
        raise Invalid(errors)
    _apply_dispatch(shipment, checked)
    _flush_new(shipment)
    _dispatch(order, shipment, system_text("logistics.dispatched"))
    return shipment


def cancel_pending(shipment: Shipment, note: str) -> None:
    """Withdraw a shipment that has not left (a replacement no longer wanted)."""
    order = _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    note = (note or "").strip()[:1000]
    if shipment.status != states.PENDING:
        raise Conflict(_("Shipment %(number)s has left the warehouse; raise an exception instead.",
                         number=shipment.number))
    if not note:
        raise DomainError(_("Give a reason to cancel the shipment."), field="note")
    shipment.outcome = states.WITHDRAWN
    _status_changed(shipment, states.CANCELLED, note=note)
    _sync_order(order, system_text("logistics.shipment_cancelled", number=shipment.number))
