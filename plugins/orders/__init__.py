"""Orders: customers, the product catalogue and sales orders."""

from erp_core.plugins import PluginMeta

meta = PluginMeta(name="orders", version="0.1.0", title="Orders", description="Customers, products and sales orders.")
