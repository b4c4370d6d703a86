"""Builders shared by the support tests."""

from __future__ import annotations

from plugins.orders import services as order_services
from plugins.orders.services import LineInput, OrderInput
from erp_core.extensions import db

_n = iter(range(1, 10_000))


def make_order(lines=((2, "100.00"), (1, "35.50")), status="delivered", email="buyer@example.com",
               phone="138 0013 8000"):
    """An order (in the caller's request context) walked to ``status`` through the orders service."""
    n = next(_n)
    customer = order_services.create_customer(f"Customer {n}", phone, email)
    inputs = []
    for index, (quantity, price) in enumerate(lines):
        product = order_services.create_product(f"P{n}-{index}", f"Product {n}-{index}", price, "CNY")
        inputs.append(LineInput(product.id, quantity))
    order = order_services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Main Road",
                                                   ship_city="Shanghai", currency="CNY", contact_email=email,
                                                   lines=inputs))
    path = {"draft": [], "confirmed": ["confirmed"], "shipped": ["confirmed", "shipped"],
            "delivered": ["confirmed", "shipped", "delivered"],
            "completed": ["confirmed", "shipped", "delivered", "completed"],
            "cancelled": ["cancelled"]}[status]
    for step in path:
        order_services.transition(order, step, note="test" if step == "cancelled" else None)
    db.session.commit()
    assert order.number and order.customer.name and all(line.quantity for line in order.lines)  # loaded: usable after the request
    return order


def make_team(name="Day desk", tz="Asia/Shanghai", week=None, members=(), leads=()):
    from plugins.support import services

    week = week if week is not None else {d: "00:00-24:00" for d in range(7)}
    team = services.save_team(None, name, tz, True, week, list(members), list(leads))
    db.session.commit()
    return team
