"""finance plugin."""

from erp_core.plugins import PluginMeta

meta = PluginMeta(name="finance", version="0.1.0", title="Finance", description="", requires=("orders",))
