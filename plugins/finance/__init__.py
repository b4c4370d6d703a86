"""Finance: payments, refunds, receipts and reports of orders (财务结算)."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext as _pl

from erp_core import hookimpl
from erp_core.contrib import NavItem, Panel, Permission, Schedule, SettingField, Widget
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
    from . import provider_views  # noqa: F401  (its routes are on bp)
    from .invoice_views import invoices_bp
    from .views import bp, refunds_bp, reports_bp

    return [bp, refunds_bp, reports_bp, invoices_bp]


@hookimpl
def erp_api_blueprints():
    from .rest_api import bp
    from .rest_api_invoices import bp as invoices_bp

    return [bp, invoices_bp]


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
        Permission("finance.invoices.view", _l("See invoices and credit notes, download their PDF"),
                   ("customer_service", "finance")),
        Permission("finance.invoices.issue", _l("Issue invoices and credit notes; record fapiao"), ("finance",)),
    ]


@hookimpl
def erp_nav_items():
    return [
        NavItem(_pl("finance", "Payments"), "finance.payments", "finance.view", icon="cash-stack", order=40),
        NavItem(_pl("finance", "Refunds"), "finance_refunds.refunds", "finance.view", icon="arrow-return-left", order=41),
        NavItem(_l("Finance reports"), "finance_reports.reports_index", "finance.reports.view", icon="bar-chart-line",
                order=42),
        NavItem(_pl("finance", "Invoices"), "finance_invoices.invoices", "finance.invoices.view", icon="receipt",
                order=42),
        NavItem(_l("Payment methods"), "finance.methods", "core.settings.manage", icon="wallet2", order=43),
    ]


@hookimpl
def erp_settings_fields():
    from . import services

    section = _pl("finance", "Finance")
    fields = [SettingField("finance.payment_before_shipping", _l("Payment before shipping"), "boolean", False, section,
                           help=_l("Refuse to ship an order until it is paid in full.")),
              SettingField(services.EXPIRY_SETTING, _l("Online payments expire after (minutes)"), "integer",
                           services.EXPIRY_DEFAULT, section, validate=_check_expiry,
                           help=_l("A pending online payment still unpaid after this long is closed at the "
                                   "provider and marked failed."))]
    fields.extend(_invoice_fields())
    for code, cls in services.adapter_classes().items():
        fields.append(SettingField(services.method_setting_key(code),
                                   _l("Accept payments by %(method)s", method=cls.label), "boolean",
                                   cls.enabled_by_default, section))
        fields.extend(cls.settings_fields())
    from .reports_tax import account_settings_fields

    return fields + account_settings_fields()


def _invoice_fields():
    from .invoice_pdf import FONT_SETTING, check_font
    from .services.invoices import check_taxpayer_id

    section = _l("Invoices")
    return [SettingField("finance.invoice.taxpayer_id", _l("Taxpayer ID"), "string", "", section, validate=check_taxpayer_id,
                         help=_l("The company's unified social credit code (18 characters), printed on invoices.")),
            SettingField("finance.invoice.bank", _l("Bank"), "string", "", section,
                         help=_l("The bank of the company's account, printed on invoices.")),
            SettingField("finance.invoice.account", _l("Bank account"), "string", "", section),
            SettingField(FONT_SETTING, _l("Font of PDF invoices"), "string", "", section, validate=check_font,
                         help=_l("A TrueType font file (.ttf or .ttc) with Chinese characters; empty: "
                                 "WenQuanYi Micro Hei (Debian package fonts-wqy-microhei)."))]


def _check_expiry(value):
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return _l("Type a whole number of minutes.")
    return None if 5 <= minutes <= 60 * 24 * 30 else _l("Between 5 minutes and 30 days.")


@hookimpl
def erp_payment_adapters():
    from .adapters import BUILTIN_ADAPTERS
    from .providers.alipay import AlipayAdapter
    from .providers.wechatpay import WeChatPayAdapter

    return [*BUILTIN_ADAPTERS, AlipayAdapter, WeChatPayAdapter]


@hookimpl
def erp_order_invoicing_locked(order):
    from flask_babel import gettext as _

    from .services.invoices import order_invoices

    invoices = order_invoices(order.id)
    if invoices:
        return [_("It was invoiced as %(number)s.", number=", ".join(i.number for i in invoices))]
    return None


@hookimpl
def erp_fapiao_adapters():
    from .fapiao import ManualFapiaoAdapter

    return [ManualFapiaoAdapter]


@hookimpl
def erp_schedules():
    return [Schedule("finance.settle_pending", 300, "plugins.finance.jobs:settle_pending",
                     _l("Check pending online payments and close expired ones"))]


@hookimpl
def erp_order_panels(order, user):
    from .views import order_context

    if user is not None and not user.can("finance.view"):
        return []
    return [Panel(_pl("finance", "Payments"), "finance/_order_panel.html", lambda: order_context(order),
                  permission="finance.view", order=30)]


@hookimpl
def erp_order_public_panels(order):
    from .views import public_context

    return [Panel(_pl("finance", "Payment"), "finance/_public_panel.html", lambda: public_context(order), order=30)]


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
def erp_orders_amount_paid(order_ids):
    from sqlalchemy import func, select

    from erp_core.extensions import db

    from .models import Payment
    from .states import PAID

    rows = db.session.execute(select(Payment.order_id, func.sum(Payment.amount_minor))
                              .where(Payment.order_id.in_(order_ids), Payment.status == PAID)
                              .group_by(Payment.order_id))
    return {order_id: int(amount or 0) for order_id, amount in rows}


@hookimpl
def erp_order_status_changed(order, old_status, new_status, note):
    from plugins.orders.public import states as order_states

    from . import services

    if new_status == order_states.CANCELLED:
        services.refund_cancelled_order(order, note)


@hookimpl
def erp_order_changed(order, changes):
    from . import services

    if changes.get("cancelled"):  # the rest of a partly shipped order was closed
        services.refund_overpaid_order(order, changes.get("reason"))


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
def erp_setup_checklist():
    from erp_core.contrib import SetupItem

    from . import services

    def done() -> bool:
        return any(cls.code != "demo_gateway" for cls in services.enabled_methods())

    return [SetupItem("payment_methods", _l("Payment methods: how your customers pay"), done, "admin.settings_page",
                      help=_l("Switch on at least one payment method other than the demo gateway."), order=30)]


@hookimpl
def erp_audit_vocabulary():
    from .history import audit_vocabulary

    return audit_vocabulary()


@hookimpl
def erp_system_texts():
    from .history import SYSTEM_TEXTS

    return SYSTEM_TEXTS
