"""Order tags through the API (``POST /orders/<id>/tags``, ``DELETE /orders/<id>/tags/<tag>``),
the ``?tag=`` filter of the API list and of the order list page, and their OpenAPI entries."""

from __future__ import annotations

from sqlalchemy import select

from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.orders import services
from plugins.orders.models import Order
from plugins.orders.services import LineInput, OrderInput
from tests.helpers import QueryCounter
from tests.orders.conftest import client_with
from tests.orders.test_rest_api import API, token_for

XSS = "<script>alert(1)</script>"
EDIT = ["orders.view", "orders.edit"]


def _orders(catalogue, n: int) -> list[int]:
    ids = []
    for _n in range(n):
        order = services.create_order(OrderInput(customer_id=catalogue.customer_id, ship_line1="1 Road",
                                                 lines=[LineInput(catalogue.ink_id, 1)]))
        ids.append(order.id)
    db.session.commit()
    return ids


def test_api_puts_and_takes_off_tags(orders_app, catalogue):
    with orders_app.test_request_context():
        (order_id,) = _orders(catalogue, 1)
    client = orders_app.test_client()
    auth = token_for(orders_app, EDIT)
    added = client.post(f"{API}/orders/{order_id}/tags", json={"tag": "  rush   job "}, headers=auth)
    assert added.status_code == 200, added.json
    assert added.json["tags"] == ["rush job"]
    again = client.post(f"{API}/orders/{order_id}/tags", json={"tag": "rush job"}, headers=auth)
    assert again.status_code == 200 and again.json["tags"] == ["rush job"]
    client.post(f"{API}/orders/{order_id}/tags", json={"tag": "vip"}, headers=auth)
    assert client.get(f"{API}/orders/{order_id}", headers=auth).json["tags"] == ["rush job", "vip"]
    removed = client.delete(f"{API}/orders/{order_id}/tags/rush job", headers=auth)
    assert removed.status_code == 200 and removed.json["tags"] == ["vip"]
    absent = client.delete(f"{API}/orders/{order_id}/tags/nothing", headers=auth)
    assert absent.status_code == 200 and absent.json["tags"] == ["vip"]
    with orders_app.app_context():
        actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "order",
                                                                   AuditLog.object_id == str(order_id))).all()
        assert actions.count("tag_added") == 2 and actions.count("tag_removed") == 1


def test_api_refuses_bad_tags_unknown_orders_and_users_without_edit(orders_app, catalogue):
    with orders_app.test_request_context():
        (order_id,) = _orders(catalogue, 1)
    client = orders_app.test_client()
    auth = token_for(orders_app, EDIT)
    for body in ({"tag": "   "}, {"tag": "x" * 41}, {}, {"tag": 5}):
        answer = client.post(f"{API}/orders/{order_id}/tags", json=body, headers=auth)
        assert answer.status_code == 422 and "tag" in answer.json["errors"], (body, answer.json)
    zh = client.post(f"{API}/orders/{order_id}/tags", json={"tag": " "}, headers={**auth, "Accept-Language": "zh-CN"})
    assert zh.status_code == 422 and zh.json["detail"] != "Give the tag."
    assert client.delete(f"{API}/orders/{order_id}/tags/{'x' * 41}", headers=auth).status_code == 422
    assert client.post(f"{API}/orders/999999/tags", json={"tag": "vip"}, headers=auth).status_code == 404
    assert client.delete(f"{API}/orders/999999/tags/vip", headers=auth).status_code == 404
    viewer = token_for(orders_app, ["orders.view"])
    assert client.post(f"{API}/orders/{order_id}/tags", json={"tag": "vip"}, headers=viewer).status_code == 403
    assert client.delete(f"{API}/orders/{order_id}/tags/vip", headers=viewer).status_code == 403
    assert client.get(f"{API}/orders/{order_id}", headers=auth).json["tags"] == []
    xss = client.post(f"{API}/orders/{order_id}/tags", json={"tag": XSS}, headers=auth)
    assert xss.status_code == 200 and xss.json["tags"] == [XSS]  # stored as data, escaped where shown
    for url in (f"/orders/{order_id}", f"/orders/?tag={XSS}"):
        html = client_with(orders_app).get(url).get_data(as_text=True)
        assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_api_list_filters_by_tag(orders_app, catalogue):
    with orders_app.test_request_context():
        first, second, third = _orders(catalogue, 3)
        services.add_tag(db.session.get(Order, first), "vip")
        services.add_tag(db.session.get(Order, third), "vip")
        services.add_tag(db.session.get(Order, third), "rush")
        db.session.commit()
    client = orders_app.test_client()
    auth = token_for(orders_app, ["orders.view"])
    listed = client.get(f"{API}/orders?tag=vip", headers=auth).json
    assert sorted(o["id"] for o in listed["items"]) == [first, third] and listed["total"] == 2
    assert [o["id"] for o in client.get(f"{API}/orders?tag=%20rush%20", headers=auth).json["items"]] == [third]
    assert client.get(f"{API}/orders?tag=none", headers=auth).json["items"] == []
    assert client.get(f"{API}/orders?tag={'x' * 41}", headers=auth).status_code == 422
    assert len(client.get(f"{API}/orders", headers=auth).json["items"]) == 3


def test_list_page_filters_by_tag_with_a_fixed_number_of_statements(orders_app, catalogue):
    with orders_app.test_request_context():
        ids = _orders(catalogue, 2)
        services.add_tag(db.session.get(Order, ids[0]), "vip")
        db.session.commit()
        numbers = [db.session.get(Order, i).number for i in ids]
    client = client_with(orders_app)
    page = client.get("/orders/?tag=vip").get_data(as_text=True)
    assert numbers[0] in page and numbers[1] not in page and 'data-testid="tag-filter"' in page
    assert 'value="vip"' in page and "tag=vip" in page  # kept in the field and in the export link
    everything = client.get("/orders/?status=draft").get_data(as_text=True)
    assert 'href="/orders/?status=draft&amp;tag=vip"' in everything  # a tag beside a number filters by it
    zh = client.get("/orders/?tag=vip", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "标签" in zh and "只看带此标签的订单" in zh
    with orders_app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        client.get("/orders/?tag=vip")
    with orders_app.test_request_context():
        for order_id in _orders(catalogue, 20):
            services.add_tag(db.session.get(Order, order_id), "vip")
        db.session.commit()
    with QueryCounter(engine) as many:
        page = client.get("/orders/?tag=vip").get_data(as_text=True)
    assert many.count == few.count, many.statements
    assert "No orders match" in client.get("/orders/?tag=nothing").get_data(as_text=True)


def test_openapi_documents_tags(orders_app):
    doc = orders_app.test_client().get(f"{API}/openapi.json").json
    assert "tag" in doc["components"]["schemas"]["OrderTag"]["properties"]
    assert "post" in doc["paths"]["/api/v1/orders/{order_id}/tags"]
    assert "delete" in doc["paths"]["/api/v1/orders/{order_id}/tags/{tag}"]
    assert any(p["name"] == "tag" for p in doc["paths"]["/api/v1/orders"]["get"]["parameters"])
