"""Builders for tests of the orders plugin and of plugins that use it (project and plugin authors).

Call them inside an app or request context of an app with ``orders`` enabled::

    from plugins.orders.testing import advance, make_order

    order = make_order([(2, "100.00"), (1, "35.50")], status="confirmed")
    advance(order, "delivered")   # on through shipped

Orders in the states finance gives them (paid, refunded) come from
``plugins.finance.testing.make_paid_order`` / ``make_refunded_order``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from erp_core.extensions import db

from . import services, states
from .models import Customer, Order, Product

_serial = itertools.count(1)


def _line(item, currency: str, serial: int, index: int) -> services.LineInput:
    """A line from ``(quantity, unit price text[, discount percent])`` or ``(product, quantity)``."""
    if isinstance(item, services.LineInput):
        return item
    if isinstance(item[0], Product):
        product, quantity = item[0], item[1]
        return services.LineInput(product.id, quantity)
    quantity, price, *rest = item
    product = services.create_product(f"T{serial}-{index}", f"Product {serial}-{index}", str(price), currency)
    return services.LineInput(product.id, quantity, discount=rest[0] if rest else None)


def make_order(lines: Iterable = ((1, "100.00"),), *, status: str = states.DRAFT, currency: str = "CNY",
               customer: Customer | None = None, email: str = "", phone: str = "138 0013 8000",
               warehouse_id: int | None = None, commit: bool = True) -> Order:
    """An order with ``lines``, walked from draft to ``status`` by the ordinary transitions.

    Each line is ``(quantity, unit price text[, discount percent text])`` (a product is created
    for it), ``(product, quantity)`` or a :class:`services.LineInput`. A new customer is created
    unless one is given. Cancelling notes "test" as the reason. Shipping goes through
    ``services.transition`` (no goods leave a warehouse): use ``services.ship_everything`` or
    logistics in tests of stock. Commits unless ``commit=False``.
    """
    serial = next(_serial)
    if customer is None:
        customer = services.create_customer(f"Customer {serial}", phone, email)
    order = services.create_order(services.OrderInput(
        customer_id=customer.id, ship_line1="1 Main Road", ship_city="Shanghai", currency=currency,
        contact_email=email, lines=[_line(item, currency, serial, i) for i, item in enumerate(lines, start=1)]))
    if warehouse_id is not None:
        order.warehouse_id = warehouse_id
    advance(order, status)
    if commit:
        db.session.commit()
    return order


def advance(order: Order, status: str) -> None:
    """Walk ``order`` on from where it is to ``status`` by the ordinary transitions (the steps of
    the draft-to-``status`` path after its current status; every hook fires). Shipping goes
    through ``services.transition`` as in :func:`make_order`; cancelling notes "test"."""
    if order.status == status:
        return
    path = services.path_to(status)
    start = path.index(order.status) + 1 if order.status in path else 0
    for step in path[start:]:
        services.transition(order, step, note="test" if step == states.CANCELLED else None)
