"""A test plugin that says an order was invoiced (``erp_order_invoicing_locked``) when told to."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="invoicelock", version="1", title="Invoice lock", requires=("orders",))

INVOICED: dict[int, str] = {}  # order id -> invoice number


@hookimpl
def erp_order_invoicing_locked(order):
    number = INVOICED.get(order.id)
    return [f"It was invoiced as {number}."] if number else []
