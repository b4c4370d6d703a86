"""A barcode scanner in the order entry (typed code + Enter adds or counts up a line) and the
header search box, in a real browser."""

from __future__ import annotations

import os

import pytest

from erp_core.extensions import db
from plugins.orders import services
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = pytest.mark.e2e

EAN13, EAN8 = "6901234567892", "96385074"


@pytest.fixture
def scan_server(make_app):
    app = make_app(plugins=["orders"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context():
        services.create_customer("Li Lei", "138 0013 8000", address={"line1": "88 Century Avenue", "city": "Shanghai"})
        services.create_product("PEN-1", "Fountain pen", "10", "CNY", barcode=EAN13)
        services.create_product("INK-1", "Ink <script>x</script>", "2", "CNY", barcode=EAN8)
        db.session.commit()
    server = LiveServer(app).start()
    yield server
    server.stop()


def test_scanner_adds_lines_in_order_entry(page, scan_server, shot):
    sign_in(page, scan_server)
    page.goto(scan_server.url("/orders/new"))
    field = page.locator("#customer_label")
    field.fill("li")
    page.locator(".erp-picker:not([hidden]) .list-group-item", has_text="Li Lei").click()
    scan = page.get_by_test_id("scan-input")
    lines = page.locator("[data-line]")
    for code in (EAN13, EAN13, EAN8, EAN13):
        scan.click()
        page.keyboard.type(code)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("scan-message")).to_contain_text("Added")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).locator('[data-role="quantity"]')).to_have_value("3")
    expect(lines.nth(1).locator('[data-role="quantity"]')).to_have_value("1")
    expect(page.get_by_test_id("scan-message")).to_contain_text("PEN-1")
    scan.click()
    page.keyboard.type("1234567")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("scan-message")).to_have_text("No product has the barcode or code 1234567.")
    expect(lines).to_have_count(2)
    shot(page, "scan-entry")
    page.get_by_test_id("save-order").click()
    expect(page.get_by_test_id("order-total")).to_have_text("CN¥32.00")


def test_header_search(page, scan_server, shot):
    sign_in(page, scan_server)
    box = page.get_by_test_id("header-search").locator("input")
    box.fill(EAN8)
    box.press("Enter")
    group = page.get_by_test_id("search-group-product")
    expect(group).to_contain_text("INK-1")
    expect(group).to_contain_text("Ink <script>x</script>")
    shot(page, "search-results")
    group.get_by_role("link", name="INK-1").click()
    expect(page.get_by_test_id("product-barcode")).to_have_text(EAN8)
