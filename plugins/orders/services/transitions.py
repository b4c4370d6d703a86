"""The status machine of orders: transitions, the buttons of the order page, shipping in full.

Validation hooks (``erp_order_validate_transition``) may veto a transition; status hooks
(``erp_order_status_changed``, ``erp_order_goods_shipped``) run inside the same transaction and
may raise, which rolls everything back.
"""

from __future__ import annotations

from collections import defaultdict

from flask_babel import force_locale
from flask_babel import gettext as _

from erp_core import audit, webhooks
from erp_core.errors import Conflict, DomainError, NotFound, ValidationProblems
from erp_core.extensions import db
from erp_core.i18n import company_locale, render_system_text
from erp_core.plugins import current_manager, hooks
from erp_core.timeutil import utcnow

from .. import states
from ..models import Order
from ._common import _bump_version, _stale
from .customers import check_credit, customer_visible


def transition(order: Order, new_status: str, note: str | None = None, expected_version: int | None = None) -> None:
    """Move ``order`` to ``new_status`` if the table allows it and no plugin objects.

    Cancelling needs a reason. Validation hooks may veto with a message; status hooks may raise
    (e.g. not enough stock left when reserving), which rolls everything back.
    """
    note = (note or "").strip()[:1000] or None
    _bump_version(order, expected_version)
    old = order.status
    if not states.can_move(old, new_status):
        raise Conflict(_("An order that is %(old)s cannot become %(new)s.",
                         old=states.LABELS.get(old, old), new=states.LABELS.get(new_status, new_status)),
                       code="transition_refused")
    if new_status == states.CANCELLED and not note:
        raise DomainError(_("Give a reason to cancel the order."), field="note", code="reason_required", status=422)
    if new_status == states.CONFIRMED:
        check_credit(order)
    problems = current_manager().collect("erp_order_validate_transition", order=order, old_status=old,
                                         new_status=new_status)
    if problems:
        raise ValidationProblems(problems, code="transition_vetoed", status=409)
    now = utcnow()
    order.status = new_status
    order.updated_at = now
    if new_status == states.CONFIRMED:
        order.confirmed_at = now
    elif new_status == states.CANCELLED:
        order.cancelled_at = now
    elif new_status == states.DRAFT:
        order.confirmed_at = None
        order.cancelled_at = None
    db.session.flush()
    hooks().erp_order_status_changed(order=order, old_status=old, new_status=new_status, note=note)
    webhooks.emit("order.status_changed", order, old_status=old, new_status=new_status, note=_webhook_text(note))
    audit.record("order", order.id, "status_changed", before={"status": old}, after={"status": new_status},
                 note=note)


def _webhook_text(note: str | None) -> str | None:
    """A note for webhook receivers: a stored system text as a sentence in the company's language."""
    if not note:
        return note
    with force_locale(company_locale()):
        return render_system_text(note)


def available_actions(order: Order, user) -> list[states.Action]:
    """The buttons the user may press on this order now."""
    manual = manual_shipping_allowed(order)
    return [a for a in states.ACTIONS
            if order.status in a.sources and user.can(a.permission) and (manual or not a.manual_shipping)]


def manual_shipping_allowed(order: Order) -> bool:
    """False when an enabled plugin (logistics) ships orders through its own documents."""
    return hooks().erp_order_manual_shipping(order=order) is not False


def perform_action(order: Order, action_name: str, note: str | None, expected_version: int | None) -> states.Action:
    """Run a named action from the order page (after the view checked its permission)."""
    action = states.ACTIONS_BY_NAME.get(action_name)
    if action is None:
        raise DomainError(_("Unknown action."))
    if expected_version is not None and int(expected_version) != order.version:
        raise _stale(order)  # a page drawn before the last change (a button pressed twice)
    if order.status not in action.sources:
        raise Conflict(_("An order that is %(old)s cannot become %(new)s.",
                         old=states.LABELS.get(order.status, order.status),
                         new=states.LABELS.get(action.target, action.target)), code="transition_refused")
    if action.manual_shipping and not manual_shipping_allowed(order):
        raise Conflict(_("This order ships through shipments; create a shipment instead."),
                       code="transition_refused")
    if action.name == "mark_shipped":
        ship_everything(order, note=note, expected_version=expected_version)
    else:
        transition(order, action.target, note=note, expected_version=expected_version)
    return action


def ship_everything(order: Order, note: str | None = None, expected_version: int | None = None) -> None:
    """Mark a confirmed order shipped in full and tell other plugins which goods left
    (``erp_order_goods_shipped``; inventory consumes the reservation there)."""
    remaining = quantities_by_product(order)
    transition(order, states.SHIPPED, note=note, expected_version=expected_version)
    if remaining:
        hooks().erp_order_goods_shipped(order=order, quantities=remaining, reference=order.number)


# The way from a draft to each status, for demo data and other plugins' set-up code.
PATHS = {
    states.DRAFT: (),
    states.CONFIRMED: (states.CONFIRMED,),
    states.SHIPPED: (states.CONFIRMED, states.SHIPPED),
    states.DELIVERED: (states.CONFIRMED, states.SHIPPED, states.DELIVERED),
    states.COMPLETED: (states.CONFIRMED, states.SHIPPED, states.DELIVERED, states.COMPLETED),
    states.CANCELLED: (states.CANCELLED,),
}


def path_to(target: str) -> tuple[str, ...]:
    """The statuses a draft passes through to reach ``target`` (``partially_shipped`` needs real
    shipments and stops at ``confirmed``)."""
    path = PATHS.get(states.CONFIRMED if target == states.PARTIALLY_SHIPPED else target)
    if path is None:
        raise DomainError(_("Unknown action."))
    return path


def advance_order(order: Order, target: str, note: str | None = None) -> list[str]:
    """Walk a draft ``order`` to ``target`` through the ordinary transitions (every hook fires:
    inventory reserves on confirm and consumes on ship). Shipping is done in full, as "mark
    shipped" does. ``partially_shipped`` needs real shipments and is taken as ``confirmed``.
    Cancelling needs ``note`` (the reason). Returns the statuses passed through. Raises DomainError like :func:`transition`.
    """
    if order.status == target:
        return []
    if order.status != states.DRAFT:
        raise Conflict(_("Only a draft order can be advanced this way."))
    path = path_to(target)
    for status in path:
        if status == states.SHIPPED:
            ship_everything(order, note=note)
        else:
            transition(order, status, note=note)
    return list(path)


def get_order(order_id) -> Order:
    """The order with id ``order_id`` (an int or digits), or ``NotFound``."""
    order = db.session.get(Order, order_id) if str(order_id).isdigit() else None
    if order is None or not customer_visible(order.customer):  # out of the user's scope: as if none
        raise NotFound(_("No such order."))
    return order


def quantities_by_product(order: Order) -> dict[int, int]:
    """Total quantity ordered per product (several lines may hold the same product), less what
    was cancelled of it ("close the rest")."""
    totals: dict[int, int] = defaultdict(int)
    for line in order.lines:
        totals[line.product_id] += line.quantity - (line.cancelled_quantity or 0)
    return dict(totals)


# ----------------------------------------------------------------------------- what comes back


def goods_came_back(order: Order, quantities: dict[int, int], restock: bool, reference: str) -> None:
    """Tell every plugin that goods of ``order`` came back (``{product_id: quantity}``): fires
    ``erp_order_goods_back`` and the ``order.goods_back`` webhook, in the caller's transaction.

    Called by the plugin that received them (support when a return is received, logistics when a
    shipment comes back to the warehouse) whether or not inventory handled the stock; ``restock``
    says whether they went back on the shelf or were written off. ``reference`` names the cause
    (a return or shipment number). Raises ``DomainError`` for an empty or negative quantity.
    """
    quantities = {int(product_id): int(quantity) for product_id, quantity in quantities.items() if quantity}
    if not quantities or any(q < 0 for q in quantities.values()):
        raise DomainError(_("Say which goods came back, in quantities of at least one."))
    hooks().erp_order_goods_back(order=order, quantities=quantities, restock=bool(restock), reference=reference)
    webhooks.emit("order.goods_back", order, quantities=quantities, restock=bool(restock), reference=reference)


def money_returned(order: Order, amount_minor: int, currency: str, reference: str) -> None:
    """Tell every plugin that money was paid back to the customer of ``order`` (``amount_minor``
    in ``currency``): fires ``erp_order_money_returned`` and the ``order.money_returned`` webhook,
    in the caller's transaction.

    Called by finance when a refund is paid out (recorded as refunded) and by support when staff
    record a refund made by hand because finance is off. Raises ``DomainError`` for an amount
    that is not positive.
    """
    if int(amount_minor) <= 0:
        raise DomainError(_("The refund must be more than zero."))
    hooks().erp_order_money_returned(order=order, amount_minor=int(amount_minor), currency=currency,
                                     reference=reference)
    webhooks.emit("order.money_returned", order, amount_minor=int(amount_minor), currency=currency,
                  reference=reference)
