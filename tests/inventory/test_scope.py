"""The "own customers only" scope (``orders.scope.own``) in inventory: the stock ledger (moves
page, product page, product panel, API list and item) lists no reservations of other customers'
orders; moves of no order (receipts) stay visible."""

from __future__ import annotations

import pytest

from erp_core.api.tokens import create_token
from erp_core.auth.models import User
from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Move
from plugins.orders import services as orders
from plugins.orders.services.transitions import transition
from tests.helpers import login, make_user
from tests.inventory.common import PLUGINS, make_order, receive

PERMS = ["inventory.view", "orders.view", "orders.products.view"]


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def world(app):
    seller = make_user(app, perms=[*PERMS, "orders.scope.own"])
    ids = {"seller": seller, "other": make_user(app, perms=PERMS)}
    with app.test_request_context():
        product = orders.create_product("P-001", "Product 1", "10", "CNY")
        receive(inv.default_warehouse(), {product: 10})
        ids["product"] = product.id
        for key, name in (("mine", "Mine Ltd"), ("theirs", "Theirs Co")):
            customer = orders.create_customer(name, "")
            if key == "mine":
                orders.set_owner(customer, seller)
            order = make_order(customer, [(product, 1)])
            transition(order, "confirmed")
            db.session.commit()
            move = db.session.scalar(db.select(Move).where(Move.order_id == order.id))
            ids[key] = {"number": order.number, "move": move.id}
        for key in ("seller", "other"):
            _row, clear = create_token(db.session.get(User, ids[key]), "test")
            ids[f"{key}_token"] = {"Authorization": f"Bearer {clear}"}
        db.session.commit()
    return ids


def _page(app, user_id, url):
    client = app.test_client()
    login(client, app, user_id)
    page = client.get(url)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_scoped_user_sees_no_reservations_of_others_orders(app, world):
    mine, theirs = world["mine"]["number"], world["theirs"]["number"]
    product = world["product"]
    for url in ("/inventory/moves", f"/inventory/products/{product}", f"/orders/products/{product}"):
        scoped = _page(app, world["seller"], url)
        assert mine in scoped and theirs not in scoped, url
        assert "GR-" in scoped, url  # the receipt (no order) stays
        unscoped = _page(app, world["other"], url)
        assert mine in unscoped and theirs in unscoped, url
    client = app.test_client()
    listed = client.get("/api/v1/stock-moves", headers=world["seller_token"]).get_json()["items"]
    assert world["theirs"]["move"] not in [m["id"] for m in listed]
    assert world["mine"]["move"] in [m["id"] for m in listed] and any(m["order_id"] is None for m in listed)
    theirs_url = f"/api/v1/stock-moves/{world['theirs']['move']}"
    assert client.get(theirs_url, headers=world["seller_token"]).status_code == 404
    assert client.get(f"/api/v1/stock-moves/{world['mine']['move']}", headers=world["seller_token"]).status_code == 200
    assert client.get(theirs_url, headers=world["other_token"]).status_code == 200
    listed = client.get("/api/v1/stock-moves", headers=world["other_token"]).get_json()["items"]
    assert world["theirs"]["move"] in [m["id"] for m in listed]
