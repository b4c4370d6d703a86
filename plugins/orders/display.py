"""Presentation helpers: how orders, customers and products read in histories and the audit log
(erp_audit_vocabulary), and the dashboard chart."""

from __future__ import annotations

from decimal import Decimal

from babel.dates import format_skeleton
from flask import url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from erp_core import settings
from erp_core.contrib import AuditVocabulary, HistoryField
from erp_core.extensions import db
from erp_core.money import format_money

from . import states
from .models import Customer, Order, Product, TaxRate

FIELD_LABELS = {
    "customer": _l("Customer"),
    "contact_name": _l("Contact name"),
    "contact_phone": _l("Contact phone"),
    "contact_email": _l("Contact e-mail"),
    "ship_recipient": _l("Recipient"),
    "ship_line1": _l("Street address"),
    "ship_line2": _l("Address line 2"),
    "ship_city": _l("City"),
    "ship_region": _l("Province / region"),
    "ship_postcode": _l("Postcode"),
    "ship_country": _l("Country"),
    "notes": _l("Notes"),
    "total": _l("Total"),
    "name": _l("Name"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
    "address": _l("Address"),
    "number": _l("Order number"),
    "lines": _l("Lines"),
    "currency": _l("Currency"),
    "sku": _l("Code (SKU)"),
    "spec": _l("Specification"),
    "unit": _l("Unit"),
    "price": _l("Price"),
    "active": _l("Sold (active)"),
}

ACTION_LABELS = {
    "created": _l("Created"),
    "changed": _l("Changed"),
    "imported": _l("Imported"),
    "status_changed": _l("Status changed"),
    "address_added": _l("Address added"),
    "address_changed": _l("Address changed"),
    "address_removed": _l("Address removed"),
    "pricing_changed": _l("Pricing changed"),
}


def _line_text(item: dict, currency: str) -> str:
    text = _("%(quantity)s × %(price)s", quantity=item["quantity"], price=format_money(item["price"], currency))
    discount = Decimal(str(item.get("discount") or "0"))
    if discount:
        percent = f"{discount.normalize():f}"
        text += " " + _("(−%(discount)s%%)", discount=percent)
    return text


def _line_changes(lines, _values: dict) -> str:
    """``lines`` of an order's "changed" entry (added / removed / changed items) in words."""
    if not isinstance(lines, dict):
        return ", ".join(str(v) for v in lines) if isinstance(lines, list) else str(lines)
    currency = lines.get("currency") or settings.company_currency()
    parts = []
    for item in lines.get("added", []):
        parts.append(_("%(sku)s added: %(line)s", sku=item["sku"], line=_line_text(item, currency)))
    for item in lines.get("removed", []):
        parts.append(_("%(sku)s removed", sku=item["sku"]))
    for item in lines.get("changed", []):
        parts.append(_("%(sku)s: %(before)s → %(after)s", sku=item["after"]["sku"],
                       before=_line_text(item["before"], currency), after=_line_text(item["after"], currency)))
    return "; ".join(parts)


def _lines(value, values: dict) -> str:
    if isinstance(value, int):  # "created" counts the lines
        return ngettext("%(num)d line", "%(num)d lines", value)
    return _line_changes(value, values)


def _tax_rate(value, _values: dict) -> str:
    """A product's rate in its change log: ``"13"``, ``"exempt"``, or ``""`` (the default rate)."""
    if value in (None, ""):
        return _("Default rate")
    return _("Exempt") if value == "exempt" else f"{value}%"


def _orders(ids: list[str]) -> dict:
    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Order.id, Order.number).where(Order.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.number, url_for("orders.detail", order_id=r.id)) for r in rows}


def _customers(ids: list[str]) -> dict:
    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (r.name, url_for("orders_customers.detail", customer_id=r.id)) for r in rows}


def _products(ids: list[str]) -> dict:
    wanted = [int(i) for i in ids if i.isdigit()]
    rows = db.session.execute(select(Product.id, Product.sku, Product.name)
                              .where(Product.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (f"{r.sku} {r.name}", url_for("orders_products.detail", product_id=r.id)) for r in rows}


def _tax_rates(ids: list[str]) -> dict:
    from .tax import rate_name

    wanted = [int(i) for i in ids if i.isdigit()]
    rates = db.session.scalars(select(TaxRate).where(TaxRate.id.in_(wanted))).all() if wanted else []
    return {str(r.id): (rate_name(r), url_for("orders_tax.edit", rate_id=r.id)) for r in rates}


def audit_vocabulary() -> list[AuditVocabulary]:
    """How orders, customers and products read in histories and the audit log."""
    fields = dict(FIELD_LABELS)
    fields.update({
        "status": HistoryField(_l("Status"), "code", choices=states.LABELS),
        "total": HistoryField(_l("Total"), "money", currency_field="currency"),
        "price": HistoryField(_l("Price"), "money", currency_field="currency"),
        "currency": HistoryField(_l("Currency"), hidden=True),
        "lines": HistoryField(_l("Lines"), "custom", format=_lines),
        "active": HistoryField(_l("Sold (active)"), "boolean"),
        "tax": HistoryField(_l("Tax"), "money", currency_field="currency"),
        "cost": HistoryField(_l("Cost price"), "money", currency_field="currency"),
        "barcode": HistoryField(_l("Barcode")),
        "tax_rate": HistoryField(_l("Tax rate"), "custom", format=_tax_rate),
        "prices_include_tax": HistoryField(_l("Prices include tax"), "boolean"),
        "percent": HistoryField(_l("Percent"), "custom", format=lambda v, _vals: f"{v}%"),
        "exempt": HistoryField(_l("Exempt"), "boolean"),
        **_pricing_fields(),
    })
    return [
        AuditVocabulary("order", _l("Order"), ACTION_LABELS, fields, resolve=_orders),
        AuditVocabulary("customer", _l("Customer"), ACTION_LABELS, fields, resolve=_customers),
        AuditVocabulary("product", _l("Product"), ACTION_LABELS, fields, resolve=_products),
        AuditVocabulary("tax_rate", _l("Tax rate"), {**ACTION_LABELS, "deactivated": _l("Deactivated"),
                                                     "deleted": _l("Deleted")}, fields, resolve=_tax_rates),
        *_pricing_vocabulary(fields),
    ]


def _pricing_fields() -> dict:
    """History fields of pricing: the order's discount, a customer's group and list, a price."""
    from .models_pricing import CustomerGroup, PriceList

    def named(model):
        def _format(value, _values) -> str:
            row = db.session.get(model, int(value)) if str(value or "").isdigit() else None
            return row.name if row is not None else "—"
        return _format

    def amount(value, values) -> str:
        currency = values.get("currency") or settings.company_currency()
        return format_money(int(value or 0), currency)

    return {
        "order_discount_percent": HistoryField(_l("Order discount (%)"), "custom",
                                               format=lambda v, _vals: f"{v}%"),
        "order_discount_amount_minor": HistoryField(_l("Order discount"), "custom", format=amount),
        "group": HistoryField(_l("Customer group"), "custom", format=named(CustomerGroup)),
        "price_list": HistoryField(_l("Price list"), "custom", format=named(PriceList)),
        "min_quantity": HistoryField(_l("From quantity")),
        "max": HistoryField(_l("Largest discount"), "custom", format=lambda v, _vals: f"{v}%"),
        "discount_minor": HistoryField(_l("Amount off"), hidden=True),
    }


def _pricing_vocabulary(fields: dict) -> list[AuditVocabulary]:
    actions = {**ACTION_LABELS, "price_set": _l("Price set"), "price_removed": _l("Price removed"),
               "saved": _l("Saved"), "deleted": _l("Deleted"), "set": _l("Set"), "cleared": _l("Cleared")}
    return [
        AuditVocabulary("price_list", _l("Price list"), actions, fields),
        AuditVocabulary("customer_group", _l("Customer group"), actions, fields),
        AuditVocabulary("role_discount_limit", _l("Discount limit"), actions, fields),
    ]


def _cancelled(value, values: dict) -> str:
    """The lines cancelled by "close the rest": ``SKU × quantity``, comma-separated."""
    return ", ".join(f"{item.get('sku')} × {item.get('quantity')}" for item in value or [] if isinstance(item, dict))


def backorder_vocabulary() -> list[AuditVocabulary]:
    """How "close the rest" of an order reads in its history."""
    fields = {"cancelled": HistoryField(_l("Cancelled, not shipped"), "custom", format=_cancelled),
              "total": HistoryField(_l("Total"), "money", currency_field="currency"),
              "currency": HistoryField(_l("Currency"), hidden=True)}
    return [AuditVocabulary("order", _l("Order"), {"rest_closed": _l("Rest of the order closed")}, fields)]


def daily_chart(days) -> dict:
    """``[(date, count)]`` as the labels and values of the dashboard's bar chart."""
    locale = get_locale() or "en"
    return {"labels": [format_skeleton("MMMd", d, locale=locale) for d, _n in days], "counts": [n for _d, n in days]}
