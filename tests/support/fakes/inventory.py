"""Stands in for the inventory plugin: answers erp_order_goods_returned and records the call."""

from erp_core import hookimpl
from erp_core.errors import DomainError
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="inventory", version="0", title="Fake inventory", requires=("orders",))

CALLS: list = []
BEHAVIOUR: dict = {}


@hookimpl
def erp_order_goods_returned(order, quantities, restock, reference):
    CALLS.append((order.number, dict(quantities), restock, reference))
    if BEHAVIOUR.get("fail"):
        raise DomainError(BEHAVIOUR["fail"])
    return [{"label": f"Stock move for {reference}", "url": "/fake/stock/1"}]
