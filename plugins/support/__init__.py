"""support plugin."""

from erp_core.plugins import PluginMeta

meta = PluginMeta(name="support", version="0.1.0", title="Support", description="", requires=("orders",))
