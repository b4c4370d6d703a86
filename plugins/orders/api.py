"""JSON endpoints of the order entry page's pickers (customer, product, likely duplicates).

``order_invoicing_details`` is re-exported here for callers that look for it by this name; other
plugins import it from :mod:`plugins.orders.public`, the orders plugin's declared surface."""

from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from erp_core.extensions import db
from erp_core.money import currency_exponent, format_plain
from erp_core.security import requires

from . import queries, services, tax
from .invoicing_details import order_invoicing_details  # noqa: F401  (see the docstring)
from .models import Customer
from .public import product_by_code
from .views import bp


def _address_json(address) -> dict:
    return {"id": address.id, "label": address.label, "recipient": address.recipient, "phone": address.phone,
            "line1": address.line1, "line2": address.line2, "city": address.city, "region": address.region,
            "postcode": address.postcode, "country": address.country, "is_default": address.is_default,
            "text": address.one_line()}


def _customer_json(customer) -> dict:
    data = {"id": customer.id, "name": customer.name, "phone": customer.phone or "", "email": customer.email or "",
            "url": url_for("orders_customers.detail", customer_id=customer.id),
            "addresses": [_address_json(a) for a in customer.addresses if a.kind != "billing"],
            "contacts": [{"id": c.id, "name": c.name, "role": c.role, "phone": c.phone, "email": c.email}
                         for c in customer.contacts]}
    return data


@bp.route("/api/customers")
@requires("orders.customers.view")
def api_customers():
    q = (request.args.get("q") or "").strip()[:100]
    found = queries.search_customers(q, limit=10) if q else []
    return jsonify({"results": [_customer_json(c) for c in found]})


@bp.route("/api/customers/duplicates")
@requires("orders.customers.view")
def api_duplicates():
    exclude = request.args.get("exclude", "")
    matches = services.find_duplicates(request.args.get("phone"), request.args.get("email"),
                                       exclude_id=int(exclude) if exclude.isdigit() else None)
    if matches:  # their addresses in one more statement, for "use this customer"
        db.session.scalars(select(Customer).where(Customer.id.in_([c.id for c in matches]))
                           .options(selectinload(Customer.addresses), selectinload(Customer.contacts))).all()
    return jsonify({"matches": [_customer_json(c) for c in matches]})


def _product_json(p, rates) -> dict:
    return {"id": p.id, "sku": p.sku, "name": p.name, "spec": p.spec, "unit": p.unit, "currency": p.currency,
            "price": format_plain(p.price_minor, p.currency), "price_minor": p.price_minor,
            "decimals": currency_exponent(p.currency), "tax_rate": tax.rate_percent_text(rates[p.id]),
            "barcode": p.barcode or "", "active": p.active}


@bp.route("/api/products")
@requires("orders.products.view")
def api_products():
    q = (request.args.get("q") or "").strip()[:100]
    found = queries.search_products(q, limit=15) if q else []
    rates = tax.rates_for_products(found)
    return jsonify({"results": [_product_json(p, rates) for p in found]})


@bp.route("/api/products/scan")
@requires("orders.products.view")
def api_product_scan():
    """The product a scanner read: ``code`` is a barcode (or else a product code, SKU).
    404 with a ``message`` in the reader's language when no product has it."""
    code = (request.args.get("code") or "").strip()[:64]
    product = product_by_code(code) if code else None
    if product is None:
        return jsonify({"message": _("No product has the barcode or code %(code)s.", code=code)}), 404
    return jsonify({"product": _product_json(product, tax.rates_for_products([product]))})
