"""Tax in the browser: the entry form's running tax and total agree with what the server stores,
with prices including and excluding tax; the order page shows the tax per rate."""

from __future__ import annotations

import os

import pytest

from erp_core import settings as site_settings
from erp_core.extensions import db
from plugins.orders import services, tax
from plugins.orders.models import TaxRate
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = pytest.mark.e2e


@pytest.fixture
def tax_server(make_app):
    app = make_app(plugins=["orders"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context():
        tax.seed_rates()
        services.create_customer("Li Lei", "138 0013 8000", address={"line1": "88 Century Avenue", "city": "Shanghai"})
        services.create_product("PEN-1", "Fountain pen", "348.35", "CNY")  # the default 13 %
        nine = db.session.query(TaxRate).filter_by(exempt=False, percent=9).one()
        services.create_product("RICE-1", "Rice", "12", "CNY", tax_rate_id=nine.id)
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


def _enter(page, server):
    page.goto(server.url("/orders/new"))
    _pick(page, page.get_by_test_id("customer-search"), "li", "Li Lei")
    lines = page.locator("[data-line]")
    _pick(page, lines.nth(0).locator('[data-role="product-search"]'), "pen", "PEN-1")
    page.get_by_test_id("add-line").click()
    _pick(page, lines.nth(1).locator('[data-role="product-search"]'), "rice", "RICE-1")
    lines.nth(1).locator('[data-role="quantity"]').fill("2")


def test_entry_form_shows_the_tax_the_server_stores(page, tax_server, shot):
    sign_in(page, tax_server)
    _enter(page, tax_server)
    # 348.35 x 13/113 = 40.08 and 24.00 x 9/109 = 1.98, both included in the prices
    expect(page.get_by_test_id("form-tax")).to_have_text("CN¥42.06")
    expect(page.get_by_test_id("bar-tax")).to_have_text("CN¥42.06")
    expect(page.get_by_test_id("form-total")).to_have_text("CN¥372.35")
    shot(page, "tax-entry-inclusive")
    page.get_by_test_id("save-order").click()
    expect(page.get_by_test_id("order-total")).to_have_text("CN¥372.35")
    expect(page.get_by_test_id("tax-row")).to_have_count(2)
    expect(page.get_by_test_id("tax-row").first).to_have_text("VAT 13% on CN¥308.27 (included)")
    shot(page, "tax-order-page")

    with tax_server.app.test_request_context():
        site_settings.set_many({"orders.prices_include_tax": False})
        db.session.commit()
    _enter(page, tax_server)
    # excluding tax: 348.35 x 13% = 45.29 (45.2855), 24.00 x 9% = 2.16
    expect(page.get_by_test_id("form-tax")).to_have_text("CN¥47.45")
    expect(page.get_by_test_id("form-total")).to_have_text("CN¥419.80")
    expect(page.locator("[data-line]").nth(0).locator('[data-role="line-total"]')).to_have_text("CN¥393.64")
    page.get_by_test_id("save-order").click()
    expect(page.get_by_test_id("order-total")).to_have_text("CN¥419.80")
    expect(page.get_by_test_id("tax-row").first).to_have_text("VAT 13% on CN¥348.35")
