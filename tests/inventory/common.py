"""Shared set-up of the inventory tests: a catalogue, orders, stock."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.orders import services as orders
from plugins.orders import testing as order_testing
from plugins.orders.services import LineInput, OrderInput

PLUGINS = ["orders", "inventory"]


def catalogue(n: int = 3, prefix: str = "P"):
    """``n`` products (P-001...) priced 10.00 and one customer."""
    customer = orders.create_customer("Li Lei", "138 0013 8000")
    products = [orders.create_product(f"{prefix}-{i:03d}", f"Product {i}", "10", "CNY") for i in range(1, n + 1)]
    db.session.commit()
    return customer, products


def make_order(customer, lines, warehouse_id=None):
    """A draft order with ``lines`` = [(product, quantity), ...]."""
    return order_testing.make_order(lines, customer=customer, warehouse_id=warehouse_id or None)


def receive(warehouse, quantities):
    """Receive ``{product: quantity}`` into ``warehouse`` and commit."""
    doc = inv.receive_goods(warehouse.id, {p.id: q for p, q in quantities.items()}, supplier="Acme")
    db.session.commit()
    return doc


def level(product, warehouse):
    from plugins.inventory.models import Level

    row = db.session.query(Level).filter_by(product_id=product.id, warehouse_id=warehouse.id).one_or_none()
    db.session.refresh(row) if row is not None else None
    return (row.on_hand, row.reserved) if row is not None else (0, 0)


def edit_lines(order, lines):
    """Replace the order's lines by ``[(product, quantity), ...]``, keeping line ids of the same product."""
    by_product = {line.product_id: line.id for line in order.lines}
    data = OrderInput(customer_id=order.customer_id, ship_line1=order.ship_line1, currency=order.currency,
                      contact_name=order.contact_name, contact_phone=order.contact_phone,
                      lines=[LineInput(p.id, q, line_id=by_product.get(p.id)) for p, q in lines])
    return orders.update_order(order, data, order.version)
