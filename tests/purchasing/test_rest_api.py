"""The JSON API of purchasing (/api/v1): suppliers, purchase orders, send, receive (with the
over-receipt confirmation), close; permissions; and conformance to its OpenAPI document."""

import pytest

from erp_core.api.tokens import create_token
from erp_core.auth.models import User
from erp_core.extensions import db
from plugins.purchasing.models import PurchaseOrder
from tests.core.test_api_conformance import run_conformance
from tests.helpers import QueryCounter, make_user
from tests.purchasing.common import PLUGINS, make_po, on_hand, setup_data

API = "/api/v1"
PERMS = ["purchasing.view", "purchasing.manage", "purchasing.receive"]


def token_for(app, perms=()) -> dict:
    user_id = make_user(app, perms=list(perms))
    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def data(app):
    with app.test_request_context():
        return setup_data()


def test_suppliers_api(app, data):
    client, auth = app.test_client(), token_for(app, PERMS)
    response = client.post(f"{API}/suppliers", json={"code": "s2", "name": "Second", "email": "s2@example.com"},
                           headers=auth)
    assert response.status_code == 201, response.json
    assert response.json["code"] == "S2" and response.json["currency"] == "CNY"
    assert client.post(f"{API}/suppliers", json={"code": "S2", "name": "Again"}, headers=auth).status_code == 409
    assert client.post(f"{API}/suppliers", json={"code": "S3", "name": "X", "email": "nope"},
                       headers=auth).status_code in (400, 422)
    listing = client.get(f"{API}/suppliers?q=sec", headers=auth).json
    assert [s["code"] for s in listing["items"]] == ["S2"]
    sid = response.json["id"]
    changed = client.put(f"{API}/suppliers/{sid}", json={"code": "S2", "name": "Renamed", "active": False},
                         headers=auth)
    assert changed.status_code == 200 and changed.json["active"] is False
    assert client.get(f"{API}/suppliers/999999", headers=auth).status_code == 404


def test_purchase_order_api_flow(app, data):
    client, auth = app.test_client(), token_for(app, PERMS)
    body = {"supplier_id": data["supplier"], "warehouse_id": data["warehouse"],
            "lines": [{"product_id": data["products"][0], "quantity": 10},
                      {"product_id": data["products"][1], "quantity": 4, "unit_price": "3.10",
                       "expected_date": "2030-01-31"}]}
    created = client.post(f"{API}/purchase-orders", json=body, headers=auth)
    assert created.status_code == 201, created.json
    po = created.json
    assert po["status"] == "draft" and po["total"] == "57.40" and po["number"].startswith("PO-")
    bad = client.post(f"{API}/purchase-orders", json={**body, "lines": [{"product_id": 999999, "quantity": 1}]},
                      headers=auth)
    assert bad.status_code == 404
    sent = client.post(f"{API}/purchase-orders/{po['id']}/send", json={"language": "en"}, headers=auth)
    assert sent.status_code == 200 and sent.json["status"] == "sent"
    _receive_over_api(app, client, auth, data, po)


def _receive_over_api(app, client, auth, data, po):
    first = po["lines"][0]
    url = f"{API}/purchase-orders/{po['id']}/receipts"
    part = client.post(url, json={"lines": [{"line_id": first["id"], "quantity": 6}]}, headers=auth)
    assert part.status_code == 201 and part.json["status"] == "partially_received"
    over = client.post(url, json={"lines": [{"line_id": first["id"], "quantity": 5}]}, headers=auth)
    assert over.status_code == 409 and over.json["code"] == "over_receipt"
    stale = client.post(url, json={"lines": [{"line_id": first["id"], "quantity": 5, "expected_received": 0}],
                                   "confirm_over": True}, headers=auth)
    assert stale.status_code == 409
    done = client.post(url, json={"lines": [{"line_id": first["id"], "quantity": 5, "expected_received": 6}],
                                  "confirm_over": True}, headers=auth)
    assert done.status_code == 201 and done.json["lines"][0]["received"] == 11
    closed = client.post(f"{API}/purchase-orders/{po['id']}/close", json={"reason": "rest not coming"}, headers=auth)
    assert closed.status_code == 200 and closed.json["status"] == "closed"
    with app.app_context():
        assert on_hand(data["products"][0], data["warehouse"]) == 11
        assert on_hand(data["products"][1], data["warehouse"]) == 0
    listing = client.get(f"{API}/purchase-orders?status=closed", headers=auth).json
    assert [p["id"] for p in listing["items"]] == [po["id"]]


def test_api_permissions(app, data):
    client = app.test_client()
    viewer = token_for(app, ["purchasing.view"])
    with app.test_request_context():
        po = make_po(data)
        po_id, line_id = po.id, po.lines[0].id
    assert client.get(f"{API}/purchase-orders", headers=viewer).status_code == 200
    assert client.post(f"{API}/suppliers", json={"code": "Z", "name": "Z"}, headers=viewer).status_code == 403
    assert client.post(f"{API}/purchase-orders/{po_id}/receipts",
                       json={"lines": [{"line_id": line_id, "quantity": 1}]}, headers=viewer).status_code == 403
    assert client.post(f"{API}/purchase-orders/{po_id}/cancel", json={"reason": "x"},
                       headers=viewer).status_code == 403
    nobody = token_for(app, ["orders.view"])
    assert client.get(f"{API}/suppliers", headers=nobody).status_code == 403
    assert client.get(f"{API}/suppliers").status_code == 401
    with app.app_context():
        assert db.session.get(PurchaseOrder, po_id).status == "sent"


def test_purchase_order_list_has_a_fixed_number_of_queries(app, data):
    client, auth = app.test_client(), token_for(app, PERMS)
    with app.test_request_context():
        make_po(data)
    with app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        client.get(f"{API}/purchase-orders", headers=auth)
    with app.test_request_context():
        for _ in range(5):
            make_po(data)
    with QueryCounter(engine) as many:
        assert len(client.get(f"{API}/purchase-orders", headers=auth).json["items"]) == 6
    assert len(many.statements) <= len(few.statements) + 1


def test_purchasing_api_conforms_to_its_schema(app, data):
    user_id = make_user(app, perms=PERMS + ["purchasing.bills", "orders.view", "orders.products.view", "inventory.view"])
    with app.test_request_context():
        make_po(data)
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "schemathesis")
        db.session.commit()
    assert run_conformance(app, token, max_examples=15) == []
