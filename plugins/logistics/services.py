"""Business rules of logistics: carriers, shipments, tracking events and delivery exceptions.

Every function works in the caller's transaction and raises a DomainError with a translated
message; the caller then rolls back or commits. Functions that change a shipment first lock its
order's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite writers are serialised by
``BEGIN IMMEDIATE``), so two shipments of one order delivered at the same moment cannot both
miss that the order is now delivered.

Other plugins are reached only through hooks, inside the same transaction:
``erp_order_goods_shipped`` (inventory consumes the reservation), ``erp_order_goods_returned``,
``erp_refund_requested`` (finance), ``erp_ticket_requested`` (support),
``erp_replacement_shipment_requested`` (answered by logistics itself) and
``erp_shipment_status_changed``. The order moves through ``plugins.orders.services.transition``.
Carrier systems are called only from jobs (:mod:`plugins.logistics.jobs`), outside transactions.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app, g, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from erp_core import audit, settings, webhooks
from erp_core.auth.models import ALL, Role, RolePermission, User, user_role
from erp_core.db import next_counter
from erp_core.errors import Conflict, DomainError, NotFound
from erp_core.i18n import company_locale
from erp_core.extensions import db
from erp_core.money import round_half_up
from erp_core.timeutil import to_zone, utcnow
from erp_core.plugins import current_manager, hooks

from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders.models import Order, OrderLine, Product

from . import adapters as a
from . import states
from .models import Carrier, DeliveryException, Shipment, ShipmentLine, TrackingEvent

log = logging.getLogger(__name__)

# Orders that may get a new shipment (a shipped order too, when returned goods reopened lines).
SHIPPABLE = frozenset({order_states.CONFIRMED, order_states.PARTIALLY_SHIPPED, order_states.SHIPPED})
EXCEPTION_SOURCE = "logistics_exception"
MAX_PACKAGES = 999
MAX_WEIGHT_GRAMS = 100_000_000
NOTES_LIMIT = 2000


class Invalid(DomainError):
    """Several fields are wrong; ``errors`` maps field names to messages (shown beside each)."""

    code = "invalid"
    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(first if len(errors) == 1 else _("Please correct the marked fields: %(first)s", first=first))


class AlreadyCreated(Conflict):
    """The same form was posted twice: ``shipment_id`` names the shipment the first post made."""

    def __init__(self, shipment: Shipment):
        self.shipment_id = shipment.id
        super().__init__(_("Shipment %(number)s was already created from this form.", number=shipment.number))



def hook_answered(hook_name: str) -> bool:
    """Does any switched-on plugin implement ``hook_name``? Actions that need an answer are
    hidden (and refused) when none does, e.g. "cancel and refund" with finance switched off."""
    return bool(current_manager().answerers(hook_name))


def _url(endpoint: str, **values) -> str:
    try:
        return url_for(endpoint, **values)
    except RuntimeError:  # no request (a job): a path is enough for a link
        return ""


def today() -> date:
    """Today in the company's time zone."""
    return to_zone(utcnow(), settings.company_timezone()).date()


# ----------------------------------------------------------------------------- adapters and carriers


def adapter_classes() -> dict[str, type[a.CarrierAdapter]]:
    """``{key: class}`` of the adapters switched-on plugins offer (``erp_carrier_adapters``)."""
    enabled = current_app.extensions["erp_plugins"].enabled()
    cached = g.get("_logistics_adapters")
    if cached is None or cached[0] != enabled:
        found: dict[str, type[a.CarrierAdapter]] = {}
        for cls in current_manager().collect("erp_carrier_adapters"):
            key = getattr(cls, "key", "")
            if a.is_valid_key(key) and key not in found:
                found[key] = cls
        cached = g._logistics_adapters = (enabled, found)
    return cached[1]


def webhook_secret(carrier: Carrier) -> str:
    """The carrier's webhook signing secret, derived from SECRET_KEY and its stored nonce."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"logistics.webhook:{carrier.webhook_nonce}".encode("utf-8"), hashlib.sha256).hexdigest()


def adapter_for(carrier: Carrier) -> a.CarrierAdapter:
    cls = adapter_classes().get(carrier.adapter)
    if cls is None:
        raise DomainError(_("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                            name=carrier.name, adapter=carrier.adapter))
    return cls(a.CarrierConfig(code=carrier.code, name=carrier.name, credentials=dict(carrier.credentials or {}),
                               webhook_secret=webhook_secret(carrier)))


def try_adapter(carrier: Carrier | None) -> a.CarrierAdapter | None:
    """The carrier's adapter, or None when there is no carrier or its adapter is gone."""
    if carrier is None:
        return None
    try:
        return adapter_for(carrier)
    except DomainError:
        return None


def masked(value) -> str:
    """A secret as shown on pages: dots and its last two characters."""
    value = str(value or "")
    if not value:
        return ""
    return "•" * 6 + value[-2:] if len(value) > 6 else "•" * 6


def carriers(enabled_only: bool = False) -> list[Carrier]:
    stmt = select(Carrier).order_by(Carrier.name, Carrier.id)
    if enabled_only:
        stmt = stmt.where(Carrier.enabled.is_(True))
    return list(db.session.scalars(stmt))


def get_carrier(carrier_id) -> Carrier:
    carrier = db.session.get(Carrier, int(carrier_id)) if str(carrier_id or "").isdigit() else None
    if carrier is None:
        raise NotFound(_("No such carrier."), field="carrier_id")
    return carrier


def _carrier_values(cls, name: str, credentials: dict, stored: dict, errors: dict) -> tuple[str, dict]:
    name = (name or "").strip()[:120]
    if not name:
        errors.setdefault("name", []).append(_("The carrier needs a name."))
    values = {}
    for f in cls.credential_fields:
        raw = (credentials.get(f.key) or "").strip()[:500]
        if f.secret and not raw:
            raw = stored.get(f.key, "")  # blank keeps the stored secret
        values[f.key] = raw
    for key, problem in cls.validate_credentials(values).items():
        message = _("This is required.") if problem == "required" else problem
        errors.setdefault("cred_" + key, []).append(message)
    return name, values


def _credential_audit(cls, values: dict) -> dict:
    secret = {f.key for f in cls.credential_fields if f.secret}
    return {k: ("***" if k in secret and v else v) for k, v in values.items()}


def create_carrier(name: str, code: str, adapter_key: str, credentials: dict, enabled: bool = True) -> Carrier:
    """Configure a carrier run by the adapter ``adapter_key``; ``code`` names its webhook URL."""
    errors: dict[str, list[str]] = {}
    cls = adapter_classes().get(adapter_key or "")
    if cls is None:
        raise Invalid({"adapter": [_("Choose one of the available adapters.")]})
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", code):
        errors.setdefault("code", []).append(_("A code has 2 to 40 lower-case letters, digits or dashes."))
    elif db.session.scalar(select(Carrier.id).where(Carrier.code == code)):
        errors.setdefault("code", []).append(_("The code %(code)s is already used by another carrier.", code=code))
    name, values = _carrier_values(cls, name, credentials or {}, {}, errors)
    if errors:
        raise Invalid(errors)
    now = utcnow()
    carrier = Carrier(code=code, name=name, adapter=cls.key, enabled=bool(enabled), credentials=values,
                      webhook_nonce=secrets.token_hex(16), created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(carrier)
            db.session.flush()
    except IntegrityError:  # the same code taken a moment ago by another request
        raise Invalid({"code": [_("The code %(code)s is already used by another carrier.", code=code)]}) from None
    audit.record("carrier", carrier.id, "created", after={"name": name, "code": code, "adapter": cls.key,
                                                         "enabled": carrier.enabled,
                                                         **_credential_audit(cls, values)})
    return carrier


def update_carrier(carrier: Carrier, name: str, credentials: dict) -> None:
    """Change a carrier's name and credentials; a blank secret keeps the stored one."""
    cls = adapter_classes().get(carrier.adapter)
    if cls is None:
        raise DomainError(_("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                            name=carrier.name, adapter=carrier.adapter))
    errors: dict[str, list[str]] = {}
    stored = dict(carrier.credentials or {})
    name, values = _carrier_values(cls, name, credentials or {}, stored, errors)
    if errors:
        raise Invalid(errors)
    before = {"name": carrier.name, **_credential_audit(cls, stored)}
    secret = {f.key for f in cls.credential_fields if f.secret}
    after = {"name": name, **{k: ("*** (changed)" if k in secret and v != stored.get(k) else
                                  _credential_audit(cls, {k: v})[k]) for k, v in values.items()}}
    carrier.name, carrier.credentials, carrier.updated_at = name, values, utcnow()
    b, af = audit.diff(before, after)
    if af:
        audit.record("carrier", carrier.id, "changed", before=b, after=af)


def set_carrier_enabled(carrier: Carrier, enabled: bool) -> None:
    if carrier.enabled == bool(enabled):
        return
    carrier.enabled, carrier.updated_at = bool(enabled), utcnow()
    audit.record("carrier", carrier.id, "enabled" if enabled else "disabled",
                 before={"enabled": not enabled}, after={"enabled": bool(enabled)})


def rotate_webhook_secret(carrier: Carrier) -> str:
    """Give the carrier a new webhook secret (the old one stops working); returns it."""
    carrier.webhook_nonce, carrier.updated_at = secrets.token_hex(16), utcnow()
    audit.record("carrier", carrier.id, "webhook_secret_rotated")
    return webhook_secret(carrier)


# ----------------------------------------------------------------------------- quantities and the order


def _lock_order(order_id: int) -> Order:
    """Lock the order's row for the rest of the transaction and reload it with its lines."""
    return db.session.execute(
        select(Order).where(Order.id == order_id).options(selectinload(Order.lines))
        .with_for_update(of=Order).execution_options(populate_existing=True)).scalar_one()


def _reload(shipment: Shipment) -> Shipment:
    return db.session.execute(select(Shipment).where(Shipment.id == shipment.id)
                              .execution_options(populate_existing=True)).unique().scalar_one()


def order_shipments(order_id: int) -> list[Shipment]:
    stmt = select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
    return list(db.session.scalars(stmt).unique())


def remaining_by_line(order: Order, shipments: list[Shipment] | None = None) -> dict[int, int]:
    """``{order_line_id: quantity}`` not yet given to a shipment that counts for the order."""
    shipments = order_shipments(order.id) if shipments is None else shipments
    taken: dict[int, int] = defaultdict(int)
    for shipment in shipments:
        if shipment.counts_for_order:
            for line in shipment.lines:
                if line.order_line_id is not None:
                    taken[line.order_line_id] += line.quantity
    return {line.id: max(line.quantity - taken[line.id], 0) for line in order.lines}


def _target_status(order: Order, shipments: list[Shipment]) -> str | None:
    counted = [s for s in shipments if s.counts_for_order]
    if not any(s.status != states.PENDING for s in counted):
        return None
    if any(remaining_by_line(order, shipments).values()):
        return order_states.PARTIALLY_SHIPPED
    arrived = all(s.status == states.DELIVERED or s.outcome == states.REFUNDED for s in counted)
    if arrived and any(s.status == states.DELIVERED for s in counted):
        return order_states.DELIVERED
    return order_states.SHIPPED


_RANK = {order_states.CONFIRMED: 0, order_states.PARTIALLY_SHIPPED: 1, order_states.SHIPPED: 2,
         order_states.DELIVERED: 3}


def _sync_order(order: Order, note: str) -> None:
    """Move the order forward (partially shipped, shipped, delivered) to match its shipments."""
    target = _target_status(order, order_shipments(order.id))
    while target is not None and order.status in _RANK and _RANK[target] > _RANK[order.status]:
        # straight there when the order's table allows it (confirmed -> shipped), else step by step
        step = target if order_states.can_move(order.status, target) else next(
            (s for s in _RANK if _RANK[order.status] < _RANK[s] < _RANK[target]
             and order_states.can_move(order.status, s)), None)
        if step is None:
            return
        orders.transition(order, step, note=note)


def next_shipment_number() -> str:
    """SH-<year>-<000001>: gap-free per year of the company's calendar, safe under concurrency."""
    year = today().year
    return f"SH-{year}-{next_counter(db.session, f'logistics.shipment.{year}'):06d}"


def _status_changed(shipment: Shipment, new: str, note: str | None = None) -> None:
    old = shipment.status
    if old == new:
        return
    shipment.status, shipment.updated_at = new, utcnow()
    db.session.flush()
    hooks().erp_shipment_status_changed(shipment=shipment, old_status=old, new_status=new)
    webhooks.emit("shipment.status_changed", shipment, old_status=old, new_status=new)
    audit.record("shipment", shipment.id, "status_changed", before={"status": old}, after={"status": new},
                 note=note)


# ----------------------------------------------------------------------------- creating shipments


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


def _whole(raw, limit: int) -> int | None:
    text = str(raw if raw is not None else "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError from None
    if not value.is_finite() or value != value.to_integral_value() or value < 0 or value > limit:
        raise ValueError
    return int(value)


def _check_quantities(order: Order, wanted: dict, remaining: dict[int, int], errors: dict) -> list[tuple[OrderLine, int]]:
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
    out = _Dispatch()
    raw = str(data.carrier_id or "").strip()
    carrier = db.session.get(Carrier, int(raw)) if raw.isdigit() else None
    if carrier is None or not carrier.enabled:
        errors.setdefault("carrier_id", []).append(_("Choose a carrier.") if not raw or carrier is None
                                                   else _("Carrier %(name)s is switched off.", name=carrier.name))
    else:
        out.carrier = carrier
        out.adapter = try_adapter(carrier)
        if out.adapter is None:
            errors.setdefault("carrier_id", []).append(
                _("Carrier %(name)s uses the adapter %(adapter)s, which is not installed or switched off.",
                  name=carrier.name, adapter=carrier.adapter))
    adapter = out.adapter
    if adapter is not None and getattr(adapter, "asks_carrier_name", False):
        out.carrier_name = (data.carrier_name or "").strip()[:120]
        if not out.carrier_name:
            errors.setdefault("carrier_name", []).append(_("Type the name of the carrier that takes the parcel."))
    if adapter is not None and not adapter.can(a.CREATE):
        out.tracking_number = check_tracking_number(out.carrier, adapter, data.tracking_number, errors, exclude_id)
    out.ship_date = data.ship_date or today()
    if out.ship_date > today() + timedelta(days=1):
        errors.setdefault("ship_date", []).append(_("The ship date cannot be in the future."))
    out.expected_delivery = data.expected_delivery
    if out.expected_delivery and out.expected_delivery < out.ship_date:
        errors.setdefault("expected_delivery", []).append(_("Expected delivery cannot be before the ship date."))
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
    return out


def _weight_grams(raw, errors: dict) -> int | None:
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
    shipment.carrier = checked.carrier
    shipment.carrier_name = checked.carrier_name
    shipment.tracking_number = checked.tracking_number
    shipment.registration = "waiting" if checked.adapter.can(a.CREATE) else ""
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
    with force_locale(company_locale()):  # kept in the order's history: the company's language
        note = _("Shipment %(number)s dispatched.", number=shipment.number)
    _sync_order(order, note)
    if shipment.registration == "waiting":
        from . import jobs

        from erp_core.jobs import enqueue

        enqueue(jobs.register_shipment, shipment.id)


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
    _dispatch(order, shipment, _("Created and dispatched."))
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
    _dispatch(order, shipment, _("Dispatched."))
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
    with force_locale(company_locale()):  # kept in the order's history: the company's language
        note = _("Shipment %(number)s cancelled.", number=shipment.number)
    _sync_order(order, note)


def create_replacement(order: Order, quantities: dict, reason: str, source_type: str, source_id) -> Shipment:
    """A pending shipment of ``{product_id: quantity}`` (an exchange from support, or a re-ship
    of a delivery exception), waiting for the warehouse to dispatch it."""
    order = _lock_order(order.id)
    if order.status in (order_states.DRAFT, order_states.CANCELLED):
        raise Conflict(_("Order %(number)s is %(status)s: nothing can be shipped for it.",
                         number=order.number, status=order_states.LABELS.get(order.status, order.status)))
    wanted: dict[int, int] = {}
    for product_id, quantity in (quantities or {}).items():
        try:
            amount = _whole(quantity, 1_000_000)
        except ValueError:
            amount = None
        if not str(product_id).isdigit() or not amount:
            raise DomainError(_("A replacement needs whole, positive quantities of known products."))
        wanted[int(product_id)] = wanted.get(int(product_id), 0) + amount
    if not wanted:
        raise DomainError(_("A replacement needs whole, positive quantities of known products."))
    original = None
    if source_type == EXCEPTION_SOURCE:
        exception = db.session.get(DeliveryException, int(source_id)) if str(source_id).isdigit() else None
        original = exception.shipment if exception is not None and exception.order_id == order.id else None
    lines = _replacement_lines(order, wanted, original)
    user_id, _name = audit.current_actor()
    now = utcnow()
    shipment = Shipment(number=next_shipment_number(), order=order, status=states.PENDING,
                        kind=states.KIND_ORDER if original is not None else states.KIND_EXCHANGE,
                        carrier_id=original.carrier_id if original is not None else None,
                        carrier_name=original.carrier_name if original is not None else "",
                        replaces_id=original.id if original is not None else None,
                        source_type=(source_type or "")[:40] or None,
                        source_id=str(source_id)[:40] if source_id is not None else None,
                        reason=(reason or "").strip()[:2000], created_at=now, updated_at=now, created_by_id=user_id)
    shipment.lines = lines
    db.session.add(shipment)
    db.session.flush()
    audit.record("shipment", shipment.id, "created", after={
        "number": shipment.number, "order": order.number, "replacement_for": f"{source_type} {source_id}",
        "lines": {line.sku: line.quantity for line in lines}}, note=shipment.reason or None)
    return shipment


def _replacement_lines(order: Order, wanted: dict[int, int], original: Shipment | None) -> list[ShipmentLine]:
    if original is not None:
        lines, left = [], dict(wanted)
        for line in original.lines:
            quantity = min(line.quantity, left.get(line.product_id, 0))
            if quantity:
                left[line.product_id] -= quantity
                lines.append(ShipmentLine(order_line_id=line.order_line_id, product_id=line.product_id,
                                          sku=line.sku, name=line.name, quantity=quantity))
        if any(left.values()):
            raise DomainError(_("A re-ship cannot carry more than the original shipment."))
        return lines
    by_product = {line.product_id: line for line in order.lines}
    missing = [pid for pid in wanted if pid not in by_product]
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(missing)))} if missing else {}
    lines = []
    for product_id, quantity in wanted.items():
        line = by_product.get(product_id)
        source = line or products.get(product_id)
        if source is None:
            raise DomainError(_("A replacement needs whole, positive quantities of known products."))
        lines.append(ShipmentLine(order_line_id=line.id if line else None, product_id=product_id,
                                  sku=source.sku, name=source.name, quantity=quantity))
    return lines


# ----------------------------------------------------------------------------- carrier registration


def registration_request(shipment: Shipment) -> a.ShipmentRequest:
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
            created, error = None, _("The carrier answered with a malformed tracking number.")
        else:
            taken = db.session.scalar(select(Shipment.number).where(
                Shipment.carrier_id == shipment.carrier_id, Shipment.tracking_number == number))
            if taken:
                created, error = None, _("The carrier answered with tracking number %(number)s, already used by %(shipment)s.",
                                         number=number, shipment=taken)
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


def retry_registration(shipment: Shipment) -> None:
    """Ask the carrier again after a failed registration (runs as a job after commit)."""
    if shipment.registration != "failed":
        raise Conflict(_("Shipment %(number)s is not waiting for the carrier.", number=shipment.number))
    shipment.registration, shipment.registration_error = "waiting", ""
    audit.record("shipment", shipment.id, "registration_retried")
    from erp_core.jobs import enqueue

    from . import jobs

    enqueue(jobs.register_shipment, shipment.id)


# ----------------------------------------------------------------------------- tracking events


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
            _close(open_exception, states.DELIVERED_AFTER_ALL, _("The carrier delivered the parcel."))
        _status_changed(shipment, states.DELIVERED, note=event.description or None)
        with force_locale(company_locale()):  # kept in the order's history: the company's language
            note = _("Shipment %(number)s delivered.", number=shipment.number)
        _sync_order(order, note)
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


# ----------------------------------------------------------------------------- delivery exceptions


def current_exception(shipment: Shipment) -> DeliveryException | None:
    return db.session.scalar(select(DeliveryException).where(DeliveryException.open_key == shipment.id))


def default_due_date() -> date:
    days = settings.get("logistics.exception_due_days", 2)
    return today() + timedelta(days=max(int(days or 0), 0))


def _check_owner(owner_id) -> int | None:
    raw = str(owner_id or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in {u.id for u in possible_owners()}:
        raise DomainError(_("Choose someone who handles delivery exceptions."), field="owner_id")
    return int(raw)


def _owner_name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None


def _open_exception(order: Order, shipment: Shipment, kind: str, note: str, source: str,
                    due_date: date | None = None, owner_id: int | None = None) -> DeliveryException:
    _actor_id, actor_name = audit.current_actor()
    exception = DeliveryException(shipment_id=shipment.id, order_id=order.id, open_key=shipment.id, kind=kind,
                                  status=states.OPEN, source=source, owner_id=owner_id, note=note[:5000],
                                  due_date=due_date or default_due_date(), raised_at=utcnow(),
                                  raised_by=actor_name if source == states.SOURCE_STAFF else source, links=[])
    try:
        with db.session.begin_nested():
            db.session.add(exception)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Shipment %(number)s already has an open exception.", number=shipment.number)) from None
    audit.record("delivery_exception", exception.id, "raised",
                 after={"kind": kind, "shipment": shipment.number, "source": source,
                        "due_date": exception.due_date, "owner": _owner_name(owner_id)}, note=note or None)
    _status_changed(shipment, states.EXCEPTION,
                    note=_("%(kind)s: %(note)s", kind=states.KIND_LABELS[kind], note=note) if note
                    else str(states.KIND_LABELS[kind]))
    return exception


def raise_exception(shipment: Shipment, kind: str, note: str = "", due_date: date | None = None,
                    owner_id=None, source: str = states.SOURCE_STAFF) -> DeliveryException:
    """Report a delivery problem of a shipment in transit."""
    if kind not in states.KIND_LABELS:
        raise DomainError(_("Choose the kind of problem."), field="kind")
    note = (note or "").strip()
    if len(note) > 5000:
        raise DomainError(_("Notes are limited to %(n)d characters.", n=5000), field="note")
    owner = _check_owner(owner_id)
    if due_date is not None and due_date < today() and source == states.SOURCE_STAFF:
        raise DomainError(_("The due date cannot be in the past."), field="due_date")
    order = _lock_order(shipment.order_id)
    shipment = _reload(shipment)
    if shipment.status == states.EXCEPTION:
        raise Conflict(_("Shipment %(number)s already has an open exception.", number=shipment.number))
    if shipment.status != states.IN_TRANSIT:
        raise Conflict(_("Shipment %(number)s is %(status)s: only a shipment in transit can have an exception.",
                         number=shipment.number, status=states.STATUS_LABELS[shipment.status]))
    return _open_exception(order, shipment, kind, note, source, due_date, owner)


def update_exception(exception: DeliveryException, owner_id, due_date: date | None, note: str) -> None:
    """Change who handles an open exception, by when, and its note (audited)."""
    if exception.status != states.OPEN:
        raise Conflict(_("This exception is resolved; it can no longer be changed."))
    owner = _check_owner(owner_id)
    note = (note or "").strip()
    if len(note) > 5000:
        raise DomainError(_("Notes are limited to %(n)d characters.", n=5000), field="note")
    if due_date is None:
        raise DomainError(_("Give a due date."), field="due_date")
    before = {"owner": _owner_name(exception.owner_id), "due_date": exception.due_date, "note": exception.note}
    exception.owner_id, exception.due_date, exception.note = owner, due_date, note
    b, af = audit.diff(before, {"owner": _owner_name(owner), "due_date": due_date, "note": note})
    if af:
        audit.record("delivery_exception", exception.id, "changed", before=b, after=af)


def available_resolutions(exception: DeliveryException) -> list[str]:
    """Resolutions offered for this exception: those that fit its kind and whose plugin is on."""
    if exception.status != states.OPEN:
        return []
    needs = {states.RETURN_TO_STOCK: "erp_order_goods_returned", states.CANCEL_REFUND: "erp_refund_requested",
             states.RESHIP: "erp_replacement_shipment_requested"}
    return [r for r in states.resolutions_for(exception.kind) if r not in needs or hook_answered(needs[r])]


def can_contact(exception: DeliveryException) -> bool:
    """"Contact the customer" needs a support plugin to open the ticket, once per exception."""
    return exception.status == states.OPEN and exception.contacted_at is None and hook_answered("erp_ticket_requested")


def shipment_value(shipment: Shipment) -> int:
    """What the shipped goods cost the customer, in minor units of the order's currency
    (each line's share of its order line's total, rounded half-up per line)."""
    order_lines = {line.id: line for line in shipment.order.lines}
    total = 0
    for line in shipment.lines:
        source = order_lines.get(line.order_line_id)
        if source is not None and source.quantity:
            total += round_half_up(Decimal(source.line_total_minor) * line.quantity / source.quantity)
    return total


def _lock_exception(exception: DeliveryException) -> tuple[Order, DeliveryException]:
    order = _lock_order(exception.order_id)
    exception = db.session.execute(select(DeliveryException).where(DeliveryException.id == exception.id)
                                   .execution_options(populate_existing=True)).unique().scalar_one()
    _reload(exception.shipment)
    return order, exception


def _close(exception: DeliveryException, resolution: str, note: str, links: list | None = None) -> None:
    _actor_id, actor_name = audit.current_actor()
    exception.status, exception.open_key, exception.resolution = states.RESOLVED, None, resolution
    exception.resolution_note = (note or "")[:5000]
    exception.resolved_at, exception.resolved_by = utcnow(), actor_name
    if links:
        exception.links = list(exception.links or []) + links
    db.session.flush()
    audit.record("delivery_exception", exception.id, "resolved", before={"status": states.OPEN},
                 after={"status": states.RESOLVED, "resolution": resolution}, note=note or None)


def _goods_back(order: Order, shipment: Shipment, restock: bool) -> list:
    return current_manager().collect("erp_order_goods_returned", order=order, quantities=shipment.quantities,
                                     restock=restock, reference=shipment.number)


def resolve_exception(exception: DeliveryException, resolution: str, note: str = "") -> list[dict]:
    """Settle an open exception; returns the links other plugins gave (stock moves, refund,
    replacement shipment). Everything happens in this transaction: a plugin that refuses (e.g.
    finance finds nothing to refund) undoes it all."""
    order, exception = _lock_exception(exception)
    if exception.status != states.OPEN:
        raise Conflict(_("This exception has been resolved already."))
    if resolution not in available_resolutions(exception):
        raise Conflict(_("%(resolution)s is not possible for this exception.",
                         resolution=states.RESOLUTION_LABELS.get(resolution, resolution)))
    note = (note or "").strip()[:5000]
    shipment = exception.shipment
    kind_label = states.KIND_LABELS[exception.kind]
    reason = _("Delivery exception on shipment %(number)s: %(kind)s", number=shipment.number, kind=kind_label)
    links: list[dict] = []
    if resolution == states.RESUME:
        _close(exception, resolution, note)
        _status_changed(shipment, states.IN_TRANSIT, note=note or None)
        return links
    restock = exception.kind in states.GOODS_COME_BACK or resolution == states.RETURN_TO_STOCK
    links += _goods_back(order, shipment, restock)
    shipment.outcome = {states.RESHIP: states.RESHIPPED, states.RETURN_TO_STOCK: states.RESTOCKED,
                        states.CANCEL_REFUND: states.REFUNDED}[resolution]
    _status_changed(shipment, states.closing_status(exception.kind), note=note or None)
    if resolution == states.RESHIP:
        links += current_manager().collect(
            "erp_replacement_shipment_requested", order=order, quantities=shipment.quantities, reason=reason,
            source_type=EXCEPTION_SOURCE, source_id=exception.id)
    elif resolution == states.CANCEL_REFUND:
        amount = shipment_value(shipment)
        if amount > 0:
            links += current_manager().collect(
                "erp_refund_requested", order=order, amount_minor=amount, currency=order.currency, reason=reason,
                source_type=EXCEPTION_SOURCE, source_id=exception.id)
    _close(exception, resolution, note, links)
    with force_locale(company_locale()):  # kept in the order's history: the company's language
        note = _("Delivery exception on shipment %(number)s resolved.", number=shipment.number)
    _sync_order(order, note)
    return links


def contact_customer(exception: DeliveryException, message: str) -> list[dict]:
    """Ask support to contact the customer about the exception (the exception stays open)."""
    order, exception = _lock_exception(exception)
    if exception.status != states.OPEN:
        raise Conflict(_("This exception has been resolved already."))
    if exception.contacted_at is not None:
        raise Conflict(_("Customer service has been asked to contact the customer already."))
    if not hook_answered("erp_ticket_requested"):
        raise Conflict(_("Customer support is switched off."))
    message = (message or "").strip()
    if not message:
        raise DomainError(_("Write what customer service should tell or ask the customer."), field="message")
    shipment = exception.shipment
    subject = _("Delivery problem with %(order)s (shipment %(number)s): %(kind)s", order=order.number,
                number=shipment.number, kind=states.KIND_LABELS[exception.kind])
    links = current_manager().collect("erp_ticket_requested", order=order, subject=subject, body=message[:5000],
                                      category="delivery", source_type=EXCEPTION_SOURCE, source_id=exception.id)
    exception.contacted_at = utcnow()
    exception.links = list(exception.links or []) + links
    audit.record("delivery_exception", exception.id, "customer_contacted",
                 after={"tickets": [l.get("label") for l in links]}, note=message[:1000])
    return links


def check_delays(on_day: date | None = None) -> list[DeliveryException]:
    """Raise a "delayed" exception for every shipment in transit past its expected delivery date."""
    on_day = on_day or today()
    grace = max(int(settings.get("logistics.delay_grace_days", 0) or 0), 0)
    late = list(db.session.scalars(select(Shipment.id).where(
        Shipment.status == states.IN_TRANSIT, Shipment.expected_delivery < on_day - timedelta(days=grace))
        .order_by(Shipment.order_id, Shipment.id)))
    raised = []
    for shipment_id in late:
        shipment = db.session.get(Shipment, shipment_id)
        try:
            with db.session.begin_nested():
                raised.append(raise_exception(
                    shipment, a.DELAYED, _("Expected on %(date)s; not delivered yet.",
                                           date=shipment.expected_delivery.isoformat()),
                    source=states.SOURCE_SCHEDULE))
        except DomainError:
            continue  # delivered or raised meanwhile
    return raised


def possible_owners() -> list[User]:
    """Active users who may handle delivery exceptions."""
    granted = select(user_role.c.user_id).join(Role, Role.id == user_role.c.role_id).where(or_(
        Role.all_permissions.is_(True),
        exists().where(and_(RolePermission.role_id == Role.id,
                            RolePermission.code.in_(["logistics.exceptions", ALL])))))
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(granted))
                                   .order_by(User.username)))


# ----------------------------------------------------------------------------- lists and panels


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
    shipment = db.session.get(Shipment, int(shipment_id)) if str(shipment_id).isdigit() else None
    if shipment is None:
        raise NotFound(_("No such shipment."))
    return shipment


def get_exception(exception_id) -> DeliveryException:
    exception = db.session.get(DeliveryException, int(exception_id)) if str(exception_id).isdigit() else None
    if exception is None:
        raise NotFound(_("No such exception."))
    return exception


def replacement_links(shipment: Shipment) -> list[Shipment]:
    return list(db.session.scalars(select(Shipment).where(Shipment.replaces_id == shipment.id)
                                   .order_by(Shipment.id)).unique())


def shipment_exceptions(shipment_id: int) -> list[DeliveryException]:
    return list(db.session.scalars(select(DeliveryException).where(DeliveryException.shipment_id == shipment_id)
                                   .order_by(DeliveryException.id.desc())).unique())

