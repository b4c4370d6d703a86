"""Orders' answers to the header search (``erp_search``): orders, customers and products.

Every query is indexed: numbers, codes, barcodes and phone digits by prefix (:func:`erp_core.search.prefix`
on the btree indexes), e-mails by equality, names by the maintained lower-cased
``name_key`` columns (:func:`erp_core.search.contains`, a pg_trgm GIN index on PostgreSQL)."""

from __future__ import annotations

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from erp_core.contrib import SearchResult
from erp_core.extensions import db
from erp_core.search import contains, prefix

from . import states
from .models import Customer, Order, Product
from .services import customer_scope, order_scope, phone_key

ORDERS, CUSTOMERS, PRODUCTS = _l("Orders"), _l("Customers"), _l("Products")


def _phone_digits(query: str) -> str:
    """The phone key of ``query`` when it looks like a phone number (5 digits or more, little else)."""
    key = phone_key(query)
    digits = key.lstrip("+")
    compact = query.replace(" ", "").replace("-", "").replace("+", "")
    return key if len(digits) >= 5 and len(digits) == len(compact) else ""


def _customer_ids(query: str, limit: int) -> list[int]:
    """Ids of the customers the logged-in user may see (:func:`customer_scope`) whose name contains ``query``, whose phone starts with its digits or whose
    e-mail is ``query`` (newest first)."""
    conditions = [contains(Customer.name_key, query)]
    phone = _phone_digits(query)
    if phone:
        conditions.append(prefix(Customer.phone_key, phone))
    if "@" in query:
        conditions.append(Customer.email == query.lower())
    return list(db.session.scalars(select(Customer.id).where(or_(*conditions), customer_scope())
                                   .order_by(Customer.id.desc()).limit(limit)))


def find_orders(query: str, limit: int) -> list[Order]:
    """Orders the logged-in user may see (:func:`order_scope`) whose number starts with ``query``, whose contact phone starts with its digits, or
    whose customer matches (:func:`_customer_ids`), newest first. One query per condition, each
    on its own index (an OR of them would make the database walk every order by date)."""
    conditions = [prefix(Order.number, query.upper())]
    phone = _phone_digits(query)
    if phone:
        conditions.append(prefix(Order.contact_phone_key, phone))
    customers = _customer_ids(query, limit)
    if customers:
        conditions.append(Order.customer_id.in_(customers))
    found: dict[int, Order] = {}
    for condition in conditions:
        stmt = select(Order).where(condition, order_scope()).order_by(Order.id.desc()).limit(limit)
        for order in db.session.scalars(stmt).unique():
            found[order.id] = order
    return sorted(found.values(), key=lambda o: (o.created_at, o.id), reverse=True)[:limit]


def find_customers(query: str, limit: int) -> list[Customer]:
    """Customers by name, phone or e-mail (:func:`_customer_ids`)."""
    ids = _customer_ids(query, limit)
    if not ids:
        return []
    return list(db.session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id.desc())))


def find_products(query: str, limit: int) -> list[Product]:
    """Products by barcode or code (prefix) or name (substring), the active ones first."""
    conditions = [prefix(Product.sku, query.upper()), contains(Product.name_key, query)]
    code = query.replace(" ", "").replace("-", "")
    if code.isdigit():
        conditions.append(prefix(Product.barcode, code))
    stmt = select(Product).where(or_(*conditions)).order_by(Product.active.desc(), Product.sku).limit(limit)
    return list(db.session.scalars(stmt))


def search(query: str, user, limit: int) -> list[SearchResult]:
    """The orders, customers and products matching ``query`` that ``user`` may see."""
    results = []
    if user.can("orders.view"):
        for order in find_orders(query, limit):
            detail = f"{order.customer.name} · {states.LABELS.get(order.status, order.status)}"
            results.append(SearchResult("order", ORDERS, order.number,
                                        url_for("orders.detail", order_id=order.id), detail, order=10))
    if user.can("orders.customers.view"):
        for customer in find_customers(query, limit):
            detail = " · ".join(x for x in (customer.phone, customer.email) if x)
            results.append(SearchResult("customer", CUSTOMERS, customer.name,
                                        url_for("orders_customers.detail", customer_id=customer.id), detail,
                                        order=20))
    if user.can("orders.products.view"):
        for product in find_products(query, limit):
            detail = " · ".join(x for x in (product.name, product.barcode) if x)
            results.append(SearchResult("product", PRODUCTS, product.sku,
                                        url_for("orders_products.detail", product_id=product.id), detail,
                                        order=30))
    return results
