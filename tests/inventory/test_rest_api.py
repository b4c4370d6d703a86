"""The JSON API of inventory (/api/v1): warehouses, stock levels, the ledger, receipts and
stocktake adjustments; and the inventory veto on confirming an order through the orders API."""

import pytest
from sqlalchemy import func, select

from erp_core.api.tokens import create_token
from erp_core.auth.models import User
from erp_core.extensions import db
from erp_core.plugins import switch_plugin
from plugins.inventory import services as inv
from plugins.inventory.models import Document, Level, Move, StockRule, Warehouse
from plugins.orders.models import Order, Product
from tests.core.test_api_conformance import run_conformance
from tests.helpers import QueryCounter, make_user
from tests.inventory.common import PLUGINS, catalogue

API = "/api/v1"
INVENTORY_PERMS = ["inventory.view", "inventory.receive", "inventory.adjust"]
ORDER_PERMS = ["orders.view", "orders.create", "orders.edit", "orders.confirm", "orders.cancel",
               "orders.products.view"]


def token_for(app, perms=(), roles=()) -> dict:
    user_id = make_user(app, perms=list(perms), roles=list(roles))
    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def setup(app):
    with app.test_request_context():
        customer, products = catalogue(3)
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        db.session.commit()
        return {"customer_id": customer.id, "products": [p.id for p in products], "main": main.id,
                "north": north.id}


@pytest.fixture
def auth(app):
    return token_for(app, INVENTORY_PERMS + ORDER_PERMS)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _receive(client, auth, lines, **fields):
    return client.post(f"{API}/stock-moves/receipts", json={"lines": lines, **fields}, headers=auth)


# ----------------------------------------------------------------------------- access


ENDPOINTS = [
    ("get", "/warehouses", None, "inventory.view"),
    ("get", "/stock-levels", None, "inventory.view"),
    ("get", "/stock-levels/{level}", None, "inventory.view"),
    ("get", "/stock-moves", None, "inventory.view"),
    ("get", "/stock-moves/{move}", None, "inventory.view"),
    ("post", "/stock-moves/receipts", {"lines": [{"product_id": 1, "quantity": 1}]}, "inventory.receive"),
    ("post", "/stock-moves/adjustments", {"product_id": 1, "counted": 0, "reason": "x"}, "inventory.adjust"),
]


def test_every_endpoint_needs_a_token_and_its_permission(app, setup, auth):
    client = app.test_client()
    posted = _receive(client, auth, [{"product_id": setup["products"][0], "quantity": 5}]).json
    ids = {"move": posted["moves"][0]["id"]}
    with app.app_context():
        ids["level"] = db.session.scalar(select(Level.id))
    for method, path, body, permission in ENDPOINTS:
        url = API + path.format(**ids)
        anonymous = getattr(client, method)(url, json=body)
        assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json", url
        others = token_for(app, [p for p in INVENTORY_PERMS + ORDER_PERMS if p != permission])
        refused = getattr(client, method)(url, json=body, headers=others)
        assert refused.status_code == 403 and refused.json["code"] == "forbidden", (method, url)
    assert _count(app, Move) == 1


# ----------------------------------------------------------------------------- reading


def test_warehouses_levels_and_moves(app, setup, auth):
    client = app.test_client()
    p1, p2, _p3 = setup["products"]
    warehouses = client.get(f"{API}/warehouses", headers=auth).json
    assert [(w["code"], w["is_default"]) for w in warehouses["items"]] == [("MAIN", True), ("N", False)]
    _receive(client, auth, [{"product_id": p1, "quantity": 5}, {"product_id": p2, "quantity": 2}])
    _receive(client, auth, [{"product_id": p1, "quantity": 4}], warehouse_id=setup["north"], supplier="Acme")
    with app.app_context():
        db.session.add(StockRule(product_id=p2, low_threshold=3, reorder_quantity=10))
        inv.sync_low_flags([(p2, setup["main"])])
        db.session.commit()
    levels = client.get(f"{API}/stock-levels", headers=auth).json
    assert [(lv["sku"], lv["warehouse_id"], lv["on_hand"], lv["available"]) for lv in levels["items"]] == [
        ("P-001", setup["main"], 5, 5), ("P-001", setup["north"], 4, 4), ("P-002", setup["main"], 2, 2)]
    low = client.get(f"{API}/stock-levels?low=true", headers=auth).json["items"]
    assert [(lv["sku"], lv["low"], lv["low_threshold"]) for lv in low] == [("P-002", True, 3)]
    north = client.get(f"{API}/stock-levels?warehouse_id={setup['north']}&product_id={p1}", headers=auth).json
    assert north["total"] == 1
    one = client.get(f"{API}/stock-levels/{north['items'][0]['id']}", headers=auth).json
    assert one == north["items"][0]
    moves = client.get(f"{API}/stock-moves?kind=receipt&product_id={p1}", headers=auth).json
    assert [(m["warehouse_id"], m["quantity"], m["on_hand_after"]) for m in moves["items"]] == [
        (setup["north"], 4, 4), (setup["main"], 5, 5)]
    assert client.get(f"{API}/stock-moves?warehouse_id={setup['north']}", headers=auth).json["total"] == 1
    assert client.get(f"{API}/stock-moves?from=2000-01-01&to=2999-12-31", headers=auth).json["total"] == 3
    assert client.get(f"{API}/stock-moves?to=2000-01-01", headers=auth).json["total"] == 0
    reference = moves["items"][0]["reference"]
    assert client.get(f"{API}/stock-moves?reference={reference.lower()}", headers=auth).json["total"] == 1
    page = client.get(f"{API}/stock-moves?per_page=2", headers=auth)
    assert page.json["links"]["next"] and 'rel="next"' in page.headers["Link"]
    assert client.get(f"{API}/stock-moves/999", headers=auth).status_code == 404
    assert client.get(f"{API}/stock-levels/99999999999", headers=auth).status_code == 404
    bad = client.get(f"{API}/stock-moves?kind=theft&low=maybe", headers={**auth, "Accept-Language": "zh-CN"})
    assert bad.status_code == 422 and "kind" in bad.json["errors"] and bad.json["detail"] == "部分数值无法使用。"


def test_lists_run_a_fixed_number_of_statements(app, setup, auth):
    client = app.test_client()
    _receive(client, auth, [{"product_id": setup["products"][0], "quantity": 1}])
    urls = ("/warehouses", "/stock-levels", "/stock-moves")
    for url in urls:
        client.get(API + url, headers=auth)
    with app.app_context():
        engine = db.engine
    counts = {}
    for url in urls:
        with QueryCounter(engine) as few:
            client.get(API + url, headers=auth)
        counts[url] = few.count
    with app.test_request_context():
        _customer, products = catalogue(30, prefix="B")
        for w in range(3):
            inv.save_warehouse(None, f"W{w}", f"Warehouse {w}")
        inv.receive_goods(setup["main"], {p.id: 2 for p in products})
        inv.receive_goods(setup["north"], {p.id: 1 for p in products})
        db.session.commit()
    for url in urls:
        with QueryCounter(engine) as many:
            body = client.get(API + url, headers=auth).json
        assert body["total"] >= 5
        assert many.count == counts[url], (url, many.statements)


# ----------------------------------------------------------------------------- posting


def test_receipt_puts_goods_on_hand_once_with_an_idempotency_key(app, setup, auth):
    client = app.test_client()
    p1, p2, _p3 = setup["products"]
    headers = {**auth, "Idempotency-Key": "delivery-7"}
    body = {"lines": [{"product_id": p1, "quantity": 5}, {"product_id": p2, "quantity": 1},
                      {"product_id": p1, "quantity": 2}], "supplier": "Acme", "note": "pallet 3"}
    first = client.post(f"{API}/stock-moves/receipts", json=body, headers=headers)
    again = client.post(f"{API}/stock-moves/receipts", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert first.json == again.json
    posted = first.json
    assert posted["document"]["kind"] == "receipt" and posted["document"]["number"].startswith("GR-")
    assert posted["document"]["warehouse_id"] == setup["main"] and posted["document"]["supplier"] == "Acme"
    assert sorted((m["sku"], m["kind"], m["quantity"]) for m in posted["moves"]) == [
        ("P-001", "receipt", 7), ("P-002", "receipt", 1)]
    assert first.headers["Location"].endswith(f"reference={posted['document']['number']}")
    assert _count(app, Document) == 1
    with app.app_context():
        assert db.session.scalar(select(Level.on_hand).where(Level.product_id == p1)) == 7


def test_receipt_refusals_change_nothing(app, setup, auth):
    client = app.test_client()
    p1 = setup["products"][0]
    unknown = _receive(client, auth, [{"product_id": p1, "quantity": 1}, {"product_id": 999, "quantity": 1}])
    assert unknown.status_code == 404 and unknown.json["errors"] == {"lines.1.product_id": ["Line 2: unknown product."]}
    chinese = _receive(client, {**auth, "Accept-Language": "zh-CN"}, [{"product_id": 999, "quantity": 1}])
    assert chinese.json["detail"] == "第 1 行：商品不存在。"
    nowhere = _receive(client, auth, [{"product_id": p1, "quantity": 1}], warehouse_id=999)
    assert nowhere.status_code == 404 and "warehouse_id" in nowhere.json["errors"]
    invalid = _receive(client, {**auth, "Accept-Language": "zh-CN"}, [{"product_id": p1, "quantity": 0}])
    assert invalid.status_code == 422 and list(invalid.json["errors"]) == ["lines.0.quantity"]
    assert invalid.json["errors"]["lines.0.quantity"] == ["必须在 1 与 1000000 之间。"]
    empty = _receive(client, auth, [])
    assert empty.status_code == 422 and "lines" in empty.json["errors"]
    assert _count(app, Move) == 0 and _count(app, Document) == 0


def test_stocktake_adjustment(app, setup, auth):
    client = app.test_client()
    p1 = setup["products"][0]
    _receive(client, auth, [{"product_id": p1, "quantity": 10}])
    url = f"{API}/stock-moves/adjustments"
    counted = client.post(url, json={"product_id": p1, "counted": 8, "reason": "annual count",
                                     "expected_on_hand": 10}, headers=auth)
    assert counted.status_code == 201
    assert counted.json["document"]["kind"] == "stocktake"
    move = counted.json["moves"][0]
    assert (move["kind"], move["on_hand_delta"], move["on_hand_after"], move["note"]) == ("adjustment", -2, 8,
                                                                                         "annual count")
    same = client.post(url, json={"product_id": p1, "counted": 8, "reason": "recount"}, headers=auth)
    assert same.status_code == 200 and same.json == {"document": None, "moves": []}
    moved = client.post(url, json={"product_id": p1, "counted": 3, "reason": "x", "expected_on_hand": 10},
                        headers=auth)
    assert moved.status_code == 409 and "moved while you counted" in moved.json["detail"]
    no_reason = client.post(url, json={"product_id": p1, "counted": 3, "reason": "  "}, headers=auth)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    # reservations of confirmed orders cannot be counted away
    order = client.post(f"{API}/orders", json={"customer_id": setup["customer_id"], "ship_line1": "1 Road",
                                               "lines": [{"product_id": p1, "quantity": 6}]}, headers=auth).json
    assert client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm"},
                       headers=auth).status_code == 200
    below = client.post(url, json={"product_id": p1, "counted": 5, "reason": "broken"}, headers=auth)
    assert below.status_code == 409 and below.json["code"] == "insufficient_stock"
    with app.app_context():
        assert db.session.scalar(select(Level.on_hand).where(Level.product_id == p1)) == 8


def test_only_receipts_and_adjustments_can_be_posted(app, setup, auth):
    client = app.test_client()
    for kind in ("reservations", "shipments", "transfers"):
        assert client.post(f"{API}/stock-moves/{kind}", json={}, headers=auth).status_code in (404, 405)
    assert client.post(f"{API}/stock-moves", json={"kind": "shipment"}, headers=auth).status_code == 405


# ----------------------------------------------------------------------------- the veto on confirm


def test_confirm_is_vetoed_without_enough_stock(app, setup, auth):
    client = app.test_client()
    p1, p2, _p3 = setup["products"]
    _receive(client, auth, [{"product_id": p1, "quantity": 1}])
    order = client.post(f"{API}/orders", json={"customer_id": setup["customer_id"], "ship_line1": "1 Road",
                                               "lines": [{"product_id": p1, "quantity": 2},
                                                         {"product_id": p2, "quantity": 1}]}, headers=auth).json
    url = f"{API}/orders/{order['id']}/transitions"
    refused = client.post(url, json={"action": "confirm", "version": 1}, headers=auth)
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert refused.json["code"] == "insufficient_stock"
    assert refused.json["errors"]["_"] == [
        "Not enough stock of P-001 Product 1 in Main warehouse: 2 needed, 1 available.",
        "Not enough stock of P-002 Product 2 in Main warehouse: 1 needed, 0 available."]
    chinese = client.post(url, json={"action": "confirm"}, headers={**auth, "Accept-Language": "zh-CN"})
    assert chinese.status_code == 409 and chinese.json["code"] == "insufficient_stock"
    assert "P-001" in chinese.json["detail"] and "Not enough" not in chinese.json["detail"]
    assert client.get(f"{API}/orders/{order['id']}", headers=auth).json["status"] == "draft"
    assert _count(app, Move) == 1  # only the receipt
    _receive(client, auth, [{"product_id": p1, "quantity": 1}, {"product_id": p2, "quantity": 1}])
    confirmed = client.post(url, json={"action": "confirm", "version": 1}, headers=auth)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    levels = client.get(f"{API}/stock-levels?warehouse_id={setup['main']}", headers=auth).json["items"]
    assert [(lv["sku"], lv["reserved"], lv["available"]) for lv in levels] == [("P-001", 2, 0), ("P-002", 1, 0)]
    reservations = client.get(f"{API}/stock-moves?kind=reservation&order_id={order['id']}", headers=auth).json
    assert reservations["total"] == 2


def test_confirm_works_when_inventory_is_off(app, setup, auth):
    with app.app_context():
        switch_plugin("inventory", False)
        db.session.commit()
    client = app.test_client()
    order = client.post(f"{API}/orders", json={"customer_id": setup["customer_id"], "ship_line1": "1 Road",
                                               "lines": [{"product_id": setup["products"][0], "quantity": 50}]},
                        headers=auth).json
    confirmed = client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm"}, headers=auth)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert _count(app, Move) == 0


def test_endpoints_vanish_when_the_plugin_is_off(app, setup):
    auth = token_for(app, roles=["admin"])
    client = app.test_client()
    assert "/api/v1/stock-levels" in client.get(f"{API}/openapi.json").json["paths"]
    with app.app_context():
        switch_plugin("inventory", False)
        db.session.commit()
    paths = client.get(f"{API}/openapi.json").json["paths"]
    assert not [p for p in paths if p.startswith(("/api/v1/stock", "/api/v1/warehouses"))]
    assert "/api/v1/orders" in paths
    for url in ("/warehouses", "/stock-levels", "/stock-moves", "/stock-moves/1"):
        assert client.get(API + url, headers=auth).status_code == 404, url
    response = _receive(client, auth, [{"product_id": setup["products"][0], "quantity": 1}])
    assert response.status_code == 404 and _count(app, Move) == 0


def test_inventory_api_conforms_to_its_schema(make_app):
    # Stock is posted by a storekeeper who may read orders but not enter them, so generated
    # orders never meet product 1 (whose stock rightly refuses some schema-valid requests).
    app = make_app(plugins=PLUGINS)
    with app.test_request_context():
        catalogue(2)
        inv.default_warehouse()
        db.session.commit()
    user_id = make_user(app, perms=INVENTORY_PERMS + ["orders.view", "orders.products.view"])
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "schemathesis")
        db.session.commit()
    assert run_conformance(app, token) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Warehouse)) >= 1
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        assert db.session.scalar(select(func.count()).select_from(Product)) == 2


def test_success_answers_match_the_openapi_document(app, setup, auth):
    from tests.orders.test_rest_api import assert_documented

    client = app.test_client()
    p1 = setup["products"][0]
    posted = _receive(client, auth, [{"product_id": p1, "quantity": 3}])
    checks = [("post", "/api/v1/stock-moves/receipts", posted)]
    url = f"{API}/stock-moves/adjustments"
    checks.append(("post", "/api/v1/stock-moves/adjustments",
                   client.post(url, json={"product_id": p1, "counted": 2, "reason": "count"}, headers=auth)))
    checks.append(("post", "/api/v1/stock-moves/adjustments",
                   client.post(url, json={"product_id": p1, "counted": 2, "reason": "count"}, headers=auth)))
    move_id = posted.json["moves"][0]["id"]
    checks.append(("get", "/api/v1/stock-moves/{move_id}", client.get(f"{API}/stock-moves/{move_id}", headers=auth)))
    with app.app_context():
        level_id = db.session.scalar(select(Level.id))
    checks.append(("get", "/api/v1/stock-levels/{level_id}",
                   client.get(f"{API}/stock-levels/{level_id}", headers=auth)))
    for path in ("/warehouses", "/stock-levels", "/stock-moves"):
        checks.append(("get", API + path, client.get(API + path, headers=auth)))
    assert [r.status_code for _m, _p, r in checks] == [201, 201, 200, 200, 200, 200, 200, 200]
    for method, path, response in checks:
        assert_documented(app, method, path, response)
