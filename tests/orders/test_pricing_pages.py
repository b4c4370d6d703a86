"""The pricing pages: price lists, customer groups, a customer's pricing, discount limits, the
live price of the entry form, and discounts on the order form and page."""

import pytest
from sqlalchemy import select

from erp_core.extensions import db
from plugins.orders.models import Customer, Order
from plugins.orders.models_pricing import CustomerGroup, PriceList, RoleDiscountLimit
from tests.orders.conftest import ALL_ORDER_PERMS, client_with, order_form

XSS = "<script>alert(1)</script>"
PAGES = ["/orders/pricing/lists", "/orders/pricing/lists/new", "/orders/pricing/groups",
         "/orders/pricing/groups/new", "/orders/pricing/discount-limits"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_permission(orders_app, url):
    client = client_with(orders_app, [p for p in ALL_ORDER_PERMS if p != "orders.pricelists.manage"])
    assert client.get(url).status_code == 403
    assert client.post(url, data={}).status_code in (400, 403, 405)


def test_customer_pricing_and_quote_need_permission(orders_app, catalogue):
    client = client_with(orders_app, ["orders.customers.view", "orders.customers.edit", "orders.view"])
    assert client.get(f"/orders/pricing/customers/{catalogue.customer_id}").status_code == 403
    assert client.get("/orders/pricing/quote?product_id=1").status_code == 403
    assert client_with(orders_app, ["orders.customers.view"]).get("/orders/pricing/quote").status_code == 403


def test_price_list_group_and_customer_flow_escapes_names(orders_app, catalogue, staff):
    response = staff.post("/orders/pricing/lists/new", data={"what": "list", "list-name": XSS, "list-currency": "CNY",
                                                           "list-active": "y"})
    assert response.status_code == 302
    with orders_app.app_context():
        list_id = db.session.scalar(select(PriceList.id))
    url = f"/orders/pricing/lists/{list_id}"
    assert staff.post(url, data={"what": "item", "item-sku": "ink-1", "item-min_quantity": "5",
                                 "item-unit_price": "11"}).status_code == 302
    bad = staff.post(url, data={"what": "item", "item-sku": "NOPE", "item-min_quantity": "1", "item-unit_price": "1"})
    assert bad.status_code == 422 and "No product has the code" in bad.get_data(as_text=True)
    bad = staff.post(url, data={"what": "item", "item-sku": "INK-1", "item-min_quantity": "0", "item-unit_price": "1"})
    assert bad.status_code == 422
    assert staff.post("/orders/pricing/groups/new", data={"name": XSS, "price_list_id": str(list_id),
                                                        "notes": XSS}).status_code == 302
    with orders_app.app_context():
        group_id = db.session.scalar(select(CustomerGroup.id))
    assert staff.post(f"/orders/pricing/customers/{catalogue.customer_id}",
                      data={"group_id": str(group_id), "price_list_id": ""}).status_code == 302
    for page in (url, "/orders/pricing/lists", "/orders/pricing/groups", f"/orders/pricing/groups/{group_id}",
                 f"/orders/customers/{catalogue.customer_id}", f"/orders/pricing/customers/{catalogue.customer_id}"):
        html = staff.get(page).get_data(as_text=True)
        assert XSS not in html, page
        assert "&lt;script&gt;" in html, page
    quote = staff.get(f"/orders/pricing/quote?customer_id={catalogue.customer_id}&currency=CNY"
                      f"&product_id={catalogue.ink_id}&quantity=5").json
    assert quote == {"unit_price": "11.00", "source": XSS, "price_minor": 1100}
    assert staff.get(f"/orders/pricing/quote?customer_id={catalogue.customer_id}&currency=CNY"
                     f"&product_id={catalogue.ink_id}&quantity=2").json["price_minor"] == 1200


def test_bad_price_list_is_refused(orders_app, staff):
    response = staff.post("/orders/pricing/lists/new", data={"what": "list", "list-name": "A", "list-currency": "CNY",
                                                           "list-valid_from": "2026-12-10",
                                                           "list-valid_to": "2026-12-01"})
    assert response.status_code == 422
    assert "before its start" in response.get_data(as_text=True)
    with orders_app.app_context():
        assert db.session.scalar(select(PriceList.id)) is None


def test_discount_limits_page(orders_app, staff):
    html = staff.get("/orders/pricing/discount-limits").get_data(as_text=True)
    assert "No limit" in html
    with orders_app.app_context():
        from erp_core.auth.models import Role
        role_id = db.session.scalar(select(Role.id).where(Role.name == "customer_service"))
    bad = staff.post("/orders/pricing/discount-limits", data={f"role-{role_id}": "120"})
    assert bad.status_code == 422 and "between 0 and 100" in bad.get_data(as_text=True)
    assert staff.post("/orders/pricing/discount-limits", data={f"role-{role_id}": "12.5"}).status_code == 302
    with orders_app.app_context():
        assert str(db.session.get(RoleDiscountLimit, role_id).max_percent) == "12.50"


def test_order_form_discounts_shown_on_page_and_print(orders_app, catalogue, staff):
    data = order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": 3, "discount_amount": "2"},
                      discount_percent="10")
    response = staff.post("/orders/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with orders_app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert order.lines[0].line_discount_minor == 200
        assert order.lines[0].order_discount_minor == 340  # 10 % of 34.00
        assert order.total_minor == 3600 - 200 - 340
        order_id = order.id
    page = staff.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "of which order discount" in page and "3.40" in page
    assert "of which order discount" in staff.get(f"/orders/{order_id}/print").get_data(as_text=True)
    edit = staff.get(f"/orders/{order_id}/edit").get_data(as_text=True)
    assert 'value="10"' in edit and 'value="2.00"' in edit
    bad = staff.post("/orders/new", data=order_form(catalogue, {"product_id": catalogue.ink_id, "quantity": 1},
                                                     discount_amount="50"))
    assert bad.status_code == 422 and "exceeds the amount of its lines" in bad.get_data(as_text=True)


def test_customer_without_group_shows_dashes(orders_app, catalogue, staff):
    html = staff.get(f"/orders/customers/{catalogue.customer_id}").get_data(as_text=True)
    assert "None" not in html.split("customer-group")[1][:80]
    with orders_app.app_context():
        assert db.session.get(Customer, catalogue.customer_id).group_id is None


def test_price_lists_page_shows_validity_dates(orders_app, staff):
    response = staff.post("/orders/pricing/lists/new", data={"what": "list", "list-name": "Spring", "list-currency": "CNY",
                                                           "list-valid_from": "2026-03-01",
                                                           "list-valid_to": "2026-05-31", "list-active": "y"})
    assert response.status_code == 302
    page = staff.get("/orders/pricing/lists")
    assert page.status_code == 200
    assert "Mar 1, 2026" in page.get_data(as_text=True) and "May 31, 2026" in page.get_data(as_text=True)


def test_group_page_without_list_or_notes_shows_no_none(orders_app, staff):
    assert staff.post("/orders/pricing/groups/new", data={"name": "Plain", "price_list_id": "",
                                                        "notes": ""}).status_code == 302
    with orders_app.app_context():
        group_id = db.session.scalar(select(CustomerGroup.id))
    html = staff.get(f"/orders/pricing/groups/{group_id}").get_data(as_text=True)
    import re
    assert not re.search(r"\bNone\b", html), re.findall(r"[^\n]{0,80}\bNone\b[^\n]{0,40}", html)
