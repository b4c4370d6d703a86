"""Fixtures of the orders tests: an app with only the orders plugin, signed-in clients and a
small catalogue."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from erp_core.extensions import db
from plugins.orders import services
from tests.helpers import login, make_user

ALL_ORDER_PERMS = ["orders.view", "orders.create", "orders.edit", "orders.confirm", "orders.cancel", "orders.ship",
                   "orders.export", "orders.import", "orders.customers.view", "orders.customers.edit",
                   "orders.products.view", "orders.products.edit", "orders.price.override", "orders.pricelists.manage"]


@dataclass
class Catalogue:
    customer_id: int
    pen_id: int
    ink_id: int
    usd_id: int
    jpy_id: int
    kwd_id: int


@pytest.fixture
def orders_app(make_app):
    """Only the orders plugin: every other module is off."""
    return make_app(plugins=["orders"])


@pytest.fixture
def spy_app(make_app):
    """Orders plus the spy plugin (tests/orders/spy_plugin.py), which records and answers hooks."""
    from tests.orders import spy_plugin as spy

    spy.reset()
    yield make_app(plugins=["orders", "spy=tests.orders.spy_plugin"])
    spy.reset()


@pytest.fixture
def catalogue(orders_app) -> Catalogue:
    return make_catalogue(orders_app)


def make_catalogue(app) -> Catalogue:
    with app.test_request_context():
        customer = services.create_customer("Li Lei", "138 0013 8000", "lilei@example.com",
                                            address={"line1": "1 Main Road", "city": "Shanghai", "recipient": "Li"})
        pen = services.create_product("PEN-1", "Pen", "348.35", "CNY", spec="blue", unit="box")
        ink = services.create_product("INK-1", "Ink", "12", "CNY")
        usd = services.create_product("USD-1", "Import", "10", "USD")
        jpy = services.create_product("JPY-1", "Tea bowl", "12345", "JPY")
        kwd = services.create_product("KWD-1", "Dates", "117.675", "KWD")
        db.session.commit()
        return Catalogue(customer.id, pen.id, ink.id, usd.id, jpy.id, kwd.id)


def client_with(app, perms=None, roles=()):
    """A test client signed in as a new user holding ``perms`` (all orders permissions by default)."""
    client = app.test_client()
    login(client, app, make_user(app, perms=ALL_ORDER_PERMS if perms is None else perms, roles=roles))
    return client


@pytest.fixture
def staff(orders_app):
    return client_with(orders_app)


def order_form(catalogue: Catalogue, *lines, **fields) -> dict:
    """The fields the entry page posts. ``lines`` are dicts of product_id/quantity/unit_price/discount."""
    data = {"customer_id": str(catalogue.customer_id), "contact_name": "Li Lei", "contact_phone": "138 0013 8000",
            "ship_line1": "1 Main Road", "ship_city": "Shanghai", "ship_country": "CN", "currency": "CNY",
            "notes": "", "entry_key": ""}
    for index, line in enumerate(lines):
        for key, value in line.items():
            data[f"lines-{index}-{key}"] = str(value)
    data.update({k: str(v) for k, v in fields.items()})
    return data
