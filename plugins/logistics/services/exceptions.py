"""Delivery exceptions: raising them (staff, carriers, the delay check), who handles them,
their resolutions (resume, re-ship, return to stock, cancel and refund) and asking support
to contact the customer.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError

from erp_core import audit, settings
from erp_core.auth.models import ALL, Role, RolePermission, User, user_role
from erp_core.errors import Conflict, DomainError
from erp_core.extensions import db
from erp_core.i18n import system_text
from erp_core.money import round_half_up
from erp_core.plugins import current_manager
from erp_core.timeutil import utcnow
from plugins.orders.public import Order, goods_came_back

from .. import adapters as a
from .. import states
from ..models import DeliveryException, Shipment
from ._common import EXCEPTION_SOURCE, _lock_order, _reload, hook_answered, today
from .shipments import _status_changed, _sync_order


def current_exception(shipment: Shipment) -> DeliveryException | None:
    """The shipment's open delivery exception, if any."""
    return db.session.scalar(select(DeliveryException).where(DeliveryException.open_key == shipment.id))


def default_due_date() -> date:
    """When a new exception is due (the ``logistics.exception_due_days`` setting)."""
    days = settings.get("logistics.exception_due_days", 2)
    return today() + timedelta(days=max(int(days or 0), 0))


def _check_owner(owner_id) -> int | None:
    """The id of the chosen handler (None when none is chosen); refused unless they may handle exceptions."""
    raw = str(owner_id or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) not in {u.id for u in possible_owners()}:
        raise DomainError(_("Choose someone who handles delivery exceptions."), field="owner_id")
    return int(raw)


def _owner_name(user_id: int | None) -> str | None:
    """The user name of the handler, for the audit log."""
    user = db.session.get(User, user_id) if user_id else None
    return user.username if user else None


def _open_exception(order: Order, shipment: Shipment, kind: str, note: str, source: str,
                    due_date: date | None = None, owner_id: int | None = None) -> DeliveryException:
    """Store a new open exception and put the shipment in the exception state."""
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
                    note=system_text("logistics.kind_note", kind=states.KIND_LABELS[kind], note=note) if note
                    else system_text("logistics.kind", kind=states.KIND_LABELS[kind]))
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
    """Lock the exception's order and read the exception and its shipment again."""
    order = _lock_order(exception.order_id)
    exception = db.session.execute(select(DeliveryException).where(DeliveryException.id == exception.id)
                                   .execution_options(populate_existing=True)).unique().scalar_one()
    _reload(exception.shipment)
    return order, exception


def _close(exception: DeliveryException, resolution: str, note: str, links: list | None = None) -> None:
    """Mark the exception resolved (audited), keeping the links other plugins gave."""
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
    """Ask other plugins to handle the shipment's goods (``erp_order_goods_returned``: inventory
    restocks or writes them off) and, when they are back in the warehouse (``restock``), announce
    it to every plugin (``erp_order_goods_back``)."""
    links = current_manager().collect("erp_order_goods_returned", order=order, quantities=shipment.quantities,
                                      restock=restock, reference=shipment.number)
    if restock:
        goods_came_back(order, shipment.quantities, True, shipment.number)
    return links


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
    reason = system_text("logistics.exception_on", number=shipment.number, kind=kind_label)
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
    _sync_order(order, system_text("logistics.exception_resolved", number=shipment.number))
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
    # stored as a system text: support's staff read the ticket's subject in their own language
    subject = system_text("logistics.delivery_problem", order=order.number, number=shipment.number,
                          kind=states.KIND_LABELS[exception.kind])
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
                    shipment, a.DELAYED, system_text("logistics.expected_not_delivered",
                                                     date={"date": shipment.expected_delivery.isoformat()}),
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
