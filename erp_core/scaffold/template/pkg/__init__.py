"""__Title__: a plugin for the ERP.

It shows how a plugin contributes: a page (``erp_blueprints``), permissions, a menu entry, a
panel on every customer's page (``erp_customer_panels``, a hook of the orders plugin: called
only while orders is installed and on) and a style sheet for its own pages
(``erp_extra_css_urls``). docs/reference.md in the ERP lists every hook.
"""

from flask import url_for
from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="__plugin__",
    version="0.1.0",
    title=_l("__Title__"),
    description=_l("Notes kept by the __Title__ plugin."),
    requires=__requires__,
)


@hookimpl
def erp_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("__plugin__.view", _l("See __Title__ notes"), roles=("customer_service",)),
        Permission("__plugin__.edit", _l("Add __Title__ notes"), roles=("customer_service",)),
    ]


@hookimpl
def erp_nav_items():
    return [NavItem(_l("__Title__"), "__plugin__.index", "__plugin__.view", icon="stickies", order=500)]



@hookimpl
def erp_customer_panels(customer, user):
    """A card on each customer's page with the latest notes, for users who may see them."""
    from .views import latest_notes

    return [Panel(_l("__Title__"), "__plugin__/_customer_panel.html", lambda: {"notes": latest_notes(5)},
                  permission="__plugin__.view")]


@hookimpl
def erp_extra_css_urls(template, user):
    """The plugin's style sheet, on its own pages only."""
    if template.startswith("__plugin__/"):
        return [url_for("__plugin__.static", filename="__plugin__.css")]
    return []
