"""Invoicing details in the API: the customers' ``invoicing`` object, the orders' copy, its own
endpoint, errors named after the fields, permissions, and answers matching the OpenAPI document."""

from erp_core.extensions import db
from tests.helpers import QueryCounter
from tests.orders.conftest import ALL_ORDER_PERMS
from tests.orders.test_invoicing_details import TENCENT
from tests.orders.test_rest_api import API, assert_documented, token_for

EMPTY = {"title": "", "taxpayer_id": "", "address": "", "phone": "", "bank": "", "account": "",
         "invoice_type": "none"}


def _customer(client, auth, **body):
    return client.post(f"{API}/customers", json={"name": "Tencent", **body}, headers=auth)


def _order(client, auth, customer_id):
    product = client.post(f"{API}/products", json={"sku": f"P-{customer_id}", "name": "Paper", "price_minor": 100},
                          headers=auth).json
    return client.post(f"{API}/orders", json={"customer_id": customer_id, "ship_line1": "1 Road",
                                              "lines": [{"product_id": product["id"], "quantity": 1}]}, headers=auth)


def test_customers_read_and_write_invoicing(orders_app):
    auth, client = token_for(orders_app, ALL_ORDER_PERMS), orders_app.test_client()
    created = _customer(client, auth, invoicing=dict(TENCENT, taxpayer_id="91440300708461136t"))
    assert created.status_code == 201
    assert created.json["invoicing"] == dict(TENCENT, taxpayer_id="91440300708461136T")
    url = created.headers["Location"]
    assert client.get(url, headers=auth).json["invoicing"]["bank"] == "招商银行深圳分行"
    # a PATCH changes the fields it sends, the others stay
    response = client.patch(url, json={"invoicing": {"invoice_type": "ordinary", "bank": ""}}, headers=auth)
    assert response.status_code == 200
    assert response.json["invoicing"] == dict(TENCENT, taxpayer_id="91440300708461136T", bank="",
                                              invoice_type="ordinary")
    assert _customer(client, auth, name="Walk-in").json["invoicing"] == EMPTY
    assert_documented(orders_app, "post", "/api/v1/customers", created)
    assert_documented(orders_app, "patch", "/api/v1/customers/{customer_id}", response)


def test_customer_invoicing_errors_name_the_fields_and_change_nothing(orders_app):
    auth, client = token_for(orders_app, ALL_ORDER_PERMS), orders_app.test_client()
    response = _customer(client, auth, invoicing={"invoice_type": "special", "title": "ACME",
                                                  "taxpayer_id": "91440300708461136X"})
    assert response.status_code == 422 and response.json["code"] == "invoicing_invalid"
    errors = response.json["errors"]
    assert set(errors) == {"invoicing.taxpayer_id", "invoicing.address", "invoicing.phone", "invoicing.bank",
                           "invoicing.account"}
    assert "last character does not match" in errors["invoicing.taxpayer_id"][0]
    assert client.get(f"{API}/customers", headers=auth).json["total"] == 0
    response = _customer(client, auth, invoicing={"invoice_type": "fapiao", "phone": "call me", "extra": 1})
    assert response.status_code == 422
    assert {"invoicing.invoice_type", "invoicing.phone", "invoicing.extra"} <= set(response.json["errors"])
    url = _customer(client, auth, invoicing=TENCENT).headers["Location"]
    response = client.patch(url, json={"name": "New name", "invoicing": {"account": ""}}, headers=auth)
    assert response.status_code == 422 and list(response.json["errors"]) == ["invoicing.account"]
    body = client.get(url, headers=auth).json
    assert body["name"] == "Tencent" and body["invoicing"]["account"] == TENCENT["account"]


def test_customer_list_loads_invoicing_without_a_query_per_customer(orders_app):
    auth, client = token_for(orders_app, ALL_ORDER_PERMS), orders_app.test_client()
    for index in range(3):
        _customer(client, auth, name=f"C{index}", invoicing=dict(TENCENT, invoice_type="ordinary"))
    with orders_app.app_context(), QueryCounter(db.engine) as few:
        assert len(client.get(f"{API}/customers", headers=auth).json["items"]) == 3
    for index in range(3, 9):
        _customer(client, auth, name=f"C{index}", invoicing=dict(TENCENT, invoice_type="ordinary"))
    with orders_app.app_context(), QueryCounter(db.engine) as many:
        items = client.get(f"{API}/customers", headers=auth).json["items"]
    assert len(items) == 9 and all(i["invoicing"]["invoice_type"] == "ordinary" for i in items)
    assert many.count == few.count


def test_orders_return_their_copy_and_change_it_on_their_own_endpoint(orders_app):
    auth, client = token_for(orders_app, ALL_ORDER_PERMS), orders_app.test_client()
    customer = _customer(client, auth, invoicing=TENCENT).json
    order = _order(client, auth, customer["id"]).json
    assert order["invoicing"] == TENCENT
    client.patch(f"{API}/customers/{customer['id']}", json={"invoicing": {"title": "Renamed"}}, headers=auth)
    assert client.get(f"{API}/orders/{order['id']}", headers=auth).json["invoicing"]["title"] == TENCENT["title"]
    url = f"{API}/orders/{order['id']}/invoicing"
    got = client.get(url, headers=auth)
    assert got.status_code == 200 and got.json == dict(TENCENT, order_id=order["id"], version=order["version"])
    put = client.put(url, json={"invoice_type": "ordinary", "title": "王芳", "version": order["version"]},
                     headers=auth)
    assert put.status_code == 200
    assert put.json == dict(EMPTY, title="王芳", invoice_type="ordinary", order_id=order["id"],
                            version=order["version"] + 1)
    stale = client.put(url, json={"invoice_type": "none", "version": order["version"]}, headers=auth)
    assert stale.status_code == 409 and stale.json["code"] == "stale"
    bad = client.put(url, json={"invoice_type": "special", "title": "X"}, headers=auth)
    assert bad.status_code == 422 and "bank" in bad.json["errors"]
    assert client.get(url, headers=auth).json["title"] == "王芳"
    for method, path, response in (("get", "/api/v1/orders/{order_id}/invoicing", got),
                                   ("put", "/api/v1/orders/{order_id}/invoicing", put),
                                   ("get", "/api/v1/orders/{order_id}", client.get(f"{API}/orders/{order['id']}",
                                                                                  headers=auth))):
        assert_documented(orders_app, method, path, response)


def test_a_cancelled_order_keeps_its_details(orders_app):
    auth, client = token_for(orders_app, ALL_ORDER_PERMS), orders_app.test_client()
    order = _order(client, auth, _customer(client, auth, invoicing=TENCENT).json["id"]).json
    client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "cancel", "note": "twice"}, headers=auth)
    response = client.put(f"{API}/orders/{order['id']}/invoicing", json={"invoice_type": "none"}, headers=auth)
    assert response.status_code == 409 and response.json["code"] == "invoicing_locked"


def test_permissions(orders_app):
    admin, client = token_for(orders_app, ALL_ORDER_PERMS), orders_app.test_client()
    order = _order(client, admin, _customer(client, admin, invoicing=TENCENT).json["id"]).json
    url = f"{API}/orders/{order['id']}/invoicing"
    viewer = token_for(orders_app, ["orders.view"])
    assert client.get(url, headers=viewer).status_code == 200
    assert client.put(url, json={"invoice_type": "none"}, headers=viewer).status_code == 403
    assert client.get(url, headers=token_for(orders_app, ["orders.customers.view"])).status_code == 403
    assert client.get(url).status_code == 401
    assert client.get(f"{API}/orders/999999/invoicing", headers=admin).status_code == 404
