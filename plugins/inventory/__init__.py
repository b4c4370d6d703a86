"""Inventory: warehouses, stock levels, the stock ledger and replenishment."""

from erp_core.plugins import PluginMeta

meta = PluginMeta(name="inventory", version="0.1.0", title="Inventory", description="Stock.", requires=("orders",))
