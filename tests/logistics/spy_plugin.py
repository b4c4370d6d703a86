"""A test plugin standing in for inventory, finance and support: it records what logistics
fires (goods shipped/returned, refund and ticket requests, shipment status changes) and can be
told to answer or to refuse."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="lspy", version="1", title="Logistics spy", requires=("orders",))

CALLS: list = []
BEHAVIOUR: dict = {}


def reset():
    CALLS.clear()
    BEHAVIOUR.clear()


def calls(name):
    return [c[1:] for c in CALLS if c[0] == name]


def _act(name, *args):
    action = BEHAVIOUR.get(name)
    return action(*args) if action else None


@hookimpl
def erp_order_goods_shipped(order, quantities, reference):
    CALLS.append(("shipped", order.number, dict(quantities), reference))
    _act("shipped", order, quantities, reference)


@hookimpl
def erp_order_goods_returned(order, quantities, restock, reference):
    CALLS.append(("returned", order.number, dict(quantities), restock, reference))
    return _act("returned", order, quantities, restock, reference) or [
        {"label": f"Stock move for {reference}", "url": "/inventory/moves/1"}]


@hookimpl
def erp_refund_requested(order, amount_minor, currency, reason, source_type, source_id):
    CALLS.append(("refund", order.number, amount_minor, currency, source_type, source_id))
    return _act("refund", order, amount_minor) or [{"id": 7, "label": "Refund #7", "url": "/finance/refunds/7"}]


@hookimpl
def erp_ticket_requested(order, subject, body, category, source_type, source_id):
    CALLS.append(("ticket", order.number, subject, body, category, source_type, source_id))
    return _act("ticket", order) or [{"id": 3, "label": "TK-000003", "url": "/support/tickets/3"}]


@hookimpl
def erp_shipment_status_changed(shipment, old_status, new_status):
    CALLS.append(("status", shipment.number, old_status, new_status))
    _act("status", shipment, old_status, new_status)
