"""A test plugin that records every order hook call and can be told to object or raise."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="spy", version="1", title="Spy", requires=("orders",))

CALLS: list = []
BEHAVIOUR: dict = {}


def reset():
    CALLS.clear()
    BEHAVIOUR.clear()


def _act(name, *args):
    action = BEHAVIOUR.get(name)
    return action(*args) if action else None


@hookimpl
def erp_order_created(order):
    CALLS.append(("created", order.number))
    _act("created", order)


@hookimpl
def erp_order_changed(order, changes):
    CALLS.append(("changed", changes["quantity_delta"]))
    _act("changed", order, changes)


@hookimpl
def erp_order_validate_transition(order, old_status, new_status):
    CALLS.append(("validate", old_status, new_status))
    return _act("validate", order, old_status, new_status) or []


@hookimpl
def erp_order_status_changed(order, old_status, new_status, note):
    CALLS.append(("status", old_status, new_status, note))
    _act("status", order, old_status, new_status, note)


@hookimpl
def erp_order_manual_shipping(order):
    return _act("manual_shipping", order)


@hookimpl
def erp_order_actions(order, user):
    CALLS.append(("actions", order.number))
    return _act("actions", order, user) or []


@hookimpl
def erp_order_panels(order, user):
    CALLS.append(("panels", order.number))
    return _act("panels", order, user) or []


@hookimpl
def erp_order_goods_shipped(order, quantities, reference):
    CALLS.append(("shipped", dict(quantities), reference))
    _act("shipped", order, quantities, reference)


@hookimpl
def erp_blueprints():
    # Only to give the spy's panel template a folder.
    from flask import Blueprint

    return [Blueprint("spy", __name__, template_folder="templates")]


@hookimpl
def erp_orders_amount_paid(order_ids):
    CALLS.append(("erp_orders_amount_paid", list(order_ids)))
    return _act("erp_orders_amount_paid", order_ids)
