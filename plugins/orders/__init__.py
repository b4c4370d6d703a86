"""Orders: customers, the product catalogue and sales orders (订单录入与管理)."""

from flask_babel import lazy_gettext as _l

from erp_core import hookimpl
from erp_core.contrib import NavItem, Permission, SettingField, Widget
from erp_core.plugins import PluginMeta

from . import invoicing_details, models, models_channels, models_customers, models_pricing  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="orders",
    version="0.2.0",
    title=_l("Orders"),
    description=_l("Customers, the product catalogue and sales orders, from entry to completion."),
)

CS = ("customer_service",)
CS_WH = ("customer_service", "warehouse")
CS_WH_FIN = ("customer_service", "warehouse", "finance", "support_agent")


@hookimpl
def erp_addhooks(pluginmanager):
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_webhook_events():
    return {
        "order.created": _l("Order created"),
        "order.changed": _l("Order changed"),
        "order.status_changed": _l("Order status changed"),
        "order.goods_back": _l("Goods of an order came back"),
        "order.money_returned": _l("Money of an order returned"),
        "order.rest_closed": _l("Rest of an order closed"),
    }


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("orders.view", _l("See orders"), CS_WH_FIN),
        Permission("orders.create", _l("Enter orders"), CS),
        Permission("orders.edit", _l("Change orders"), CS),
        Permission("orders.confirm", _l("Confirm orders"), CS),
        Permission("orders.cancel", _l("Cancel and reopen orders"), CS),
        Permission("orders.ship", _l("Mark orders shipped or delivered"), ("warehouse",)),
        Permission("orders.export", _l("Export orders"), ("customer_service", "finance")),
        Permission("orders.import", _l("Import orders and products"), ()),
        Permission("orders.customers.view", _l("See customers"), CS_WH_FIN),
        Permission("orders.customers.edit", _l("Add and change customers"), CS),
        Permission("orders.products.view", _l("See the product catalogue"), CS_WH_FIN),
        Permission("orders.products.edit", _l("Change the product catalogue"), ("warehouse",)),
        Permission("orders.customers.manage", _l("Reassign customers to another owner"), ()),
        Permission("orders.credit.override", _l("Confirm orders over the customer's credit limit"), ()),
        Permission("orders.scope.own", _l("See only own customers and their orders (a restriction)"), ()),
        Permission("orders.tax.manage", _l("Manage tax rates and tax settings"), ("finance",)),
        Permission("orders.price.override", _l("Change prices away from the price list"), CS),
        Permission("orders.pricelists.manage", _l("Manage price lists, customer groups and discount limits"), ()),
    ]


@hookimpl
def erp_settings_fields():
    from . import channels, tax

    return [
        SettingField(channels.SETTING, _l("Sales channels"), "text", channels.DEFAULT_LIST, _l("Orders"),
                     help=_l("One channel a line: a code (shop, phone, wechat, taobao, jd, website, api, import have "
                             "their own labels) or code = label. Orders keep their channel when it leaves the list."),
                     validate=channels.check_setting),
        SettingField("orders.prices_include_tax", _l("Prices include tax"), "boolean", True, _l("Orders"),
                     help=_l("Yes: the prices of products and order lines are tax-inclusive (as Chinese retail "
                             "prices are). No: tax is added to them."), page="orders_tax.index"),
        SettingField("orders.default_tax_rate", _l("Default tax rate"), "string", tax.seeded_default_rate_id,
                     _l("Orders"), help=_l("The rate of products that have none of their own."),
                     validate=tax.check_default_rate, page="orders_tax.index"),
    ]


@hookimpl
def erp_blueprints():
    from . import api, views_backorders, views_channels, views_customers, views_invoicing  # noqa: F401  (their routes join the orders blueprints)
    from .views import bp
    from .views_catalogue import customers_bp, products_bp
    from .views_pricing import pricing_bp
    from .views_tax import tax_bp

    return [bp, customers_bp, products_bp, tax_bp, pricing_bp]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_l("Orders"), "orders.index", "orders.view", icon="receipt", order=10),
        NavItem(_l("Customers"), "orders_customers.index", "orders.customers.view", icon="people", order=12),
        NavItem(_l("Products"), "orders_products.index", "orders.products.view", icon="tags", order=14),
        NavItem(_l("Sales by channel"), "orders.channel_report", "orders.view", icon="diagram-3", order=16),
        NavItem(_l("Tax rates"), "orders_tax.index", "orders.tax.manage", icon="percent", order=820, group="admin"),
        NavItem(_l("Price lists"), "orders_pricing.lists", "orders.pricelists.manage", icon="cash-stack", order=822,
                group="admin"),
        NavItem(_l("Customer groups"), "orders_pricing.groups", "orders.pricelists.manage", icon="people",
                order=824, group="admin"),
        NavItem(_l("Discount limits"), "orders_pricing.limits", "orders.pricelists.manage", icon="percent",
                order=826, group="admin"),
    ]


@hookimpl
def erp_dashboard_widgets(user):
    from . import display, queries

    return [
        Widget(_l("Orders awaiting confirmation"), "orders/_widget_drafts.html", queries.awaiting_confirmation,
               permission="orders.view", order=10, width=6),
        Widget(_l("Today's orders"), "orders/_widget_today.html",
               lambda: {"today": queries.today_summary(), "chart": display.daily_chart(queries.daily_counts(14))},
               permission="orders.view", order=11, width=6),
    ]


@hookimpl
def erp_demo_data(ctx):
    from .demo import load

    load(ctx)


@hookimpl
def erp_audit_vocabulary():
    from . import channels
    from .display import audit_vocabulary, backorder_vocabulary

    return (audit_vocabulary() + invoicing_details.audit_vocabulary() + channels.audit_vocabulary()
            + models_customers.audit_vocabulary() + backorder_vocabulary())


@hookimpl
def erp_search(query, user, limit):
    from .search import search

    return search(query, user, limit)
