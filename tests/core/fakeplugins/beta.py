"""A test plugin that needs alpha."""

from erp_core import hookimpl
from erp_core.contrib import NavItem
from erp_core.plugins import PluginMeta

meta = PluginMeta(name="beta", version="1.0", title="Beta", description="Needs alpha", requires=("alpha",))


@hookimpl
def erp_nav_items():
    return [NavItem("Beta menu", "web.dashboard", None)]


@hookimpl
def erp_order_validate_transition(order, old_status, new_status):
    return ["beta objects"] if new_status == "forbidden" else None


@hookimpl
def erp_alpha_pinged(who):
    return ["beta heard " + who]
