"""Purchasing: suppliers, purchase orders, receiving in parts and replenishment (采购管理).

It builds on orders (products) and inventory (warehouses, goods receipts); nothing else depends
on it, so a business without purchasing switches it off and loses nothing else.
"""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission, Widget
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="purchasing",
    version="0.1.0",
    title=_l("Purchasing"),
    description=_l("Suppliers, purchase orders, receiving against them and replenishment suggestions."),
    requires=("orders", "inventory"),
)


@hookimpl
def erp_webhook_events():
    return {
        "purchase_order.status_changed": _l("Purchase order status changed"),
        "purchase_order.goods_received": _l("Goods received against a purchase order"),
    }


@hookimpl
def erp_blueprints():
    from .views import bp

    return [bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp
    from .rest_api_bills import bp as bills_bp

    return [bp, bills_bp]


@hookimpl
def erp_permissions():
    return [
        Permission("purchasing.view", _l("See suppliers, purchase orders and replenishment"), ("warehouse", "finance")),
        Permission("purchasing.manage", _l("Manage suppliers and purchase orders (create, send, close)"), ()),
        Permission("purchasing.receive", _l("Receive goods against purchase orders"), ("warehouse",)),
        Permission("purchasing.bills", _l("Record suppliers' bills and payments against them"), ("finance",)),
    ]


@hookimpl
def erp_nav_items():
    return [NavItem(_l("Purchasing"), "purchasing.orders", "purchasing.view", icon="cart3", order=25)]


@hookimpl
def erp_dashboard_widgets(user):
    from .views import bills_widget_context, late_widget_context

    return [Widget(_l("Late purchase orders"), "purchasing/_widget.html", late_widget_context,
                   permission="purchasing.view", order=35, width=6),
            Widget(_l("Bills due"), "purchasing/_bills_widget.html", bills_widget_context,
                   permission="purchasing.view", order=36, width=6)]


@hookimpl
def erp_product_panels(product, user):
    from .views import product_panel_context

    return [Panel(_l("Suppliers and reordering"), "purchasing/_product_panel.html",
                  lambda: product_panel_context(product), permission="purchasing.view", order=15)]


@hookimpl
def erp_product_list_columns(products):
    from flask_babel import gettext as _

    from erp_core.security import has_permission

    from . import services

    if not has_permission("purchasing.view"):
        return {}
    return {_("On order"): services.on_order_by_product(p.id for p in products)}


@hookimpl
def erp_inventory_incoming(product_ids, warehouse_id):
    from . import services

    return services.incoming_stock(product_ids, warehouse_id)


@hookimpl
def erp_finance_reports():
    return [NavItem(_l("Payables"), "purchasing.payables", "purchasing.view", icon="cash-coin", order=50)]


@hookimpl
def erp_demo_data(ctx):
    from .demo import load

    load(ctx)


@hookimpl
def erp_audit_vocabulary():
    from .history import audit_vocabulary

    return audit_vocabulary()
