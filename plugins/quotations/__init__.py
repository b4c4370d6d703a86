"""Quotations (报价单): offers to customers, sent with a link the customer accepts or declines;
an accepted quotation becomes an order with the same lines and prices.

It builds on orders (customers, products, the tax rule, order creation); nothing else depends
on it, so a business without quotations switches it off and loses nothing else.
"""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Permission, Schedule, SettingField
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="quotations",
    version="0.1.0",
    title=_l("Quotations"),
    description=_l("Quotations to customers, accepted or declined by a link; an accepted one becomes an order."),
    requires=("orders",),
)


@hookimpl
def erp_webhook_events():
    return {
        "quotation.created": _l("Quotation created"),
        "quotation.sent": _l("Quotation sent"),
        "quotation.accepted": _l("Quotation accepted"),
        "quotation.declined": _l("Quotation declined"),
        "quotation.expired": _l("Quotation expired"),
        "quotation.cancelled": _l("Quotation cancelled"),
    }


@hookimpl
def erp_blueprints():
    from .public_views import bp as public_bp
    from .views import bp

    return [bp, public_bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("quotations.view", _l("See quotations and the quote-to-order report"), ("customer_service",)),
        Permission("quotations.manage", _l("Make, send, accept and cancel quotations"), ("customer_service",)),
    ]


@hookimpl
def erp_nav_items():
    return [NavItem(_l("Quotations"), "quotations.index", "quotations.view", icon="file-earmark-text", order=12)]


def _validity(value):
    from flask_babel import gettext as _

    if value is None or not 1 <= int(value) <= 3650:
        return _("Enter a whole number from %(min)d to %(max)d.", min=1, max=3650)
    return None


@hookimpl
def erp_settings_fields():
    return [SettingField("quotations.validity_days", _l("Days a quotation is valid"), "integer", 30,
                         _l("Quotations"), help=_l("The validity date a new quotation gets."), validate=_validity)]


@hookimpl
def erp_schedules():
    return [Schedule("quotations.expire", 3600, "plugins.quotations.jobs:expire_quotations",
                     _l("Mark quotations past their validity as expired"))]


@hookimpl
def erp_demo_data(ctx):
    from .demo import load

    load(ctx)


@hookimpl
def erp_audit_vocabulary():
    from .history import audit_vocabulary

    return audit_vocabulary()
