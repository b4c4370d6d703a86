"""Price lists in the browser: picking a product for a wholesale customer fills in the list's
price, a larger quantity its quantity-break price; a clerk without the override permission who
types another price gets the field's error; the order page shows the order discount."""

from __future__ import annotations

import os

import pytest

from erp_core.extensions import db
from plugins.orders import services
from plugins.orders.models import Customer
from plugins.orders.services import pricelists
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = pytest.mark.e2e

CLERK = ["orders.view", "orders.create", "orders.edit", "orders.customers.view", "orders.products.view"]


@pytest.fixture
def pricing_server(make_app):
    app = make_app(plugins=["orders"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, perms=CLERK, display_name="Clerk")
    with app.test_request_context():
        customer = services.create_customer("Li Lei", "138 0013 8000",
                                            address={"line1": "88 Century Avenue", "city": "Shanghai"})
        services.create_product("INK-1", "Ink", "12", "CNY")
        price_list = pricelists.save_price_list(None, "Wholesale", "CNY")
        pricelists.set_item(price_list, "INK-1", 1, "10")
        pricelists.set_item(price_list, "INK-1", 10, "9")
        group = pricelists.save_group(None, "Wholesale", price_list.id)
        pricelists.set_customer_pricing(db.session.get(Customer, customer.id), group.id)
        db.session.commit()
    server = LiveServer(app).start()
    yield server
    server.stop()


def _pick(page, field, text, choice):
    field.click()
    field.fill(text)
    option = page.locator(".erp-picker:not([hidden]) .list-group-item", has_text=choice)
    expect(option).to_be_visible()
    option.click()


def test_list_price_is_filled_in_and_override_refused(page, pricing_server, shot):
    sign_in(page, pricing_server)
    page.goto(pricing_server.url("/orders/new"))
    _pick(page, page.get_by_test_id("customer-search"), "li", "Li Lei")
    line = page.locator("[data-line]").nth(0)
    _pick(page, line.locator('[data-role="product-search"]'), "ink", "INK-1")
    price = line.locator('[data-role="price"]')
    expect(price).to_have_value("10.00")
    line.locator('[data-role="quantity"]').fill("12")
    expect(price).to_have_value("9.00")
    page.locator("#discount_percent").fill("10")
    shot(page, "pricing-entry")
    page.get_by_test_id("save-order").click()
    expect(page.get_by_test_id("order-discount-note")).to_be_visible()
    expect(page.get_by_test_id("order-total")).to_have_text("CN¥97.20")  # 12 x 9.00 less 10 %
    shot(page, "pricing-order-page")
    page.goto(pricing_server.url("/orders/new"))
    _pick(page, page.get_by_test_id("customer-search"), "li", "Li Lei")
    line = page.locator("[data-line]").nth(0)
    _pick(page, line.locator('[data-role="product-search"]'), "ink", "INK-1")
    expect(line.locator('[data-role="price"]')).to_have_value("10.00")
    line.locator('[data-role="price"]').fill("5")
    page.get_by_test_id("save-order").click()
    expect(page.get_by_text("You may not change the price")).to_be_visible()
