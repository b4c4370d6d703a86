"""Customers for real businesses: contact people, tags, sales terms (owner, credit limit, payment
terms), billing addresses, and the "own customers only" scope on pages, lists, exports and API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from erp_core.extensions import db
from plugins.orders import services
from plugins.orders.models import Customer, Order
from plugins.orders.models_customers import OrderBilling
from plugins.orders.services import LineInput, OrderInput
from tests.orders.conftest import ALL_ORDER_PERMS, client_with, order_form
from tests.orders.test_rest_api import token_for

XSS = "<script>alert(1)</script>"


def _customer(app, customer_id) -> Customer:
    with app.app_context():
        return db.session.get(Customer, customer_id)


def _draft(app, customer_id, product_id, quantity=1) -> int:
    with app.test_request_context():
        order = services.create_order(OrderInput(customer_id=customer_id, ship_line1="1 Road",
                                                 lines=[LineInput(product_id, quantity)]))
        db.session.commit()
        return order.id


# ----------------------------------------------------------------------------- contacts and tags


def test_contacts_are_added_changed_removed_and_escaped(orders_app, catalogue, staff):
    cid = catalogue.customer_id
    response = staff.post(f"/orders/customers/{cid}/contacts/new",
                          data={"name": XSS, "role": "Buyer", "phone": "139 0000 0000", "email": "b@example.com"})
    assert response.status_code == 302
    page = staff.get(f"/orders/customers/{cid}").get_data(as_text=True)
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Buyer" in page
    with orders_app.app_context():
        contact_id = db.session.get(Customer, cid).contacts[0].id
    assert staff.post(f"/orders/customers/{cid}/contacts/{contact_id}",
                      data={"name": "Wang Fang", "role": "Accountant"}).status_code == 302
    with orders_app.app_context():
        assert [(c.name, c.role) for c in db.session.get(Customer, cid).contacts] == [("Wang Fang", "Accountant")]
    assert staff.post(f"/orders/customers/{cid}/contacts/{contact_id}/delete").status_code == 302
    with orders_app.app_context():
        assert db.session.get(Customer, cid).contacts == []


def test_a_contact_without_a_name_or_with_a_bad_email_changes_nothing(orders_app, catalogue, staff):
    cid = catalogue.customer_id
    assert staff.post(f"/orders/customers/{cid}/contacts/new", data={"name": ""}).status_code == 422
    response = staff.post(f"/orders/customers/{cid}/contacts/new", data={"name": "X", "email": "not-mail"})
    assert response.status_code == 422
    with orders_app.app_context():
        assert db.session.get(Customer, cid).contacts == []


def test_tags_filter_the_customer_list_and_are_escaped(orders_app, catalogue, staff):
    cid = catalogue.customer_id
    with orders_app.test_request_context():
        services.create_customer("Untagged Ltd")
        db.session.commit()
    response = staff.post(f"/orders/customers/{cid}/sales", data={"tags": f"VIP, wholesale, vip, {XSS}",
                                                                  "payment_terms": ""})
    assert response.status_code == 302
    with orders_app.app_context():
        assert sorted(t.label for t in db.session.get(Customer, cid).tags) == sorted(["VIP", "wholesale", XSS])
    for url in (f"/orders/customers/{cid}", "/orders/customers/", "/orders/customers/?tag=vip"):
        page = staff.get(url).get_data(as_text=True)
        assert XSS not in page
    listed = staff.get("/orders/customers/?tag=Wholesale").get_data(as_text=True)
    assert "Li Lei" in listed and "Untagged Ltd" not in listed
    assert "Untagged Ltd" in staff.get("/orders/customers/").get_data(as_text=True)


def test_customer_list_runs_a_fixed_number_of_statements(orders_app, staff):
    from tests.helpers import QueryCounter

    def add(count):
        with orders_app.test_request_context():
            for n in range(count):
                customer = services.create_customer(f"Customer {n}")
                services.set_tags(customer, "a, b")
                services.set_owner(customer, owner)
            db.session.commit()

    from tests.helpers import make_user
    owner = make_user(orders_app, perms=[])
    add(2)
    staff.get("/orders/customers/")  # warm caches
    with orders_app.app_context():
        engine = db.engine
    with QueryCounter(engine) as few:
        staff.get("/orders/customers/")
    add(12)
    with QueryCounter(engine) as many:
        staff.get("/orders/customers/")
    assert many.count == few.count, many.statements


# ----------------------------------------------------------------------------- sales terms and owner


def test_sales_terms_are_saved_and_bad_values_refused(orders_app, catalogue, staff):
    cid = catalogue.customer_id
    response = staff.post(f"/orders/customers/{cid}/sales", data={"credit_limit": "abc", "payment_terms": ""})
    assert response.status_code == 422
    response = staff.post(f"/orders/customers/{cid}/sales", data={"payment_terms": "net", "payment_days": "0"})
    assert response.status_code == 422 and "1 to 365" in response.get_data(as_text=True)
    assert _customer(orders_app, cid).payment_terms == ""
    response = staff.post(f"/orders/customers/{cid}/sales",
                          data={"credit_limit": "1000", "payment_terms": "net", "payment_days": "30"})
    assert response.status_code == 302
    customer = _customer(orders_app, cid)
    assert (customer.credit_limit_minor, customer.payment_terms, customer.payment_days) == (100000, "net", 30)
    page = staff.get(f"/orders/customers/{cid}").get_data(as_text=True)
    assert "Net 30 days" in page and "1,000.00" in page


def test_reassigning_the_owner_needs_the_manage_permission(orders_app, catalogue, staff):
    from tests.helpers import make_user

    cid = catalogue.customer_id
    seller = make_user(orders_app, perms=["orders.view"])
    staff.post(f"/orders/customers/{cid}/sales", data={"owner_id": str(seller), "payment_terms": ""})
    assert _customer(orders_app, cid).owner_id is None  # without orders.customers.manage: ignored
    manager = client_with(orders_app, ALL_ORDER_PERMS + ["orders.customers.manage"])
    assert "Owner (salesperson)" in manager.get(f"/orders/customers/{cid}/sales").get_data(as_text=True)
    assert manager.post(f"/orders/customers/{cid}/sales",
                        data={"owner_id": str(seller), "payment_terms": ""}).status_code == 302
    assert _customer(orders_app, cid).owner_id == seller
    assert manager.post(f"/orders/customers/{cid}/sales",
                        data={"owner_id": "999999", "payment_terms": ""}).status_code == 422


@pytest.mark.parametrize("path,method", [
    ("/orders/customers/{cid}/contacts/new", "get"), ("/orders/customers/{cid}/contacts/new", "post"),
    ("/orders/customers/{cid}/contacts/1", "get"), ("/orders/customers/{cid}/contacts/1/delete", "post"),
    ("/orders/customers/{cid}/sales", "get"), ("/orders/customers/{cid}/sales", "post"),
])
def test_pages_need_the_customer_edit_permission(orders_app, catalogue, path, method):
    viewer = client_with(orders_app, ["orders.view", "orders.customers.view"])
    assert getattr(viewer, method)(path.format(cid=catalogue.customer_id)).status_code == 403


# ----------------------------------------------------------------------------- credit limit


def _limit(app, customer_id, amount):
    with app.test_request_context():
        services.set_terms(db.session.get(Customer, customer_id), amount, "", None)
        db.session.commit()


def test_confirming_over_the_credit_limit_needs_the_override(orders_app, catalogue, staff):
    _limit(orders_app, catalogue.customer_id, "500")
    first = _draft(orders_app, catalogue.customer_id, catalogue.pen_id)  # 348.35
    second = _draft(orders_app, catalogue.customer_id, catalogue.pen_id)
    assert staff.post(f"/orders/{first}/actions/confirm", data={"version": "1"}, follow_redirects=True).status_code == 200
    page = staff.post(f"/orders/{second}/actions/confirm", data={"version": "1"},
                      follow_redirects=True).get_data(as_text=True)
    assert "over the credit limit" in page
    with orders_app.app_context():
        assert db.session.get(Order, second).status == "draft"
        assert services.open_balance(catalogue.customer_id) == 34835
    boss = client_with(orders_app, ALL_ORDER_PERMS + ["orders.credit.override"])
    boss.post(f"/orders/{second}/actions/confirm", data={"version": "1"})
    with orders_app.app_context():
        assert db.session.get(Order, second).status == "confirmed"


def test_the_api_refuses_a_confirmation_over_the_limit(orders_app, catalogue):
    _limit(orders_app, catalogue.customer_id, "100")
    order_id = _draft(orders_app, catalogue.customer_id, catalogue.pen_id)
    headers = token_for(orders_app, ALL_ORDER_PERMS)
    response = orders_app.test_client().post(f"/api/v1/orders/{order_id}/transitions", json={"action": "confirm"},
                                             headers=headers)
    assert response.status_code == 409 and response.get_json()["code"] == "credit_limit_exceeded"
    headers = token_for(orders_app, ALL_ORDER_PERMS + ["orders.credit.override"])
    response = orders_app.test_client().post(f"/api/v1/orders/{order_id}/transitions", json={"action": "confirm"},
                                             headers=headers)
    assert response.status_code == 200


def test_hook_erp_orders_amount_paid(spy_app):
    """Paid amounts answered by a plugin lower the open balance."""
    from tests.orders import spy_plugin as spy

    spy.BEHAVIOUR["erp_orders_amount_paid"] = lambda ids: {}
    with spy_app.test_request_context():
        customer = services.create_customer("Payer")
        product = services.create_product("P-1", "P", "100", "CNY")
        order = services.create_order(OrderInput(customer_id=customer.id, ship_line1="1 Road",
                                                 lines=[LineInput(product.id, 1)]))
        services.transition(order, "confirmed")
        assert services.open_balance(customer.id) == 10000
        spy.BEHAVIOUR["erp_orders_amount_paid"] = lambda ids: {order.id: 4000}
        assert services.open_balance(customer.id) == 6000


# ----------------------------------------------------------------------------- billing and contacts on orders


def test_orders_copy_the_billing_address_and_a_picked_contact(orders_app, catalogue, staff):
    cid = catalogue.customer_id
    with orders_app.test_request_context():
        customer = db.session.get(Customer, cid)
        services.add_address(customer, {"line1": "9 Finance St", "city": "Beijing", "kind": "billing",
                                        "recipient": XSS})
        contact = services.add_contact(customer, {"name": "Zhang Wei", "phone": "137 1111 2222"})
        db.session.commit()
        contact_id = contact.id
    data = order_form(catalogue, {"product_id": catalogue.pen_id, "quantity": 1}, contact_id=contact_id,
                      contact_name="", contact_phone="")
    response = staff.post("/orders/new", data=data)
    assert response.status_code == 302
    with orders_app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.contact_name == "Zhang Wei" and order.contact_phone == "137 1111 2222"
        assert db.session.get(OrderBilling, order.id).line1 == "9 Finance St"
        order_id = order.id
    for url in (f"/orders/{order_id}", f"/orders/{order_id}/print"):
        page = staff.get(url).get_data(as_text=True)
        assert "9 Finance St" in page and XSS not in page
    picker = staff.get("/orders/api/customers?q=Li").get_json()["results"][0]
    assert [a["line1"] for a in picker["addresses"]] == ["1 Main Road"]  # billing-only addresses left out
    assert picker["contacts"][0]["name"] == "Zhang Wei"


def test_a_contact_of_another_customer_is_refused(orders_app, catalogue):
    with orders_app.test_request_context():
        other = services.create_customer("Other")
        contact = services.add_contact(other, {"name": "Not theirs"})
        db.session.commit()
        with pytest.raises(services.OrderInvalid) as refused:
            services.create_order(OrderInput(customer_id=catalogue.customer_id, ship_line1="1 Road",
                                             contact_id=contact.id, lines=[LineInput(catalogue.pen_id, 1)]))
        assert "contact_id" in refused.value.errors


# ----------------------------------------------------------------------------- own customers only


@pytest.fixture
def scoped(orders_app, catalogue):
    """A salesperson seeing own customers only, owning "Mine Ltd" (with an order), while Li Lei's
    order belongs to nobody."""
    from tests.helpers import make_user

    perms = ALL_ORDER_PERMS + ["orders.scope.own"]
    seller = make_user(orders_app, perms=perms)
    with orders_app.test_request_context():
        mine = services.create_customer("Mine Ltd")
        services.set_owner(mine, seller)
        db.session.commit()
        ids = {"mine": mine.id, "seller": seller}
    ids["my_order"] = _draft(orders_app, ids["mine"], catalogue.pen_id)
    ids["their_order"] = _draft(orders_app, catalogue.customer_id, catalogue.pen_id)
    client = orders_app.test_client()
    from tests.helpers import login
    login(client, orders_app, seller)
    ids["client"] = client
    with orders_app.app_context():
        from erp_core.api.tokens import create_token
        from erp_core.auth.models import User

        _row, clear = create_token(db.session.get(User, seller), "test")
        db.session.commit()
    ids["headers"] = {"Authorization": f"Bearer {clear}"}
    return ids


def test_a_scoped_user_sees_only_own_customers_and_orders_on_pages(orders_app, catalogue, scoped):
    client = scoped["client"]
    customers = client.get("/orders/customers/").get_data(as_text=True)
    assert "Mine Ltd" in customers and "Li Lei" not in customers
    assert client.get(f"/orders/customers/{catalogue.customer_id}").status_code == 404
    assert client.get(f"/orders/customers/{catalogue.customer_id}/edit").status_code == 404
    assert client.get(f"/orders/customers/{scoped['mine']}").status_code == 200
    with orders_app.app_context():
        their_number = db.session.get(Order, scoped["their_order"]).number
        my_number = db.session.get(Order, scoped["my_order"]).number
    orders = client.get("/orders/").get_data(as_text=True)
    assert my_number in orders and their_number not in orders
    for path in ("", "/print", "/edit"):
        assert client.get(f"/orders/{scoped['their_order']}{path}").status_code == 404
    assert client.post(f"/orders/{scoped['their_order']}/actions/confirm", data={"version": "1"}).status_code == 404
    export = client.get("/orders/export.csv").get_data(as_text=True)
    assert my_number in export and their_number not in export
    assert client.get("/orders/api/customers?q=Li").get_json()["results"] == []
    # Entering an order for somebody else's customer is refused.
    response = client.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.pen_id, "quantity": 1}))
    assert response.status_code == 422


def test_a_scoped_user_sees_only_own_records_in_the_api(orders_app, catalogue, scoped):
    client, headers = orders_app.test_client(), scoped["headers"]
    listed = client.get("/api/v1/orders", headers=headers).get_json()
    numbers = {o["id"] for o in listed["items"]} if isinstance(listed, dict) and "items" in listed else \
        {o["id"] for o in listed}
    assert numbers == {scoped["my_order"]}
    assert client.get(f"/api/v1/orders/{scoped['their_order']}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/customers/{catalogue.customer_id}", headers=headers).status_code == 404
    customers = client.get("/api/v1/customers", headers=headers).get_json()
    items = customers["items"] if isinstance(customers, dict) and "items" in customers else customers
    assert [c["id"] for c in items] == [scoped["mine"]]


def test_new_customers_of_a_scoped_user_are_theirs(orders_app, scoped):
    assert scoped["client"].post("/orders/customers/new", data={"name": "Fresh Co", "language": "en"}).status_code == 302
    with orders_app.app_context():
        fresh = db.session.scalars(select(Customer).where(Customer.name == "Fresh Co")).one()
        assert fresh.owner_id == scoped["seller"]


def test_an_all_permissions_role_is_never_scoped(orders_app, catalogue, scoped):
    admin = client_with(orders_app, [], roles=["admin"])
    assert "Li Lei" in admin.get("/orders/customers/").get_data(as_text=True)


def test_the_api_shows_and_changes_sales_terms(orders_app, catalogue):
    from tests.helpers import make_user

    client, cid = orders_app.test_client(), catalogue.customer_id
    headers = token_for(orders_app, ALL_ORDER_PERMS)
    response = client.patch(f"/api/v1/customers/{cid}", headers=headers,
                            json={"tags": ["VIP", XSS], "credit_limit": "800", "payment_terms": "month_end"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["tags"] == ["VIP", XSS] or sorted(body["tags"]) == sorted(["VIP", XSS])
    assert (body["credit_limit_minor"], body["payment_terms"]) == (80000, "month_end")
    assert client.patch(f"/api/v1/customers/{cid}", headers=headers,
                        json={"payment_terms": "weekly"}).status_code == 422
    seller = make_user(orders_app, perms=[])
    assert client.patch(f"/api/v1/customers/{cid}", headers=headers, json={"owner_id": seller}).status_code == 403
    manager = token_for(orders_app, ALL_ORDER_PERMS + ["orders.customers.manage"])
    assert client.patch(f"/api/v1/customers/{cid}", headers=manager, json={"owner_id": seller}).status_code == 200
    assert client.get("/api/v1/customers?tag=vip", headers=headers).get_json()["items"][0]["owner_id"] == seller
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "credit_limit_minor" in spec["components"]["schemas"]["Customer"]["properties"]


def test_the_customer_page_shows_what_each_address_is_for(orders_app, catalogue, staff):
    cid = catalogue.customer_id
    response = staff.post(f"/orders/customers/{cid}/addresses/new",
                          data={"line1": "9 Finance St", "country": "CN", "kind": "billing"})
    assert response.status_code == 302
    assert staff.post(f"/orders/customers/{cid}/addresses/new",
                      data={"line1": "x", "country": "CN", "kind": "elsewhere"}).status_code == 422
    page = staff.get(f"/orders/customers/{cid}").get_data(as_text=True)
    assert "Billing only" in page and "9 Finance St" in page
