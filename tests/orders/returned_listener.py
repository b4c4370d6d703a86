"""A module that requires only orders and listens for goods and money coming back."""

from erp_core import hookimpl
from erp_core.errors import DomainError
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="listener", version="1", title="Listener", requires=("orders",))

HEARD: list = []
REFUSE: set = set()  # "goods" / "money": raise a DomainError instead of listening


@hookimpl
def erp_order_goods_back(order, quantities, restock, reference):
    if "goods" in REFUSE:
        raise DomainError("the listener refuses")
    HEARD.append(("goods", order.number, dict(quantities), restock, reference))


@hookimpl
def erp_order_money_returned(order, amount_minor, currency, reference):
    if "money" in REFUSE:
        raise DomainError("the listener refuses")
    HEARD.append(("money", order.number, amount_minor, currency, reference))
