"""Logistics: carriers, shipments, tracking and delivery exceptions (物流配送)."""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission, Schedule, SettingField, Widget
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="logistics",
    version="0.1.0",
    title=_l("Logistics"),
    description=_l("Shipments with carriers, tracking, and delivery exceptions from report to resolution."),
    requires=("orders",),
)


@hookimpl
def erp_addhooks(pluginmanager):
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_webhook_events():
    return {
        "shipment.status_changed": _l("Shipment status changed"),
    }


@hookimpl
def erp_blueprints():
    from . import carrier_views, exception_views, views

    return [views.bp, exception_views.bp, carrier_views.bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("logistics.view", _l("See shipments and tracking"),
                   ("customer_service", "warehouse", "finance", "support_agent")),
        Permission("logistics.ship", _l("Create and dispatch shipments, record tracking events"), ("warehouse",)),
        Permission("logistics.exceptions", _l("Handle delivery exceptions"), ("warehouse", "customer_service")),
        Permission("logistics.carriers", _l("Configure carriers"), ()),
    ]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_l("Shipments"), "logistics.index", "logistics.view", icon="truck", order=30),
        NavItem(_l("Delivery exceptions"), "logistics_exceptions.index", "logistics.exceptions",
                icon="exclamation-triangle", order=31),
        NavItem(_l("Carriers"), "logistics_carriers.index", "logistics.carriers", icon="signpost-split", order=850,
                group="admin"),
    ]


@hookimpl
def erp_dashboard_widgets(user):
    from . import services

    return [Widget(_l("Shipments needing attention"), "logistics/_widget.html",
                   lambda: services.shipments_needing_attention(), permission="logistics.view", order=30)]


@hookimpl
def erp_order_panels(order, user):
    from . import services

    if not user.can("logistics.view"):
        return []
    return [Panel(_l("Shipments"), "logistics/_order_panel.html",
                  lambda: {"order": order, **services.order_overview(order)}, permission="logistics.view", order=20)]


@hookimpl
def erp_order_actions(order, user):
    from flask import url_for
    from flask_babel import gettext as _

    from . import services

    if order.status not in services.SHIPPABLE or not user.can("logistics.ship"):
        return []
    if not any(services.remaining_by_line(order).values()) or not services.carriers(enabled_only=True):
        return []
    return [{"label": _("Create shipment"), "url": url_for("logistics.new", order_id=order.id), "icon": "truck",
             "style": "primary"}]


@hookimpl
def erp_order_manual_shipping(order):
    return False  # orders ship through shipments


@hookimpl
def erp_order_shipped_quantities(order):
    from . import services

    return services.taken_by_line(order.id)


@hookimpl
def erp_order_public_panels(order):
    from . import services

    return [Panel(_l("Shipments"), "logistics/_public_panel.html",
                  lambda: {"shipments": services.public_shipments(order)}, order=20)]


@hookimpl
def erp_shipped_goods(order_id, shipment_id):
    from . import public

    if shipment_id is None:
        return public.order_shipped_goods(order_id)
    goods = public.shipped_goods(shipment_id)
    return [goods] if goods is not None and goods.order_id == order_id else []


@hookimpl
def erp_replacement_shipment_requested(order, quantities, reason, source_type, source_id):
    from flask import url_for

    from . import services

    shipment = services.create_replacement(order, quantities, reason, source_type, source_id)
    try:
        url = url_for("logistics.shipment", shipment_id=shipment.id)
    except RuntimeError:  # outside a request
        url = ""
    return [{"id": shipment.id, "label": shipment.number, "url": url}]


@hookimpl
def erp_carrier_adapters():
    from .builtin_adapters import BUILTIN
    from .kuaidi100 import Kuaidi100Adapter

    return [*BUILTIN, Kuaidi100Adapter]


def _not_negative(value):
    if value is not None and int(value) < 0:
        return _l("Use zero or a positive number.")
    return None


def _check_url(value):
    if value and not (value.startswith("https://") or value.startswith("http://")):
        return _l("Start the address with https:// (or http://).")
    return None


@hookimpl
def erp_settings_fields():
    section = _l("Logistics")
    return [
        SettingField("logistics.exception_due_days", _l("Days to resolve a delivery exception"), "integer", 2,
                     section, help=_l("The due date a new exception gets."), validate=_not_negative),
        SettingField("logistics.delay_grace_days", _l("Days of grace before a shipment counts as delayed"),
                     "integer", 0, section, help=_l("Counted after the expected delivery date."),
                     validate=_not_negative),
        SettingField("logistics.public_url", _l("Address of this site for carriers"), "string", "", section,
                     help=_l("Where carriers reach this site's webhooks, e.g. https://shop.example.com (used by "
                             "subscriptions made from background jobs; otherwise the address of the request)."),
                     validate=_check_url),
        SettingField("logistics.future_event_hours", _l("Hours a carrier's event may lie in the future"), "integer",
                     24, section, help=_l("Events dated later are refused (webhooks) or ignored (tracking sync): "
                                          "one wrong date must not freeze a shipment."),
                     validate=_not_negative),
        SettingField("logistics.sender_address", _l("Ship-from address"), "text", "", section,
                     help=_l("Printed as the sender on packing slips and address labels.")),
    ]


@hookimpl
def erp_schedules():
    return [Schedule("logistics.sync", 900, "plugins.logistics.jobs:sync_tracking",
                     _l("Fetch tracking updates from carriers")),
            Schedule("logistics.check_delays", 3600, "plugins.logistics.jobs:check_delays",
                     _l("Look for late shipments"))]


@hookimpl
def erp_cli_commands():
    from .cli import make_group

    return [make_group()]


@hookimpl
def erp_demo_data(ctx):
    from .demo import load

    load(ctx)


@hookimpl
def erp_setup_checklist():
    from erp_core.contrib import SetupItem

    from . import services

    def done() -> bool:
        return any(c.adapter != "demo_express" for c in services.carriers(enabled_only=True))

    return [SetupItem("carriers", _l("Carriers: the couriers you ship with"), done, "logistics_carriers.index",
                      help=_l("Set up at least one carrier other than the simulated Demo Express."), order=40)]


@hookimpl
def erp_audit_vocabulary():
    from .history import audit_vocabulary

    return audit_vocabulary()


@hookimpl
def erp_system_texts():
    from .history import SYSTEM_TEXTS

    return SYSTEM_TEXTS


@hookimpl
def erp_source_labels(sources):
    from . import services

    return services.source_labels(sources)


@hookimpl
def erp_search(query, user, limit):
    from .search import search

    return search(query, user, limit)
