"""logistics plugin."""

from erp_core.plugins import PluginMeta

meta = PluginMeta(name="logistics", version="0.1.0", title="Logistics", description="", requires=("orders",))
