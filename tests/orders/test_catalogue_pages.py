"""Customers (with addresses), products, the pickers' JSON searches and the dashboard cards."""

import re

from sqlalchemy import func, select

from erp_core.extensions import db
from erp_core.models import AuditLog
from plugins.orders import services, states
from plugins.orders.models import Address, Customer, Product
from plugins.orders.services import LineInput, OrderInput
from tests.helpers import QueryCounter
from tests.orders.conftest import client_with


def _count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# ----------------------------------------------------------------------------- customers


def test_create_customer_with_address_and_duplicate_warning(orders_app, staff):
    data = {"name": "Li Lei", "phone": "138 0013 8000", "email": "LiLei@Example.com", "notes": "VIP",
            "label": "Home", "line1": "1 Main Road", "city": "Shanghai", "country": "cn"}
    response = staff.post("/orders/customers/new", data=data)
    assert response.status_code == 302
    with orders_app.app_context():
        customer = db.session.scalars(select(Customer)).one()
        assert customer.email == "lilei@example.com" and customer.phone_key == "13800138000"
        assert customer.default_address.line1 == "1 Main Road" and customer.default_address.country == "CN"
    same = dict(data, name="L. Lei", phone="", email="lilei@example.com")
    response = staff.post("/orders/customers/new", data=same)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "same phone or e-mail already exists" in page and "Li Lei" in page
    assert _count(orders_app, Customer) == 1
    response = staff.post("/orders/customers/new", data=dict(same, confirm_duplicate="y"))
    assert response.status_code == 302 and _count(orders_app, Customer) == 2


def test_customer_bad_input(orders_app, staff):
    for data, message in (({"name": " "}, "This field is required"),
                          ({"name": "X", "email": "nope"}, "not a valid e-mail address"),
                          ({"name": "X", "phone": "call me"}, "is not a phone number"),
                          ({"name": "X", "line1": "Road", "country": "C1"}, "two-letter code")):
        response = staff.post("/orders/customers/new", data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), message
    assert _count(orders_app, Customer) == 0


def test_customer_search_list_and_page(orders_app, staff):
    with orders_app.test_request_context():
        li = services.create_customer("Li Lei", "138 0013 8000", "lilei@example.com")
        services.create_customer("Han Meimei", "137 0000 1111", "han@example.com")
        product = services.create_product("P-1", "P", "1", "CNY")
        services.create_order(OrderInput(customer_id=li.id, ship_line1="x", lines=[LineInput(product.id, 1)]))
        db.session.commit()
        li_id = li.id
    for query, names in (("li", ["Li Lei"]), ("0013", ["Li Lei"]), ("HAN@", ["Han Meimei"]), ("", ["Han Meimei", "Li Lei"])):
        page = staff.get("/orders/customers/?q=" + query).get_data(as_text=True)
        assert [n for n in ("Han Meimei", "Li Lei") if n in page] == names, query
    page = staff.get(f"/orders/customers/{li_id}").get_data(as_text=True)
    assert "SO-" in page and "lilei@example.com" in page and "Created" in page


def test_addresses_add_default_edit_remove(orders_app, staff):
    with orders_app.test_request_context():
        customer = services.create_customer("Li Lei", address={"line1": "First Road"})
        db.session.commit()
        cid = customer.id
    assert staff.post(f"/orders/customers/{cid}/addresses/new",
                      data={"label": "Office", "line1": "Second Road", "is_default": "y"}).status_code == 302
    with orders_app.app_context():
        first, second = db.session.scalars(select(Address).order_by(Address.id)).all()
        assert second.is_default and not first.is_default
    assert staff.post(f"/orders/customers/{cid}/addresses/{first.id}/default").status_code == 302
    assert staff.post(f"/orders/customers/{cid}/addresses/{second.id}",
                      data={"label": "Office", "line1": "Third Road"}).status_code == 302
    response = staff.post(f"/orders/customers/{cid}/addresses/{second.id}", data={"line1": ""})
    assert response.status_code == 422
    assert staff.post(f"/orders/customers/{cid}/addresses/{first.id}/delete").status_code == 302
    with orders_app.app_context():
        remaining = db.session.scalars(select(Address)).one()
        assert remaining.line1 == "Third Road" and remaining.is_default  # the next one became default
        actions = [e.action for e in db.session.scalars(select(AuditLog).where(AuditLog.object_type == "customer"))]
        assert actions == ["created", "address_added", "address_changed", "address_removed"]
    # another customer's address cannot be reached through this one
    with orders_app.test_request_context():
        other = services.create_customer("Other", address={"line1": "Elsewhere"})
        db.session.commit()
        other_address = other.addresses[0].id
    assert staff.post(f"/orders/customers/{cid}/addresses/{other_address}", data={"line1": "hijack"}).status_code == 404
    response = staff.post(f"/orders/customers/{cid}/addresses/{other_address}/delete", follow_redirects=True)
    assert "No such address" in response.get_data(as_text=True)
    assert _count(orders_app, Address) == 2


def test_edit_customer(orders_app, staff):
    with orders_app.test_request_context():
        customer = services.create_customer("Li Lei", "138")
        db.session.commit()
        cid = customer.id
    response = staff.post(f"/orders/customers/{cid}/edit", data={"name": "Li Lei Jr", "phone": "139 1234", "email": ""})
    assert response.status_code == 302
    response = staff.post(f"/orders/customers/{cid}/edit", data={"name": "", "phone": ""})
    assert response.status_code == 422
    with orders_app.app_context():
        assert db.session.get(Customer, cid).name == "Li Lei Jr"


def test_customer_picker_json(orders_app):
    with orders_app.test_request_context():
        for n in range(12):
            services.create_customer(f"Zhang {n}", f"139 0000 {n:04d}", address={"line1": f"{n} Road"})
        db.session.commit()
    client = client_with(orders_app, perms=["orders.customers.view"])
    client.get("/orders/api/customers?q=zhang")
    with orders_app.app_context():
        engine = db.engine
    with QueryCounter(engine) as counted:
        data = client.get("/orders/api/customers?q=zhang").get_json()
    assert len(data["results"]) == 10
    assert data["results"][0]["addresses"][0]["is_default"] is True
    mine = [st for st in counted.statements if "orders_" in st]
    assert len(mine) == 3, mine  # the customers, then all their addresses and all their contacts: no N+1
    assert client.get("/orders/api/customers?q=").get_json() == {"results": []}
    dup = client.get("/orders/api/customers/duplicates?phone=13900000003").get_json()
    assert [m["name"] for m in dup["matches"]] == ["Zhang 3"] and dup["matches"][0]["addresses"]
    assert client.get("/orders/api/customers/duplicates?phone=1").get_json() == {"matches": []}
    assert client_with(orders_app, perms=["orders.view"]).get("/orders/api/customers?q=z").status_code == 403


# ----------------------------------------------------------------------------- products


def test_products_pages(orders_app):
    client = client_with(orders_app, perms=["orders.products.view", "orders.products.edit"])
    data = {"sku": "tea-1", "name": "Green tea", "spec": "250 g", "unit": "tin", "price": "1,268.50",
            "currency": "CNY", "active": "y"}
    assert client.post("/orders/products/new", data=data).status_code == 302
    response = client.post("/orders/products/new", data=dict(data, name="Copy"))
    assert response.status_code == 409 and "already used by another product" in response.get_data(as_text=True)
    for change, message in (({"price": "abc"}, "not a number"), ({"price": "1.234"}, "2 decimals at most"),
                            ({"price": "-1"}, "must not be negative"), ({"price": "1e20"}, "too large"),
                            ({"sku": "has space"}, "without spaces")):
        response = client.post("/orders/products/new", data={**data, "sku": "NEW-1", **change})
        assert response.status_code == 422 and message in response.get_data(as_text=True), message
    with orders_app.app_context():
        product = db.session.scalars(select(Product)).one()
        assert product.sku == "TEA-1" and product.price_minor == 126850
    response = client.post(f"/orders/products/{product.id}/edit", data=dict(data, price="1300", active=""))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/products/{product.id}")
    assert 'value="1300.00"' in client.get(f"/orders/products/{product.id}/edit").get_data(as_text=True)
    page = client.get(f"/orders/products/{product.id}").get_data(as_text=True)
    assert "1,300.00" in page and re.search(r"1,?268\.50", page)  # the history shows the old price
    listing = client.get("/orders/products/?active=no").get_data(as_text=True)
    assert "TEA-1" in listing and "Not sold" in listing
    assert "TEA-1" not in client.get("/orders/products/?active=yes").get_data(as_text=True)


def test_product_picker_json(orders_app):
    with orders_app.test_request_context():
        services.create_product("TEA-10", "Tea ten", "10", "CNY")
        services.create_product("TEA-1", "Tea one", "1.50", "CNY")
        services.create_product("TEA-OLD", "Tea old", "1", "CNY", active=False)
        services.create_product("YEN-1", "Tea bowl", "1200", "JPY")
        db.session.commit()
    client = client_with(orders_app, perms=["orders.products.view"])
    results = client.get("/orders/api/products?q=tea-1").get_json()["results"]
    assert [r["sku"] for r in results] == ["TEA-1", "TEA-10"]  # the exact code first
    assert results[0]["price"] == "1.50" and results[0]["price_minor"] == 150 and results[0]["decimals"] == 2
    names = [r["sku"] for r in client.get("/orders/api/products?q=tea").get_json()["results"]]
    assert "TEA-OLD" not in names and "YEN-1" in names
    assert client_with(orders_app, perms=["orders.view"]).get("/orders/api/products?q=t").status_code == 403


# ----------------------------------------------------------------------------- dashboard and menu


def test_dashboard_cards_and_menu(orders_app, staff):
    with orders_app.test_request_context():
        customer = services.create_customer("Li Lei")
        product = services.create_product("P-1", "P", "12.50", "CNY")
        draft = services.create_order(OrderInput(customer_id=customer.id, ship_line1="x", lines=[LineInput(product.id, 2)]))
        confirmed = services.create_order(OrderInput(customer_id=customer.id, ship_line1="x",
                                                     lines=[LineInput(product.id, 1)]))
        services.transition(confirmed, states.CONFIRMED)
        db.session.commit()
        draft_number = draft.number
    page = staff.get("/dashboard").get_data(as_text=True)
    assert "Orders awaiting confirmation" in page and draft_number in page
    assert "Today&#39;s orders" in page and "CN¥37.50" in page and "erp-orders-chart" in page
    for label in ("Orders", "Customers", "Products"):
        assert f"</i>{label}</a>" in page
    plain = client_with(orders_app, perms=[])
    page = plain.get("/dashboard").get_data(as_text=True)
    assert "Orders awaiting confirmation" not in page and "/orders/customers/" not in page


def test_menu_marks_the_right_entry(orders_app, staff):
    page = staff.get("/orders/customers/").get_data(as_text=True)
    assert 'class="nav-link active"\n             href="/orders/customers/"' in page
    assert 'class="nav-link "\n             href="/orders/"' in page
