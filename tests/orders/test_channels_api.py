"""The API of channels: ``channel`` and ``external_ref`` on orders, 409 with the existing order,
the channel filter, re-ordering (``POST /orders/<id>/duplicate``) and their OpenAPI entries."""

from __future__ import annotations

from sqlalchemy import func, select

from erp_core.extensions import db
from plugins.orders.models import Order
from tests.orders.test_rest_api import API, order_body, token_for

ORDERS_AND_CREATE = ["orders.view", "orders.create", "orders.customers.view", "orders.products.view",
                     "orders.price.override"]  # order_body types a price other than the catalogue's


def test_api_creates_with_channel_and_answers_409_for_a_known_reference(orders_app, catalogue):
    client = orders_app.test_client()
    auth = token_for(orders_app, ORDERS_AND_CREATE)
    first = client.post(f"{API}/orders", json=order_body(catalogue, channel="taobao", external_ref="TB-9"), headers=auth)
    assert first.status_code == 201, first.json
    assert first.json["channel"] == "taobao" and first.json["external_ref"] == "TB-9" and first.json["tags"] == []
    again = client.post(f"{API}/orders", json=order_body(catalogue, channel="taobao", external_ref="TB-9"), headers=auth)
    assert again.status_code == 409 and again.json["code"] == "duplicate_external_ref"
    assert again.json["existing_order_id"] == first.json["id"]
    assert again.json["existing_order_number"] == first.json["number"]
    assert "external_ref" in again.json["errors"]
    unknown = client.post(f"{API}/orders", json=order_body(catalogue, channel="ebay"), headers=auth)
    assert unknown.status_code == 422 and "channel" in unknown.json["errors"]
    with orders_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    listed = client.get(f"{API}/orders?channel=taobao", headers=auth).json
    assert [o["external_ref"] for o in listed["items"]] == ["TB-9"]
    assert client.get(f"{API}/orders?channel=jd", headers=auth).json["items"] == []


def test_api_duplicates_an_order_at_todays_prices(orders_app, catalogue):
    client = orders_app.test_client()
    auth = token_for(orders_app, ORDERS_AND_CREATE)
    made = client.post(f"{API}/orders", json=order_body(catalogue, channel="jd", external_ref="JD-1"), headers=auth).json
    copy = client.post(f"{API}/orders/{made['id']}/duplicate", headers=auth)
    assert copy.status_code == 201, copy.json
    assert copy.json["id"] != made["id"] and copy.json["status"] == "draft"
    assert copy.json["channel"] == "jd" and copy.json["external_ref"] is None
    assert [line["sku"] for line in copy.json["lines"]] == [line["sku"] for line in made["lines"]]
    assert copy.json["lines"][1]["unit_price_minor"] == 1200  # the catalogue price, not the 10.50 typed
    viewer = token_for(orders_app, ["orders.view"])
    assert client.post(f"{API}/orders/{made['id']}/duplicate", headers=viewer).status_code == 403
    assert client.post(f"{API}/orders/999999/duplicate", headers=auth).status_code == 404


def test_openapi_documents_the_new_fields(orders_app):
    client = orders_app.test_client()
    doc = client.get(f"{API}/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert {"channel", "external_ref"} <= set(schemas["OrderCreate"]["properties"])
    assert {"channel", "external_ref", "tags"} <= set(schemas["Order"]["properties"])
    assert "/api/v1/orders/{order_id}/duplicate" in doc["paths"]
    assert "409" in doc["paths"]["/api/v1/orders"]["post"]["responses"]
