"""Fixtures of the finance tests: an app with orders + finance, and orders to pay."""

from __future__ import annotations

import itertools

import pytest

from erp_core.extensions import db
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders.services import LineInput, OrderInput

_sku = itertools.count(1)


@pytest.fixture
def fin_app(make_app):
    return make_app(plugins=["orders", "finance"])


def make_order(*lines, currency="CNY", confirm=True, customer=None, warehouse_id=None):
    """An order with ``lines`` = ``(price text, quantity, discount text)`` tuples (in a request
    or app context). Confirmed unless told otherwise."""
    if customer is None:
        customer = orders.create_customer(f"Customer {next(_sku)}")
    inputs = []
    for price, quantity, discount in lines or [("100", 1, "0")]:
        product = orders.create_product(f"SKU-{next(_sku)}", "Thing", price, currency)
        inputs.append(LineInput(product.id, quantity, discount=discount))
    order = orders.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road", currency=currency,
                                           lines=inputs))
    if warehouse_id is not None:
        order.warehouse_id = warehouse_id
    if confirm:
        orders.transition(order, order_states.CONFIRMED)
    db.session.commit()
    return order
