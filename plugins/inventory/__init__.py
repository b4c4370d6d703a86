"""Inventory: warehouses, stock levels, the stock ledger and replenishment (库存管理).

It attaches itself to orders only through hooks: it reserves stock when an order is confirmed,
follows edits, releases on cancel, consumes on shipment and takes returns back. Orders keep
working when inventory is switched off.
"""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission, SettingField, Widget
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="inventory",
    version="0.1.0",
    title=_l("Inventory"),
    description=_l("Warehouses, stock levels and the stock ledger; reserves stock for confirmed orders."),
    requires=("orders",),
)

WH = ("warehouse",)


@hookimpl
def erp_addhooks(pluginmanager):
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("inventory.view", _l("See stock, the stock ledger and low-stock alerts"),
                   ("warehouse", "customer_service")),
        Permission("inventory.receive", _l("Record received and expected goods"), WH),
        Permission("inventory.adjust", _l("Count stock and adjust it (stocktake)"), WH),
        Permission("inventory.transfer", _l("Transfer stock between warehouses"), WH),
        Permission("inventory.thresholds", _l("Set low-stock thresholds and reorder quantities"), WH),
        Permission("inventory.order_warehouse", _l("Choose the warehouse an order ships from"),
                   ("warehouse", "customer_service")),
        Permission("inventory.warehouses", _l("Manage warehouses"), ()),
    ]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_l("Stock"), "inventory.index", "inventory.view", icon="boxes", order=20),
        NavItem(_l("Warehouses"), "inventory.warehouses", "inventory.warehouses", icon="building", group="admin"),
    ]


@hookimpl
def erp_dashboard_widgets(user):
    from .views import low_stock_widget_context

    return [Widget(_l("Low stock"), "inventory/_widget.html", low_stock_widget_context,
                   permission="inventory.view", order=30, width=6)]


@hookimpl
def erp_order_panels(order, user):
    from . import services

    return [Panel(_l("Stock"), "inventory/_order_panel.html", lambda: services.order_panel(order),
                  permission="inventory.view", order=20)]


def _product_context(product, next_url: str | None = None) -> dict:
    from . import services
    from .forms import RuleForm

    context = services.product_panel(product)
    rule = context["rule"]
    context["form"] = RuleForm(formdata=None, data={"low_threshold": rule.low_threshold if rule else 0,
                                                    "reorder_quantity": rule.reorder_quantity if rule else 0})
    context["next_url"] = next_url
    return context


@hookimpl
def erp_product_panels(product, user):
    return [Panel(_l("Stock"), "inventory/_product_panel.html", lambda: _product_context(product),
                  permission="inventory.view", order=10)]


@hookimpl
def erp_product_form_panels(product, user):
    return [Panel(_l("Low stock and reordering"), "inventory/_threshold_form.html",
                  lambda: _product_context(product), permission="inventory.view", order=10)]


@hookimpl
def erp_product_list_columns(products):
    from flask_babel import gettext as _

    from erp_core.security import has_permission

    from . import services

    if not has_permission("inventory.view"):
        return {}
    return {_("Available"): services.available_by_product(p.id for p in products)}


@hookimpl
def erp_settings_fields():
    return [SettingField("inventory.low_stock_emails", _l("Send low-stock alerts to"), "email_list", "",
                         _l("Inventory"), help=_l("E-mail addresses, separated by commas. Mail must be configured."))]


@hookimpl
def erp_cli_commands():
    from .cli import inventory_group

    return [inventory_group()]


@hookimpl
def erp_demo_data(ctx):
    from .demo import load

    load(ctx)


@hookimpl
def erp_warehouse_choices():
    from . import services

    return [(w.id, w.name) for w in services.warehouses()]


@hookimpl
def erp_order_status_changed(order, old_status, new_status, note):
    from . import services

    services.on_status_changed(order, old_status, new_status)


@hookimpl
def erp_order_changed(order, changes):
    from . import services

    services.on_order_changed(order, changes)


@hookimpl
def erp_order_goods_shipped(order, quantities, reference):
    from . import services

    services.ship_goods(order, quantities, reference)


@hookimpl
def erp_order_goods_returned(order, quantities, restock, reference):
    from . import services

    return services.move_links(services.return_goods(order, quantities, restock, reference))


@hookimpl
def erp_audit_vocabulary():
    from .history import audit_vocabulary

    return audit_vocabulary()


@hookimpl
def erp_system_texts():
    from .history import SYSTEM_TEXTS

    return SYSTEM_TEXTS
