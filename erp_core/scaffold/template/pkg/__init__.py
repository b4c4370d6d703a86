"""__Title__: a plugin for the ERP."""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Permission
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
