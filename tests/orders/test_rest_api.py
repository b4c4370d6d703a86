"""The JSON API of orders (/api/v1): customers, products, orders and transitions."""

import pytest
from sqlalchemy import func, select

from erp_core.api.tokens import create_token
from erp_core.auth.models import User
from erp_core.extensions import db
from erp_core.plugins import switch_plugin
from plugins.orders import services
from plugins.orders.models import Customer, Order, Product
from tests.core.test_api_conformance import run_conformance
from tests.helpers import QueryCounter, make_user
from tests.orders import spy_plugin as spy
from tests.orders.conftest import ALL_ORDER_PERMS, make_catalogue

API = "/api/v1"


def token_for(app, perms=(), roles=()) -> dict:
    """Authorization headers of a new user's personal token."""
    user_id = make_user(app, perms=list(perms), roles=list(roles))
    with app.app_context():
        _row, clear = create_token(db.session.get(User, user_id), "test")
        db.session.commit()
    return {"Authorization": f"Bearer {clear}"}


@pytest.fixture
def auth(orders_app):
    return token_for(orders_app, ALL_ORDER_PERMS)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def order_body(catalogue, **fields) -> dict:
    body = {"customer_id": catalogue.customer_id, "contact_name": "Li Lei", "contact_phone": "138 0013 8000",
            "ship_line1": "1 Main Road", "ship_city": "Shanghai",
            "lines": [{"product_id": catalogue.pen_id, "quantity": 2},
                      {"product_id": catalogue.ink_id, "quantity": 3, "unit_price": "10.50", "discount": "5"}]}
    body.update(fields)
    return body


def _create(client, catalogue, auth, **fields):
    response = client.post(f"{API}/orders", json=order_body(catalogue, **fields), headers=auth)
    assert response.status_code == 201, response.json
    return response.json


# ----------------------------------------------------------------------------- access


ENDPOINTS = [
    ("get", "/customers", None, "orders.customers.view"),
    ("post", "/customers", {"name": "X"}, "orders.customers.edit"),
    ("get", "/customers/{customer}", None, "orders.customers.view"),
    ("patch", "/customers/{customer}", {"name": "X"}, "orders.customers.edit"),
    ("get", "/customers/{customer}/addresses", None, "orders.customers.view"),
    ("post", "/customers/{customer}/addresses", {"line1": "x"}, "orders.customers.edit"),
    ("get", "/customers/{customer}/addresses/{address}", None, "orders.customers.view"),
    ("patch", "/customers/{customer}/addresses/{address}", {"city": "x"}, "orders.customers.edit"),
    ("delete", "/customers/{customer}/addresses/{address}", None, "orders.customers.edit"),
    ("get", "/products", None, "orders.products.view"),
    ("post", "/products", {"sku": "X", "name": "X", "price_minor": 1}, "orders.products.edit"),
    ("get", "/products/{pen}", None, "orders.products.view"),
    ("patch", "/products/{pen}", {"name": "X"}, "orders.products.edit"),
    ("get", "/orders", None, "orders.view"),
    ("post", "/orders", "order", "orders.create"),
    ("get", "/orders/{order}", None, "orders.view"),
    ("patch", "/orders/{order}", {"version": 1, "notes": "x"}, "orders.edit"),
    ("post", "/orders/{order}/transitions", {"action": "confirm"}, "orders.view"),
]


def _urls(app, catalogue, auth):
    client = app.test_client()
    order = _create(client, catalogue, auth)
    with app.app_context():
        address_id = db.session.get(Customer, catalogue.customer_id).addresses[0].id
    return {"customer": catalogue.customer_id, "address": address_id, "pen": catalogue.pen_id, "order": order["id"]}


def test_every_endpoint_needs_a_token_and_its_permission(orders_app, catalogue, auth):
    ids = _urls(orders_app, catalogue, auth)
    client = orders_app.test_client()
    # a user holding every orders permission but the one each endpoint needs
    for method, path, body, permission in ENDPOINTS:
        url = API + path.format(**ids)
        json = order_body(catalogue) if body == "order" else body
        anonymous = getattr(client, method)(url, json=json)
        assert anonymous.status_code == 401 and anonymous.mimetype == "application/problem+json", url
        others = token_for(orders_app, [p for p in ALL_ORDER_PERMS if p != permission])
        refused = getattr(client, method)(url, json=json, headers=others)
        assert refused.status_code == 403 and refused.json["code"] == "forbidden", (method, url)
    with orders_app.app_context():
        assert db.session.scalar(select(Order.status)) == "draft"
        assert db.session.get(Customer, catalogue.customer_id).name == "Li Lei"


def test_a_transition_needs_the_permission_of_its_action(orders_app, catalogue, auth):
    client = orders_app.test_client()
    order = _create(client, catalogue, auth)
    viewer = token_for(orders_app, ["orders.view"])
    response = client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm"}, headers=viewer)
    assert response.status_code == 403
    confirmer = token_for(orders_app, ["orders.view", "orders.confirm"])
    response = client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm"}, headers=confirmer)
    assert response.status_code == 200 and response.json["status"] == "confirmed"
    assert response.json["actions"] == ["unconfirm"]  # cancel needs orders.cancel, which it lacks


# ----------------------------------------------------------------------------- orders


def test_create_an_order_with_the_exact_contract(orders_app, catalogue, auth):
    client = orders_app.test_client()
    response = client.post(f"{API}/orders", json=order_body(catalogue, notes="Ring twice", currency="CNY"),
                           headers=auth)
    assert response.status_code == 201
    body = response.json
    assert response.headers["Location"].endswith(f"/api/v1/orders/{body['id']}")
    assert body["status"] == "draft" and body["version"] == 1 and body["number"].startswith("SO-")
    assert body["currency"] == "CNY" and body["customer_id"] == catalogue.customer_id
    # 2 x 348.35 + 3 x 10.50 less 5% = 696.70 + 29.93 (31.50 - 1.575 rounded half-up)
    assert body["subtotal_minor"] == 69670 + 3150 and body["total_minor"] == 69670 + 2993
    assert body["discount_minor"] == 3150 - 2993
    pen, ink = body["lines"]
    assert pen == {"id": pen["id"], "product_id": catalogue.pen_id, "sku": "PEN-1", "name": "Pen", "spec": "blue",
                   "unit": "box", "quantity": 2, "cancelled_quantity": 0, "unit_price_minor": 34835, "discount_percent": "0.00",
                   "line_total_minor": 69670, "tax_rate": "0", "net_minor": 69670, "tax_minor": 0,
                   "gross_minor": 69670, "discount_minor": 0, "order_discount_minor": 0}
    assert ink["unit_price_minor"] == 1050 and ink["discount_percent"] == "5.00"
    assert body["actions"] == ["confirm", "cancel"]
    assert body["contact_name"] == "Li Lei" and body["ship_line1"] == "1 Main Road" and body["notes"] == "Ring twice"
    assert body["created_at"] and body["confirmed_at"] is None
    assert client.get(response.headers["Location"], headers=auth).json == body


def test_currency_defaults_to_the_company_currency_and_catalogue_prices(orders_app, catalogue, auth):
    body = _create(orders_app.test_client(), catalogue, auth,
                   lines=[{"product_id": catalogue.pen_id, "quantity": 1}])
    assert body["currency"] == "CNY" and body["total_minor"] == 34835


def test_the_services_rules_hold_on_the_api(orders_app, catalogue, auth):
    client = orders_app.test_client()
    # a USD product without a price in the order's currency: the same refusal as on the page
    response = client.post(f"{API}/orders", json=order_body(
        catalogue, lines=[{"product_id": catalogue.usd_id, "quantity": 1}]), headers=auth)
    assert response.status_code == 422 and response.json["code"] == "order_invalid"
    assert "priced in USD" in response.json["errors"]["lines.0.unit_price"][0]
    # too many decimals for the currency
    response = client.post(f"{API}/orders", json=order_body(
        catalogue, currency="JPY", lines=[{"product_id": catalogue.jpy_id, "quantity": 1, "unit_price": "1.5"}]),
        headers=auth)
    assert response.status_code == 422 and "JPY has 0 decimals" in response.json["errors"]["lines.0.unit_price"][0]
    assert _count(orders_app, Order) == 0


def test_unknown_references_are_not_found(orders_app, catalogue, auth):
    client = orders_app.test_client()
    response = client.post(f"{API}/orders", json=order_body(catalogue, customer_id=999), headers=auth)
    assert response.status_code == 404 and response.json["errors"] == {"customer_id": ["No such customer."]}
    response = client.post(f"{API}/orders", json=order_body(
        catalogue, lines=[{"product_id": catalogue.pen_id, "quantity": 1}, {"product_id": 999, "quantity": 1}]),
        headers=auth)
    assert response.status_code == 404 and list(response.json["errors"]) == ["lines.1.product_id"]
    assert client.get(f"{API}/orders/999", headers=auth).status_code == 404
    assert client.get(f"{API}/orders/99999999999", headers=auth).status_code == 404
    assert _count(orders_app, Order) == 0


@pytest.mark.parametrize("lang, detail, required", [
    ("en", "Some values cannot be used.", "This field is required."),
    ("zh-CN", "部分数值无法使用。", "此项为必填项。"),
])
def test_validation_errors_are_problem_json_in_the_asked_language(orders_app, catalogue, auth, lang, detail,
                                                                 required):
    client = orders_app.test_client()
    headers = {**auth, "Accept-Language": lang}
    body = order_body(catalogue)
    del body["ship_line1"]
    body["lines"][0]["quantity"] = 0
    body["lines"][1]["discount"] = "150"
    response = client.post(f"{API}/orders", json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["code"] == "unprocessable" and problem["detail"] == detail
    assert problem["errors"]["ship_line1"] == [required]
    assert set(problem["errors"]) == {"ship_line1", "lines.0.quantity", "lines.1.discount"}
    # a refusal of the services comes in the asked language too
    response = client.post(f"{API}/orders", json=order_body(catalogue, customer_id=999), headers=headers)
    assert response.json["detail"] == ("No such customer." if lang == "en" else "客户不存在。")
    assert _count(orders_app, Order) == 0


def test_unknown_fields_and_wrong_types_are_refused(orders_app, catalogue, auth):
    client = orders_app.test_client()
    response = client.post(f"{API}/orders", json={**order_body(catalogue), "total_minor": 1, "customer_id": "x"},
                           headers=auth)
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"total_minor", "customer_id"}
    assert client.post(f"{API}/orders", data="not json", headers=auth).status_code in (400, 415, 422)


def test_idempotent_create_replays_the_first_answer(orders_app, catalogue, auth):
    client = orders_app.test_client()
    headers = {**auth, "Idempotency-Key": "order-42"}
    first = client.post(f"{API}/orders", json=order_body(catalogue), headers=headers)
    again = client.post(f"{API}/orders", json=order_body(catalogue), headers=headers)
    assert first.status_code == again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert first.json == again.json and first.headers["Location"] == again.headers["Location"]
    assert _count(orders_app, Order) == 1
    other = client.post(f"{API}/orders", json=order_body(catalogue, notes="else"), headers=headers)
    assert other.status_code == 422 and _count(orders_app, Order) == 1


def test_list_orders_with_the_filters_of_the_page(orders_app, catalogue, auth):
    client = orders_app.test_client()
    first = _create(client, catalogue, auth)
    second = _create(client, catalogue, auth, contact_name="Wang Fang")
    client.post(f"{API}/orders/{second['id']}/transitions", json={"action": "confirm"}, headers=auth)
    listed = client.get(f"{API}/orders?status=confirmed", headers=auth).json
    assert [o["id"] for o in listed["items"]] == [second["id"]] and listed["total"] == 1
    assert listed["items"][0]["customer_name"] == "Li Lei" and "lines" not in listed["items"][0]
    assert [o["id"] for o in client.get(f"{API}/orders?q=wang", headers=auth).json["items"]] == [second["id"]]
    assert [o["id"] for o in client.get(f"{API}/orders?sort=id", headers=auth).json["items"]] == [first["id"],
                                                                                                 second["id"]]
    assert client.get(f"{API}/orders?from=2000-01-01&to=2999-01-01&status=open", headers=auth).json["total"] == 2
    assert client.get(f"{API}/orders?to=2000-01-01", headers=auth).json["total"] == 0
    page = client.get(f"{API}/orders?per_page=1&sort=id", headers=auth)
    assert page.json["links"]["next"] and 'rel="next"' in page.headers["Link"]
    bad = client.get(f"{API}/orders?status=lost&from=yesterday", headers=auth)
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"status", "from"}


def test_lists_run_a_fixed_number_of_statements(orders_app, catalogue, auth):
    client = orders_app.test_client()
    _create(client, catalogue, auth)
    for url in ("/orders", "/customers", "/products"):
        client.get(API + url, headers=auth)  # warm caches
    with orders_app.app_context():
        engine = db.engine
    counts = {}
    for url in ("/orders", "/customers", "/products"):
        with QueryCounter(engine) as few:
            assert client.get(API + url, headers=auth).status_code == 200
        counts[url] = few.count
    with orders_app.test_request_context():
        for i in range(30):
            customer = services.create_customer(f"Customer {i}", address={"line1": f"{i} Road"})
            services.add_address(customer, {"line1": f"{i} Other Road"})
            product = services.create_product(f"BULK-{i}", "Bulk", "1", "CNY")
            services.create_order(services.OrderInput(customer_id=customer.id, ship_line1="x",
                                                      lines=[services.LineInput(product.id, 1)]))
        db.session.commit()
    for url in ("/orders", "/customers", "/products"):
        with QueryCounter(engine) as many:
            body = client.get(API + url, headers=auth).json
        assert len(body["items"]) == 25
        assert many.count == counts[url], (url, many.statements)


def test_change_lines_after_confirmation_with_the_version(orders_app, catalogue, auth):
    client = orders_app.test_client()
    order = _create(client, catalogue, auth)
    confirmed = client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm", "version": 1},
                            headers=auth).json
    assert confirmed["status"] == "confirmed" and confirmed["version"] == 2 and confirmed["confirmed_at"]
    pen, ink = confirmed["lines"]
    change = {"version": 2, "ship_city": "Beijing",
              "lines": [{"id": pen["id"], "product_id": catalogue.pen_id, "quantity": 5},
                        {"product_id": catalogue.ink_id, "quantity": 1}]}
    response = client.patch(f"{API}/orders/{order['id']}", json=change, headers=auth)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["version"] == 3 and body["ship_city"] == "Beijing" and body["ship_line1"] == "1 Main Road"
    assert [(l["sku"], l["quantity"], l["unit_price_minor"]) for l in body["lines"]] == [("PEN-1", 5, 34835),
                                                                                         ("INK-1", 1, 1200)]
    assert body["lines"][0]["id"] == pen["id"] and len(body["lines"]) == 2
    # the same (now stale) version again: refused, nothing changes
    stale = client.patch(f"{API}/orders/{order['id']}", json={**change, "ship_city": "Xi'an"}, headers=auth)
    assert stale.status_code == 409 and stale.json["code"] == "stale"
    assert client.get(f"{API}/orders/{order['id']}", headers=auth).json["ship_city"] == "Beijing"
    # header only: the lines stay as they are (kept line keeps its price and discount)
    notes = client.patch(f"{API}/orders/{order['id']}", json={"version": 3, "notes": "gift"}, headers=auth).json
    assert notes["notes"] == "gift" and notes["lines"] == body["lines"] and notes["version"] == 4
    # the customer of a confirmed order stays
    other = client.post(f"{API}/customers", json={"name": "Zhao"}, headers=auth).json
    locked = client.patch(f"{API}/orders/{order['id']}", json={"version": 4, "customer_id": other["id"]},
                          headers=auth)
    assert locked.status_code == 409 and locked.json["errors"] == {"customer_id": [locked.json["detail"]]}


def test_shipped_orders_cannot_be_changed(orders_app, catalogue, auth):
    client = orders_app.test_client()
    order = _create(client, catalogue, auth)
    for action in ("confirm", "mark_shipped"):
        assert client.post(f"{API}/orders/{order['id']}/transitions", json={"action": action},
                           headers=auth).status_code == 200
    response = client.patch(f"{API}/orders/{order['id']}", json={"version": 3, "notes": "late"}, headers=auth)
    assert response.status_code == 409 and "can no longer be changed" in response.json["detail"]


def test_forbidden_transition_and_cancel_without_reason(orders_app, catalogue, auth):
    client = orders_app.test_client()
    order = _create(client, catalogue, auth)
    url = f"{API}/orders/{order['id']}/transitions"
    refused = client.post(url, json={"action": "complete"}, headers=auth)
    assert refused.status_code == 409 and refused.json["code"] == "transition_refused"
    assert refused.json["detail"] == "An order that is Draft cannot become Completed."
    chinese = client.post(url, json={"action": "complete"}, headers={**auth, "Accept-Language": "zh-CN"})
    assert chinese.status_code == 409 and chinese.json["detail"] != refused.json["detail"]
    no_reason = client.post(url, json={"action": "cancel"}, headers=auth)
    assert no_reason.status_code == 422 and no_reason.json["code"] == "reason_required"
    assert "note" in no_reason.json["errors"]
    unknown = client.post(url, json={"action": "explode"}, headers=auth)
    assert unknown.status_code == 422 and "action" in unknown.json["errors"]
    stale = client.post(url, json={"action": "confirm", "version": 7}, headers=auth)
    assert stale.status_code == 409 and stale.json["code"] == "stale"
    cancelled = client.post(url, json={"action": "cancel", "note": "customer changed mind"}, headers=auth)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["actions"] == ["reopen"]


def test_a_veto_of_another_plugin_is_a_409_with_its_messages(spy_app):
    catalogue = make_catalogue(spy_app)
    auth = token_for(spy_app, ALL_ORDER_PERMS)
    client = spy_app.test_client()
    order = _create(client, catalogue, auth)
    spy.BEHAVIOUR["validate"] = lambda order, old, new: ["The spy objects."] if new == "confirmed" else []
    response = client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm"}, headers=auth)
    assert response.status_code == 409 and response.json["code"] == "transition_vetoed"
    assert response.json["errors"] == {"_": ["The spy objects."]}
    assert client.get(f"{API}/orders/{order['id']}", headers=auth).json["status"] == "draft"


def test_confirm_works_without_inventory(orders_app, catalogue, auth):
    client = orders_app.test_client()
    order = _create(client, catalogue, auth, lines=[{"product_id": catalogue.pen_id, "quantity": 500}])
    response = client.post(f"{API}/orders/{order['id']}/transitions", json={"action": "confirm"}, headers=auth)
    assert response.status_code == 200 and response.json["status"] == "confirmed"


def test_writes_answer_inside_their_one_transaction(orders_app, catalogue, auth):
    """Create and confirm each run one database transaction (on SQLite one BEGIN IMMEDIATE):
    the answer is built before the commit, and the request log does not reload the user; the
    token, its user, roles and grants come in one statement."""
    from sqlalchemy import event

    client = orders_app.test_client()
    _create(client, catalogue, auth)  # warm caches
    with orders_app.app_context():
        engine = db.engine
    begins = []

    def began(conn):
        begins.append(conn)

    event.listen(engine, "begin", began)
    try:
        with QueryCounter(engine) as create_sql:
            created = _create(client, catalogue, auth)
        created_begins = len(begins)
        begins.clear()
        confirmed = client.post(f"{API}/orders/{created['id']}/transitions", json={"action": "confirm"},
                                headers=auth)
        confirm_begins = len(begins)
    finally:
        event.remove(engine, "begin", began)
    assert created_begins == 1 and confirm_begins == 1
    sign_in = [s for s in create_sql.statements if "core_user" in s or "core_role" in s]
    assert len(sign_in) == 1 and "core_api_token" in sign_in[0]
    assert confirmed.status_code == 200, confirmed.json
    assert confirmed.json["status"] == "confirmed" and confirmed.json["version"] == created["version"] + 1
    assert "cancel" in confirmed.json["actions"] and "confirm" not in confirmed.json["actions"]
    assert [line["quantity"] for line in confirmed.json["lines"]] == [2, 3]
    assert client.get(f"{API}/orders/{created['id']}", headers=auth).json == confirmed.json


# ----------------------------------------------------------------------------- customers and products


def test_customers_and_addresses(orders_app, catalogue, auth):
    client = orders_app.test_client()
    created = client.post(f"{API}/customers", json={
        "name": "Wang Fang", "phone": "+86 139 0000 1111", "email": "Wang@Example.com",
        "address": {"line1": "9 Lake Road", "city": "Hangzhou"}}, headers=auth)
    assert created.status_code == 201
    customer = created.json
    assert customer["email"] == "wang@example.com" and customer["addresses"][0]["is_default"] is True
    assert created.headers["Location"].endswith(f"/customers/{customer['id']}")
    # the page's duplicate check: same phone -> 409 unless confirmed
    duplicate = client.post(f"{API}/customers", json={"name": "Fang W.", "phone": "+86 139-0000-1111"},
                            headers=auth)
    assert duplicate.status_code == 409 and duplicate.json["code"] == "possible_duplicate"
    assert client.post(f"{API}/customers", json={"name": "Fang W.", "phone": "+86 139-0000-1111",
                                                 "confirm_duplicate": True}, headers=auth).status_code == 201
    found = client.get(f"{API}/customers?q=wang", headers=auth).json
    assert [c["name"] for c in found["items"]] == ["Wang Fang"]
    patched = client.patch(f"{API}/customers/{customer['id']}", json={"notes": "VIP"}, headers=auth).json
    assert patched["notes"] == "VIP" and patched["name"] == "Wang Fang" and patched["phone"] == "+86 139 0000 1111"
    bad = client.patch(f"{API}/customers/{customer['id']}", json={"email": "not-an-email"},
                       headers={**auth, "Accept-Language": "zh-CN"})
    assert bad.status_code == 422 and "email" in bad.json["errors"]
    addresses = f"{API}/customers/{customer['id']}/addresses"
    second = client.post(addresses, json={"line1": "1 Office Park", "is_default": True}, headers=auth)
    assert second.status_code == 201 and second.json["is_default"] is True
    listed = client.get(addresses, headers=auth).json
    assert [(a["line1"], a["is_default"]) for a in listed] == [("9 Lake Road", False), ("1 Office Park", True)]
    changed = client.patch(f"{addresses}/{listed[0]['id']}", json={"postcode": "310000"}, headers=auth).json
    assert changed["postcode"] == "310000" and changed["line1"] == "9 Lake Road"
    assert client.delete(f"{addresses}/{second.json['id']}", headers=auth).status_code == 204
    assert client.get(f"{addresses}/{second.json['id']}", headers=auth).status_code == 404
    assert client.get(addresses, headers=auth).json[0]["is_default"] is True
    # another customer's address is not reachable through this one
    other = client.get(f"{API}/customers/{catalogue.customer_id}/addresses", headers=auth).json[0]
    assert client.get(f"{addresses}/{other['id']}", headers=auth).status_code == 404


def test_products(orders_app, catalogue, auth):
    client = orders_app.test_client()
    created = client.post(f"{API}/products", json={"sku": "cup-9", "name": "Cup", "price_minor": 1250},
                          headers={**auth, "Idempotency-Key": "cup"})
    assert created.status_code == 201
    product = created.json
    assert product["sku"] == "CUP-9" and product["price"] == "12.50" and product["currency"] == "CNY"
    again = client.post(f"{API}/products", json={"sku": "cup-9", "name": "Cup", "price_minor": 1250},
                        headers={**auth, "Idempotency-Key": "cup"})
    assert again.json == product and _count(orders_app, Product) == 6
    clash = client.post(f"{API}/products", json={"sku": "PEN-1", "name": "Pen", "price_minor": 1}, headers=auth)
    assert clash.status_code == 409 and "already used" in clash.json["detail"]
    patched = client.patch(f"{API}/products/{product['id']}", json={"active": False, "price_minor": 990},
                           headers=auth).json
    assert patched["active"] is False and patched["price"] == "9.90" and patched["name"] == "Cup"
    assert [p["sku"] for p in client.get(f"{API}/products?active=false", headers=auth).json["items"]] == ["CUP-9"]
    assert client.get(f"{API}/products?q=cup&active=true", headers=auth).json["total"] == 0
    # a retired product cannot be ordered at its catalogue price, as on the page
    response = client.post(f"{API}/orders", json=order_body(
        catalogue, lines=[{"product_id": product["id"], "quantity": 1}]), headers=auth)
    assert response.status_code == 422 and "no longer sold" in response.json["errors"]["lines.0.product_id"][0]


# ----------------------------------------------------------------------------- switched off, conformance


def test_endpoints_vanish_when_the_plugin_is_off(make_app):
    app = make_app(plugins=["orders"])
    auth = token_for(app, roles=["admin"])
    client = app.test_client()
    assert "/api/v1/orders" in client.get(f"{API}/openapi.json").json["paths"]
    assert client.get(f"{API}/orders", headers=auth).status_code == 200
    with app.app_context():
        switch_plugin("orders", False)
        db.session.commit()
    paths = client.get(f"{API}/openapi.json").json["paths"]
    assert not [p for p in paths if p.startswith(("/api/v1/orders", "/api/v1/customers", "/api/v1/products"))]
    for url in ("/orders", "/orders/1", "/customers", "/products/1"):
        assert client.get(API + url, headers=auth).status_code == 404, url
    assert client.post(f"{API}/orders", json={}, headers=auth).status_code == 404


def _seed_out_of_reach(app):
    """A customer and a product with ids schemathesis will not draw, and draft order 1 using them,
    so that generated orders never meet a real product (whose currency or state could rightly
    refuse a schema-valid request) while order 1's edits and transitions are exercised."""
    with app.test_request_context():
        db.session.add(Customer(id=1_234_567, name="Far Away", name_key="far away"))
        db.session.add(Product(id=1_234_577, sku="FAR-1", name="Far", name_key="far", price_minor=100,
                               currency="CNY"))
        db.session.flush()
        services.create_order(services.OrderInput(customer_id=1_234_567, ship_line1="1 Road",
                                                  lines=[services.LineInput(1_234_577, 1)]))
        db.session.commit()


def test_orders_api_conforms_to_its_schema(make_app):
    # Customers and products, by a user who may not enter orders (so the orders generated
    # never meet the products generated).
    app = make_app(plugins=["orders"])
    catalogue_perms = [p for p in ALL_ORDER_PERMS if p not in ("orders.create", "orders.edit")]
    user_id = make_user(app, perms=catalogue_perms)
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "schemathesis")
        db.session.commit()
    assert run_conformance(app, token) == []


def test_order_entry_api_conforms_to_its_schema(make_app):
    # Orders, edits and transitions by a clerk who may not change the catalogue or cancel.
    app = make_app(plugins=["orders"])
    _seed_out_of_reach(app)
    clerk_perms = ["orders.view", "orders.create", "orders.edit", "orders.confirm", "orders.customers.view",
                   "orders.products.view"]
    user_id = make_user(app, perms=clerk_perms)
    with app.app_context():
        _row, token = create_token(db.session.get(User, user_id), "schemathesis")
        db.session.commit()
    assert run_conformance(app, token) == []


def test_the_schema_patterns_agree_with_the_services(orders_app):
    """What the OpenAPI document promises (patterns) the services accept: phone and e-mail."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from erp_core.api.schemas import EMAIL, PHONE

    @given(email=st.from_regex(EMAIL, fullmatch=True), phone=st.from_regex(PHONE, fullmatch=True))
    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(email, phone):
        if len(email) <= 200:  # the schema's maxLength
            services.normalise_email(email)
        if len(phone) <= 40:
            services.check_phone(phone)

    with orders_app.test_request_context():
        check()
        for email in ("li.lei+shop@mail.example.com.cn", "first.middle.last@my-shop-online.com"):
            assert services.normalise_email(email) == email


def test_names_that_grow_when_lower_cased_are_stored(orders_app, auth):
    client = orders_app.test_client()
    name = "İ" * 200  # lower-cased it is 400 characters; the search key keeps 200
    customer = client.post(f"{API}/customers", json={"name": name}, headers=auth)
    assert customer.status_code == 201 and customer.json["name"] == name
    product = client.post(f"{API}/products", json={"sku": "I-1", "name": name, "price_minor": 1}, headers=auth)
    assert product.status_code == 201
    assert client.patch(f"{API}/products/{product.json['id']}", json={"name": name + ""}, headers=auth).status_code == 200


def assert_documented(app, method: str, path: str, response) -> None:
    """The response (status, content type, headers, body) is what the OpenAPI document says.

    Schemathesis' random ids rarely meet a real record, so the success answers of single
    records are checked here, on real ones."""
    import schemathesis

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema[path][method.upper()].validate_response(response)


def test_success_answers_match_the_openapi_document(orders_app, catalogue, auth):
    client = orders_app.test_client()
    checks = []

    def call(method, template, json=None, **ids):
        response = getattr(client, method)(API + template.format(**ids), json=json, headers=auth)
        checks.append((method, "/api/v1" + template, response))
        return response

    order = call("post", "/orders", order_body(catalogue)).json
    call("get", "/orders/{order_id}", order_id=order["id"])
    call("patch", "/orders/{order_id}", {"version": 1, "notes": "x"}, order_id=order["id"])
    call("post", "/orders/{order_id}/transitions", {"action": "confirm"}, order_id=order["id"])
    call("post", "/orders/{order_id}/transitions", {"action": "confirm"}, order_id=order["id"])  # 409
    call("get", "/orders")
    customer = call("post", "/customers", {"name": "Qian", "address": {"line1": "2 Road"}}).json
    call("get", "/customers/{customer_id}", customer_id=customer["id"])
    call("patch", "/customers/{customer_id}", {"notes": "n"}, customer_id=customer["id"])
    call("get", "/customers/{customer_id}/addresses", customer_id=customer["id"])
    address = call("post", "/customers/{customer_id}/addresses", {"line1": "3 Road"},
                   customer_id=customer["id"]).json
    ids = {"customer_id": customer["id"], "address_id": address["id"]}
    call("get", "/customers/{customer_id}/addresses/{address_id}", **ids)
    call("patch", "/customers/{customer_id}/addresses/{address_id}", {"city": "Suzhou"}, **ids)
    call("delete", "/customers/{customer_id}/addresses/{address_id}", **ids)
    product = call("post", "/products", {"sku": "NEW-1", "name": "New", "price_minor": 5}).json
    call("get", "/products/{product_id}", product_id=product["id"])
    call("patch", "/products/{product_id}", {"price_minor": 6}, product_id=product["id"])
    assert [r.status_code for _m, _p, r in checks] == [201, 200, 200, 200, 409, 200, 201, 200, 200, 200, 201,
                                                       200, 200, 204, 201, 200, 200]
    for method, path, response in checks:
        assert_documented(orders_app, method, path, response)
