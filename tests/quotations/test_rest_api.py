"""The JSON API of quotations (/api/v1/quotations): create, list, get, send, accept, decline;
permissions (403); refusals as problem+json; conformance to its OpenAPI document."""

import pytest

from erp_core.extensions import db
from plugins.orders.public import Order
from tests.core.test_api_conformance import run_conformance
from tests.helpers import api_token, bearer
from tests.quotations.common import PLUGINS, setup_data

API = "/api/v1"
PERMS = ["quotations.view", "quotations.manage"]


def token_for(app, perms=()) -> dict:
    return bearer(api_token(app, perms=list(perms)))


@pytest.fixture
def app(make_app):
    return make_app(plugins=PLUGINS)


@pytest.fixture
def data(app):
    with app.test_request_context():
        return setup_data()


def _body(data, **extra):
    return {"customer_id": data["customer"], "ship_line1": "1 Main Road",
            "lines": [{"product_id": data["products"][0], "quantity": 3, "unit_price": "9.50", "discount": "10"},
                      {"product_id": data["products"][1], "quantity": 2}], **extra}


def test_create_send_accept_through_the_api(app, data):
    client, auth = app.test_client(), token_for(app, PERMS)
    response = client.post(f"{API}/quotations", json=_body(data), headers=auth)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["status"] == "draft" and created["number"].startswith("QUO-") and created["customer_link"] is None
    assert [line["unit_price"] for line in created["lines"]] == ["9.50", "25.50"]
    quotation_id = created["id"]
    assert client.get(f"{API}/quotations/{quotation_id}", headers=auth).json["total"] == created["total"]
    sent = client.post(f"{API}/quotations/{quotation_id}/send", json={"mail": False}, headers=auth).json
    assert sent["status"] == "sent" and f"/q/{quotation_id}/" in sent["customer_link"]
    listed = client.get(f"{API}/quotations?status=sent", headers=auth).json
    assert [item["id"] for item in listed["items"]] == [quotation_id]
    accepted = client.post(f"{API}/quotations/{quotation_id}/accept", json={}, headers=auth).json
    assert accepted["status"] == "accepted" and accepted["order_id"]
    with app.app_context():
        assert db.session.get(Order, accepted["order_id"]).total_minor == created["total_minor"]
    again = client.post(f"{API}/quotations/{quotation_id}/decline", json={"reason": "x"}, headers=auth)
    assert again.status_code == 409 and again.content_type.startswith("application/problem+json")


def test_refusals_and_permissions(app, data):
    client, auth = app.test_client(), token_for(app, PERMS)
    bad = client.post(f"{API}/quotations", json=_body(data, lines=[{"product_id": 999, "quantity": 1}]), headers=auth)
    assert bad.status_code in (400, 404, 409, 422) and bad.content_type.startswith("application/problem+json")
    viewer = token_for(app, ["quotations.view"])
    assert client.get(f"{API}/quotations", headers=viewer).status_code == 200
    assert client.post(f"{API}/quotations", json=_body(data), headers=viewer).status_code == 403
    nobody = token_for(app, ["orders.view"])
    assert client.get(f"{API}/quotations", headers=nobody).status_code == 403
    created = client.post(f"{API}/quotations", json=_body(data), headers=auth).json
    for action in ("send", "accept", "decline"):
        assert client.post(f"{API}/quotations/{created['id']}/{action}", json={}, headers=viewer).status_code == 403


def test_the_api_conforms_to_its_openapi_document(app, data):
    assert run_conformance(app, api_token(app, perms=PERMS), max_examples=10) == []
    spec = app.test_client().get(f"{API}/openapi.json").json
    assert "/api/v1/quotations" in spec["paths"] and "/api/v1/quotations/{quotation_id}/send" in spec["paths"]
