"""What other plugins may use of the orders plugin: its records, its states and the services that
keep an order consistent. Plugins that require ``orders`` import from here only (a layering test
checks it); everything else in the package may change without notice.

The buyer's invoicing details of an order (the copy taken from the customer at entry) are read
with :func:`order_invoicing_details`; a taxpayer ID (unified social credit code) is checked with
:func:`check_taxpayer_id`. A plugin that issues invoices answers ``erp_order_invoicing_locked`` so
that the details cannot change once invoiced.

Other plugins never write an order's columns themselves: they lock it with :func:`lock_order`
and change its warehouse with :func:`set_order_warehouse`, so the order's version moves and a
form drawn before the change is refused.

Salespeople who see their own customers only (permission ``orders.scope.own``): a plugin listing
orders, or records of orders, narrows its query with :func:`order_scope` (``.where(
order_scope(Shipment.order_id))``) and checks one record with :func:`customer_visible`; both
are ``true`` for everybody else. ``get_order`` already answers NotFound out of scope.

A partly shipped order's rest is cancelled with :func:`close_rest` (each line's
``cancelled_quantity``; ``quantities_by_product`` leaves it out); plugins that ship orders answer
``erp_order_shipped_quantities`` so that what shipped is never cancelled.

Tax: every order line stores ``net_minor``, ``tax_minor`` and ``gross_minor`` (and its rate,
``tax_rate_percent`` and ``tax_exempt``), computed once by :func:`line_amounts`; an order stores
``tax_minor`` and ``total_minor`` (the lines' gross: what the customer pays). Invoices and reports
read those stored amounts (:func:`tax_by_rate` sums an order's lines per rate) and never compute
tax again.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from erp_core.extensions import db
from erp_core.plugins import hooks

from . import states
from .demo import advance as advance_demo_order
from .invoicing_details import InvoicingDetails, customer_invoicing_details, order_invoicing_details
from .models import Address, Customer, Order, OrderLine, Product, TaxRate
from .queries import search_customers  # the order entry form's customer search (name, phone, e-mail)
from .services import (
    MAX_QUANTITY,
    CreditLimitExceeded,
    LineInput,
    OrderInput,
    OrderInvalid,
    advance_order,
    create_customer,
    create_order,
    create_product,
    customer_language,
    customer_scope,
    find_duplicates,
    get_order,
    get_product,
    goods_came_back,
    money_returned,
    open_balance,
    order_scope,
    parse_discount,
    parse_quantity,
    phone_key,
    quantities_by_product,
    ship_everything,
    transition,
    update_order,
)
from .services.backorders import close_rest
from .services.customers import customer_visible
from .tax import (
    LineAmounts,
    RateTotal,
    line_amounts,
    percent_text,
    prices_include_tax,
    rate_label,
    rate_name,
    rates_for_products,
    tax_by_rate,
)
from .taxpayer_id import check_taxpayer_id

__all__ = [
    "MAX_QUANTITY", "Address", "Customer", "LineAmounts", "LineInput", "Order", "OrderInput", "OrderInvalid", "OrderLine",
    "Product", "RateTotal", "TaxRate", "line_amounts", "percent_text", "rate_label", "rate_name",
    "rates_for_products", "tax_by_rate",
    "advance_demo_order", "advance_order", "close_rest", "create_customer", "create_order", "create_product",
    "customer_language",
    "find_duplicates", "get_order", "get_product", "goods_came_back", "lock_order", "money_returned",
    "parse_discount", "parse_quantity", "prices_include_tax", "product_by_code", "scan_answer",
    "phone_key",
    "quantities_by_product", "set_order_warehouse", "ship_everything", "source_labels", "states", "transition",
    "update_order",
    "InvoicingDetails", "check_taxpayer_id", "customer_invoicing_details", "order_invoicing_details",
    "CreditLimitExceeded", "customer_scope", "customer_visible", "open_balance", "order_scope",
    "search_customers",
]


def lock_order(order_id: int, *, reload: bool = False, with_lines: bool = False) -> Order:
    """Take the order's row lock for the rest of the transaction and return the order; with
    ``reload`` (or ``with_lines``, which also loads its lines) read afresh from the database. On
    PostgreSQL this makes concurrent work on one order run one after the other; SQLite's write
    transactions are serialised already (BEGIN IMMEDIATE)."""
    if not (reload or with_lines):
        if db.session.get_bind().dialect.name != "sqlite":  # SQLite has no row locks to take
            db.session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
        return db.session.get(Order, order_id)
    stmt = (select(Order).where(Order.id == order_id).with_for_update(of=Order)
            .execution_options(populate_existing=True))
    if with_lines:
        stmt = stmt.options(selectinload(Order.lines))
    return db.session.execute(stmt).scalar_one()


def set_order_warehouse(order: Order, warehouse_id: int, *, bump_version: bool = True) -> None:
    """Ship ``order`` from ``warehouse_id``. The order's version moves on, so an order form drawn
    before refuses to save; ``bump_version=False`` only inside a transition, which moved it already."""
    order.warehouse_id = warehouse_id
    db.session.flush()
    if bump_version:
        db.session.execute(update(Order).where(Order.id == order.id).values(version=Order.version + 1)
                           .execution_options(synchronize_session=False))
        db.session.refresh(order, ["version"])


def source_labels(sources) -> dict[tuple[str, str], tuple[str, str | None]]:
    """Ask the owning plugins, in one ``erp_source_labels`` call, for a label and link of every
    ``(source_type, source_id)`` pair in ``sources`` (pairs without an id are skipped; ids are
    compared as text, as the rows store them). Returns ``{(source_type, source_id): (label, url or
    None)}`` with only the answered pairs."""
    pairs = sorted({(str(t), str(i)) for t, i in sources if t and i not in (None, "")})
    if not pairs:
        return {}
    wanted = set(pairs)
    found: dict[tuple[str, str], tuple[str, str | None]] = {}
    for answer in hooks().erp_source_labels(sources=pairs):
        for key, value in (answer or {}).items():
            if key in wanted and key not in found:
                found[key] = value
    return found


def product_by_code(code: str) -> Product | None:
    """The product a scanner read: ``code`` as a barcode (EAN-13, UPC-A, EAN-8), else as a
    product code (SKU, case-insensitive); None when no product has it. At most two indexed
    lookups."""
    from .services import find_by_barcode, find_by_sku

    return find_by_barcode(code) or find_by_sku(code)


def scan_answer(code: str) -> tuple[dict, int]:
    """The JSON body and status of a scan lookup endpoint (goods receipt pages): ``({"product":
    {"id", "sku", "name", "unit"}}, 200)``, or ``({"message": ...}, 404)`` with a message in the
    reader's language naming the code. Check the page's own permission before calling it."""
    from flask_babel import gettext as _

    code = str(code or "").strip()[:64]
    product = product_by_code(code) if code else None
    if product is None:
        return {"message": _("No product has the barcode or code %(code)s.", code=code)}, 404
    return {"product": {"id": product.id, "sku": product.sku, "name": product.name, "unit": product.unit}}, 200
