"""Customers for real businesses in the browser: the customer page with contact people, sales
terms and a billing address (screenshots in both languages), and a contact picked on the order
entry page filling the order's contact fields."""

from __future__ import annotations

import os

import pytest

from erp_core.extensions import db
from plugins.orders import services
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.e2e.test_orders_flows import pick
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def customers_server(make_app):
    """Only the orders module, CSRF on, an administrator and a company customer with contacts."""
    app = make_app(plugins=["orders"], WTF_CSRF_ENABLED=True)
    admin = make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context():
        customer = services.create_customer("上海文具有限公司", "021 5555 0000", "buy@wenju.example",
                                            address={"label": "仓库", "recipient": "李雷", "line1": "88 Century Avenue",
                                                     "city": "Shanghai", "postcode": "200120"})
        services.add_address(customer, {"label": "财务部", "line1": "9 Finance St", "city": "Shanghai",
                                        "kind": "billing"})
        services.add_contact(customer, {"name": "Wang Fang", "role": "Buyer", "phone": "139 1111 2222",
                                        "email": "wang@wenju.example"})
        services.add_contact(customer, {"name": "Liu Yang", "role": "Accountant", "phone": "137 3333 4444"})
        services.set_tags(customer, "VIP, wholesale")
        services.set_terms(customer, "5000", "net", 30)
        services.set_owner(customer, admin)
        services.create_product("PEN-1", "Fountain pen", "348.35", "CNY")
        db.session.commit()
        customer_id = customer.id
    server = LiveServer(app).start()
    server.customer_id = customer_id
    yield server
    server.stop()


def test_customer_page_and_a_contact_picked_at_order_entry(page, customers_server, shot):
    sign_in(page, customers_server)
    page.goto(customers_server.url(f"/orders/customers/{customers_server.customer_id}"))
    expect(page.get_by_test_id("contacts")).to_contain_text("Wang Fang")
    expect(page.get_by_test_id("customer-sales")).to_contain_text("Net 30 days")
    expect(page.get_by_test_id("customer-tags")).to_contain_text("wholesale")
    shot(page, "customer-sales-en")
    page.goto(customers_server.url("/orders/new"))
    pick(page, page.get_by_test_id("customer-search"), "上海", "上海文具有限公司")
    choice = page.locator("[data-role=contact-choice]")
    expect(choice).to_be_visible()
    choice.select_option(label="Liu Yang (Accountant)")
    expect(page.locator("[name=contact_name]")).to_have_value("Liu Yang")
    expect(page.locator("[name=contact_phone]")).to_have_value("137 3333 4444")
    addresses = page.locator("[data-role=address-choice] option")
    expect(addresses).to_have_count(1)  # the billing-only address is not offered to ship to
    page.get_by_test_id("language-switch").locator("button[value='zh_CN']").click()
    page.goto(customers_server.url(f"/orders/customers/{customers_server.customer_id}"))
    expect(page.get_by_test_id("customer-sales")).to_contain_text("账期 30 天")
    shot(page, "customer-sales-zh")
