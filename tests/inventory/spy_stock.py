"""A test plugin that records the stock hooks inventory fires."""

from erp_core import hookimpl
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="stockspy", version="1", title="Stock spy", requires=("inventory",))

CALLS: list = []


@hookimpl
def erp_stock_low(product_id, warehouse_id, available, threshold):
    CALLS.append((product_id, warehouse_id, available, threshold))
