"""Work on many orders at once (the order list's selection), tags of orders, and re-ordering.

:func:`run_bulk` takes each order in a savepoint of its own: an order refused (no permission,
a status that does not allow it, another module objecting) is reported with its reason and
leaves the others done. The caller commits once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from erp_core import audit
from erp_core.errors import DomainError, ValidationProblems
from erp_core.extensions import db
from erp_core.money import format_plain

from .. import states
from ..models import Order
from ..models_channels import MAX_TAG, OrderTag
from .customers import customer_visible, order_scope
from .entry import LineInput, OrderInput, create_order
from .transitions import perform_action

MAX_SELECTION = 500  # orders one bulk action takes

# action -> (label, permission it needs on each order)
BULK_ACTIONS = {
    "confirm": (_l("Confirm"), "orders.confirm"),
    "cancel": (_l("Cancel with a reason"), "orders.cancel"),
    "tag_add": (_l("Add a tag"), "orders.edit"),
    "tag_remove": (_l("Remove a tag"), "orders.edit"),
    "print_confirmation": (_l("Print confirmations"), "orders.view"),
    "print_packing": (_l("Print packing slips"), "orders.view"),
    "export": (_l("Export CSV"), "orders.export"),
}
# The actions that change orders (the others only read them).
WRITING = ("confirm", "cancel", "tag_add", "tag_remove")


@dataclass
class Outcome:
    """What became of one order: ``done`` and, when refused, why."""

    order_id: int
    number: str
    done: bool
    reason: str = ""


# ----------------------------------------------------------------------------- tags


def check_tag(raw: str | None) -> str:
    """A tag as stored: spaces trimmed and squeezed, at most ``MAX_TAG`` characters; raises
    DomainError (field ``tag``) when empty or too long."""
    tag = " ".join((raw or "").split())
    if not tag:
        raise DomainError(_("Give the tag."), field="tag", status=422)
    if len(tag) > MAX_TAG:
        raise DomainError(_("A tag has at most %(n)d characters.", n=MAX_TAG), field="tag", status=422)
    return tag


def tags_of(order_ids: list[int]) -> dict[int, list[str]]:
    """``{order id: [tags sorted]}`` of the orders, in one statement."""
    result: dict[int, list[str]] = {}
    if order_ids:
        for order_id, tag in db.session.execute(select(OrderTag.order_id, OrderTag.tag)
                                                .where(OrderTag.order_id.in_(order_ids))
                                                .order_by(OrderTag.order_id, OrderTag.tag)):
            result.setdefault(order_id, []).append(tag)
    return result


def add_tag(order: Order, raw: str) -> bool:
    """Put a tag on the order; False when it already had it."""
    tag = check_tag(raw)
    if db.session.get(OrderTag, (order.id, tag)) is not None:
        return False
    db.session.add(OrderTag(order_id=order.id, tag=tag))
    db.session.flush()
    audit.record("order", order.id, "tag_added", after={"tag": tag})
    return True


def remove_tag(order: Order, raw: str) -> bool:
    """Take a tag off the order; False when it did not have it."""
    tag = check_tag(raw)
    removed = db.session.execute(delete(OrderTag).where(OrderTag.order_id == order.id, OrderTag.tag == tag)).rowcount
    if removed:
        audit.record("order", order.id, "tag_removed", before={"tag": tag})
    return bool(removed)


# ----------------------------------------------------------------------------- re-order


def duplicate_order(order: Order) -> Order:
    """A new draft for the same customer, address and products as ``order``, at today's
    catalogue prices (discounts kept), in the same channel without its external reference.
    Raises OrderInvalid when a product is no longer sold."""
    header = {name: getattr(order, name) or "" for name in ("contact_name", "contact_phone", "contact_email",
                                                               "ship_recipient", "ship_line1", "ship_line2",
                                                               "ship_city", "ship_region", "ship_postcode",
                                                               "ship_country", "notes")}
    lines = [LineInput(product_id=line.product_id, quantity=line.quantity,
                       discount=f"{line.discount_percent.normalize():f}" if line.discount_percent else "")
             for line in order.lines]
    new = create_order(OrderInput(customer_id=order.customer_id, currency=order.currency, lines=lines,
                                  channel=order.channel, **header))
    audit.record("order", new.id, "duplicated", after={"from": order.number,
                                                       "total": format_plain(new.total_minor, new.currency)})
    return new


# ----------------------------------------------------------------------------- bulk


def selected_orders(ids: list[int]) -> list[Order]:
    """The orders of ``ids`` (at most MAX_SELECTION) the logged-in user may see (:func:`order_scope`),
    with their lines, in the order given."""
    wanted = list(dict.fromkeys(ids))[:MAX_SELECTION]
    if not wanted:
        return []
    found = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_(wanted), order_scope())
                                                 .options(selectinload(Order.lines)))}
    return [found[i] for i in wanted if i in found]


def run_bulk(orders: list[Order], action: str, user, reason: str = "", tag: str = "") -> list[Outcome]:
    """Take ``action`` (a key of BULK_ACTIONS that writes) on each order, each in its own
    savepoint; returns one Outcome per order. A missing reason or tag refuses the whole run
    (DomainError) before any order is touched."""
    if action not in WRITING:
        raise DomainError(_("Unknown action."), field="action", status=422)
    if action == "cancel" and not (reason or "").strip():
        raise DomainError(_("Give a reason to cancel the order."), field="reason", status=422)
    if action in ("tag_add", "tag_remove"):
        tag = check_tag(tag)
    permission = BULK_ACTIONS[action][1]
    return [_one(order, action, user, permission, reason, tag) for order in orders]


def _one(order: Order, action: str, user, permission: str, reason: str, tag: str) -> Outcome:
    outcome = Outcome(order.id, order.number, False)
    if not may(user, permission, order):
        outcome.reason = _("You may not do this.")
        return outcome
    try:
        with db.session.begin_nested():
            if action in ("confirm", "cancel"):
                perform_action(order, action, reason if action == "cancel" else None, order.version)
                outcome.done = True
            elif action == "tag_add":
                outcome.done = add_tag(order, tag)
                outcome.reason = "" if outcome.done else _("It already has this tag.")
            else:
                outcome.done = remove_tag(order, tag)
                outcome.reason = "" if outcome.done else _("It does not have this tag.")
    except ValidationProblems as exc:
        db.session.refresh(order)
        outcome.reason = "; ".join(exc.problems)
    except DomainError as exc:
        db.session.refresh(order)
        outcome.reason = str(exc)
    return outcome


def may(user, permission: str, order: Order) -> bool:
    """Whether ``user`` may take an action needing ``permission`` on ``order`` (one of the
    customers they may see, when they see their own customers only)."""
    return (bool(user.can(permission)) and order.status in states.STATUSES
            and customer_visible(order.customer, user))
