"""Builders shared by the support tests."""

from __future__ import annotations

from erp_core.extensions import db
from plugins.orders import testing as order_testing


def make_order(lines=((2, "100.00"), (1, "35.50")), status="delivered", email="buyer@example.com",
               phone="138 0013 8000"):
    """An order (in the caller's request context) walked to ``status`` through the orders service."""
    order = order_testing.make_order(lines, status=status, email=email, phone=phone)
    assert order.number and order.customer.name and all(line.quantity for line in order.lines)  # loaded: usable after the request
    return order


def make_team(name="Day desk", tz="Asia/Shanghai", week=None, members=(), leads=()):
    from plugins.support import services

    week = week if week is not None else {d: "00:00-24:00" for d in range(7)}
    team = services.save_team(None, name, tz, True, week, list(members), list(leads))
    db.session.commit()
    return team
