"""A barcode scanner on the goods receipt pages: inventory's receipt and a purchase order's
receive form (typed code + Enter counts the product up)."""

from __future__ import annotations

import os

import pytest

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Level
from plugins.orders import services as orders
from plugins.purchasing import services as purchasing
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)

pytestmark = pytest.mark.e2e

TEA, CUP, LID = "6901234567892", "96385074", "036000291452"


@pytest.fixture
def store(make_app):
    app = make_app(plugins=["orders", "inventory", "purchasing"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        tea = orders.create_product("TEA-1", "Green tea", "20", "CNY", barcode=TEA)
        cup = orders.create_product("CUP-1", "Cup", "5", "CNY", barcode=CUP)
        orders.create_product("LID-1", "Lid", "1", "CNY", barcode=LID)
        warehouse = inv.default_warehouse()
        supplier = purchasing.save_supplier(None, purchasing.SupplierInput(code="HZ", name="Hangzhou Tea",
                                                                            currency="CNY"))
        po = purchasing.create_po(supplier, warehouse.id, [purchasing.LineInput(tea.id, 5, "8"),
                                                            purchasing.LineInput(cup.id, 5, "2")])
        purchasing.send_po(po)
        db.session.commit()
        ids = {"tea": tea.id, "cup": cup.id, "warehouse": warehouse.id, "po": po.id}
    server = LiveServer(app).start()
    yield server, ids
    server.stop()


def _scan(page, code):
    page.get_by_test_id("scan-input").click()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def _on_hand(app, ids, name) -> int:
    with app.app_context():
        level = db.session.query(Level).filter_by(product_id=ids[name], warehouse_id=ids["warehouse"]).first()
        return level.on_hand if level else 0


def test_scanning_into_an_inventory_receipt(page, store, shot):
    server, ids = store
    sign_in(page, server)
    page.goto(server.url("/inventory/receipts/new"))
    for code in (TEA, CUP, TEA, "TEA-1"):
        _scan(page, code)
        expect(page.get_by_test_id("scan-message")).to_contain_text("Added")
    _scan(page, "1111111")
    expect(page.get_by_test_id("scan-message")).to_have_text("No product has the barcode or code 1111111.")
    expect(page.locator('input[name="lines-0-sku"]')).to_have_value("TEA-1")
    expect(page.locator('input[name="lines-0-quantity"]')).to_have_value("3")
    expect(page.locator('input[name="lines-1-sku"]')).to_have_value("CUP-1")
    shot(page, "scan-receipt")
    page.get_by_role("button", name="Record receipt").click()
    expect(page.locator(".alert-success")).to_contain_text("recorded")
    assert _on_hand(server.app, ids, "tea") == 3 and _on_hand(server.app, ids, "cup") == 1


def test_scanning_into_a_purchase_order_receipt(page, store, shot):
    server, ids = store
    sign_in(page, server)
    page.goto(server.url(f"/purchasing/orders/{ids['po']}"))
    for code in (TEA, TEA):
        _scan(page, code)
    expect(page.locator('tr[data-sku="TEA-1"] input[data-scan-quantity]')).to_have_value("2")
    expect(page.locator('tr[data-sku="CUP-1"] input[data-scan-quantity]')).to_have_value("")
    _scan(page, LID)
    expect(page.get_by_test_id("scan-message")).to_have_text("LID-1 is not on this list.")
    shot(page, "scan-po-receive")
    page.get_by_test_id("receive").click()
    expect(page.locator('tr[data-sku="TEA-1"] [data-col="received"]')).to_have_text("2")
    assert _on_hand(server.app, ids, "tea") == 2 and _on_hand(server.app, ids, "cup") == 0
