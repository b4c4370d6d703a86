"""Finance: payments, refunds, receipts and reports of orders (财务结算)."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission, SettingField, Widget
from erp_core.plugins import PluginMeta

from . import models  # noqa: F401  (registers the tables)

meta = PluginMeta(
    name="finance",
    version="0.1.0",
    title=_pl("finance", "Finance"),
    description=_l("Payments and refunds of orders, payment methods, receipts and financial reports."),
    requires=("orders",),
)


@hookimpl
def erp_addhooks(pluginmanager):
    from . import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@hookimpl
def erp_webhook_events():
    return {
        "payment.recorded": _l("Payment recorded"),
        "refund.recorded": _l("Refund recorded or changed"),
    }


@hookimpl
def erp_blueprints():
    from .views import bp, refunds_bp, reports_bp

    return [bp, refunds_bp, reports_bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp

    return [bp]


@hookimpl
def erp_permissions():
    return [
        Permission("finance.view", _l("See payments, refunds and balances of orders"),
                   ("customer_service", "finance", "support_agent")),
        Permission("finance.payments.record", _l("Record payments and start online payments"),
                   ("customer_service", "finance")),
        Permission("finance.payments.review", _l("Clear the review flag of payments paid after they were marked failed"),
                   ("finance",)),
        Permission("finance.refunds.manage", _l("Refund payments; approve and reject refund requests"), ("finance",)),
        Permission("finance.reports.view", _l("See and export financial reports"), ("finance",)),
    ]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_pl("finance", "Payments"), "finance.payments", "finance.view", icon="cash-stack", order=40),
        NavItem(_pl("finance", "Refunds"), "finance_refunds.refunds", "finance.view", icon="arrow-return-left", order=41),
        NavItem(_l("Finance reports"), "finance_reports.reports_index", "finance.reports.view", icon="bar-chart-line",
                order=42),
    ]


@hookimpl
def erp_settings_fields():
    from . import services

    section = _pl("finance", "Finance")
    fields = [SettingField("finance.payment_before_shipping", _l("Payment before shipping"), "boolean", False, section,
                           help=_l("Refuse to ship an order until it is paid in full."))]
    for code, cls in services.adapter_classes().items():
        fields.append(SettingField(services.method_setting_key(code),
                                   _l("Accept payments by %(method)s", method=cls.label), "boolean",
                                   cls.enabled_by_default, section))
        fields.extend(cls.settings_fields())
    return fields


@hookimpl
def erp_payment_adapters():
    from .adapters import BUILTIN_ADAPTERS

    return list(BUILTIN_ADAPTERS)


@hookimpl
def erp_order_panels(order, user):
    from .views import order_context

    if user is not None and not user.can("finance.view"):
        return []
    return [Panel(_pl("finance", "Payments"), "finance/_order_panel.html", lambda: order_context(order),
                  permission="finance.view", order=30)]


@hookimpl
def erp_order_public_panels(order):
    from . import services

    return [Panel(_pl("finance", "Payment"), "finance/_public_panel.html",
                  lambda: {"order": order, "summary": services.order_summary(order)}, order=30)]


@hookimpl
def erp_dashboard_widgets(user):
    from . import widgets

    return [Widget(_l("Today's takings"), "finance/_widget_takings.html", widgets.takings_today,
                   permission="finance.view", order=30, width=6),
            Widget(_l("Unpaid confirmed orders"), "finance/_widget_unpaid.html", widgets.unpaid_orders,
                   permission="finance.view", order=31, width=6)]


@hookimpl
def erp_order_validate_transition(order, old_status, new_status):
    from . import services

    return services.shipping_problems(order, new_status)


@hookimpl
def erp_refund_requested(order, amount_minor, currency, reason, source_type, source_id):
    from flask import url_for

    from . import services

    refunds = services.refund_order(order, amount_minor, currency, reason, source_type, source_id)
    return [{"id": r.id, "label": services.refund_ref(r), "url": url_for("finance.payment", payment_id=r.payment_id)}
            for r in refunds]


@hookimpl
def erp_demo_data(ctx):
    from . import demo

    demo.load(ctx)


@hookimpl
def erp_audit_vocabulary():
    from .history import audit_vocabulary

    return audit_vocabulary()


@hookimpl
def erp_system_texts():
    from .history import SYSTEM_TEXTS

    return SYSTEM_TEXTS
