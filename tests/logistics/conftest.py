"""Fixtures of the logistics tests: apps with and without the spy plugin, an order to ship, carriers."""

from __future__ import annotations

import pytest

from erp_core.extensions import db
from plugins.logistics import services
from plugins.orders import services as orders
from plugins.orders import states as order_states
from plugins.orders import testing as order_testing
from tests.logistics import spy_plugin as spy

SPY = "lspy=tests.logistics.spy_plugin"


@pytest.fixture
def app(make_app):
    """Orders and logistics only: no plugin answers the refund, ticket or stock hooks."""
    return make_app(plugins=["orders", "logistics"])


@pytest.fixture
def spy_app(make_app):
    spy.reset()
    yield make_app(plugins=["orders", "logistics", SPY])
    spy.reset()


def make_order(lines=((5, "PEN"), (2, "INK")), status=order_states.CONFIRMED, currency="CNY"):
    """A customer, products and an order with ``lines`` of (quantity, sku), moved to ``status``."""
    items = [(orders.create_product(f"{sku}-{orders.next_order_number()[-6:]}", sku.title(), "10.00", currency), quantity)
             for quantity, sku in lines]
    order = order_testing.make_order(items, status=order_states.DRAFT if status == order_states.DRAFT
                                     else order_states.CONFIRMED, currency=currency, commit=False)
    if status == order_states.CANCELLED:  # a confirmed order cancelled, as staff do
        orders.transition(order, order_states.CANCELLED, note="test")
    db.session.commit()
    return order


def make_carriers():
    """Demo Express and a manual carrier with a link template (the same ones when called again)."""
    from sqlalchemy import select

    from plugins.logistics.models import Carrier

    existing = {c.code: c for c in db.session.scalars(select(Carrier))}
    if "demo-express" in existing:
        return existing["demo-express"], existing["other"]
    demo = services.create_carrier("Demo Express", "demo-express", "demo_express",
                                   {"account": "DEMO-1", "api_key": "test-api-key"})
    manual = services.create_carrier("Other carrier", "other", "manual",
                                     {"tracking_url_template": "https://carrier.example/t?n={number}"})
    db.session.commit()
    return demo, manual


def ship(order, carrier, quantities=None, **fields):
    """Create a shipment of ``{order_line_id: qty}`` (default: everything left) and commit."""
    if quantities is None:
        quantities = {k: v for k, v in services.remaining_by_line(order).items() if v}
    if carrier.adapter == "manual":
        fields.setdefault("carrier_name", "SF Express")
        fields.setdefault("tracking_number", f"SF{order.id:04d}{len(services.order_shipments(order.id)):04d}")
    shipment = services.create_shipment(order, services.ShipmentInput(carrier_id=carrier.id, quantities=quantities,
                                                                       **fields))
    db.session.commit()
    return shipment
