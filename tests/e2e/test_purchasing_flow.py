"""Browser: a product drops below its reorder point, the replenishment suggestion becomes a
purchase order, the order is e-mailed to the supplier (the stock page shows it on order), half the goods arrive, then the rest; the
stock goes up each time and the low-stock alert closes.

Uses the shared e2e fixtures (tests/e2e/conftest.py: ``browser``, ``LiveServer``, ``sign_in``)
and a local SMTP server (``smtp_server``).
"""

from __future__ import annotations

import re

import pytest

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import Level, LowStockAlert
from plugins.orders import services as orders
from plugins.purchasing import services as purchasing
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    pytest.skip("the playwright package is not installed", allow_module_level=True)

PLUGINS = ["orders", "inventory", "purchasing"]


@pytest.fixture
def shop(make_app, smtp_server):
    app = make_app(plugins=PLUGINS, WTF_CSRF_ENABLED=True, **smtp_server.app_config())
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        tea = orders.create_product("TEA-1", "Green tea", "20", "CNY")
        db.session.flush()
        warehouse = inv.default_warehouse()
        inv.receive_goods(warehouse.id, {tea.id: 10})
        inv.set_rule(tea, 5, 10)  # reorder point 5, target 15
        supplier = purchasing.save_supplier(None, purchasing.SupplierInput(
            code="HZ", name="杭州茶业合作社", email="tea@supplier.example", currency="CNY"))
        purchasing.set_terms(supplier, tea, price_raw="8.00", min_quantity="6", pack_size="6", preferred=True)
        db.session.commit()
        ids = {"tea": tea.id, "warehouse": warehouse.id}
    server = LiveServer(app).start()
    yield server, smtp_server, ids
    server.stop()


def _on_hand(app, ids) -> int:
    with app.app_context():
        level = db.session.query(Level).filter_by(product_id=ids["tea"], warehouse_id=ids["warehouse"]).one()
        return level.on_hand


def _open_alerts(app, ids) -> int:
    with app.app_context():
        return db.session.query(LowStockAlert).filter_by(product_id=ids["tea"], resolved_at=None).count()


def test_from_low_stock_to_a_received_purchase_order(page, shop, shot):
    server, smtp, ids = shop
    app = server.app
    sign_in(page, server)

    # 1. the product drops below its reorder point (a stocktake finds 2 left)
    page.goto(server.url("/inventory/stocktake"))
    form = page.get_by_test_id("stocktake-form")
    form.get_by_label("Product code").fill("TEA-1")
    form.get_by_label("Counted quantity").fill("2")
    form.get_by_label("Reason").fill("annual count")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert _on_hand(app, ids) == 2 and _open_alerts(app, ids) == 1

    # 2. the suggestion: target 15 - (2 + 0) = 13, rounded up to packs of 6 -> 18
    page.goto(server.url("/purchasing/replenishment"))
    row = page.locator("[data-testid=suggestions-table] tr[data-sku='TEA-1']")
    expect(row.locator("[data-col=suggested]")).to_have_text("18")
    expect(row).to_contain_text("Target 15")
    shot(page, "purchasing-replenishment")
    page.get_by_test_id("make-pos").click()
    expect(page.get_by_text(re.compile(r"draft purchase order made: PO-\d{4}-000001"))).to_be_visible()

    # 3. the purchase order is e-mailed to the supplier
    page.get_by_role("link", name=re.compile(r"PO-\d{4}-000001")).click()
    expect(page.get_by_test_id("po-status")).to_have_text("Draft")
    page.get_by_label("Language of the order").select_option("en")
    page.get_by_role("button", name="Send to the supplier").click()
    expect(page.get_by_text(re.compile(r"was e-mailed to tea@supplier.example"))).to_be_visible()
    expect(page.get_by_test_id("po-status")).to_have_text("Sent")
    assert len(smtp.messages) == 1 and "Purchase order PO-" in smtp.messages[0]["Subject"]

    # 3b. the stock page shows the 18 on order, with a link to the purchase order
    po_url = page.url
    page.goto(server.url("/inventory/"))
    expect(page.locator("[data-testid=stock-table] th", has_text="On order")).to_be_visible()
    cell = page.locator("[data-testid=stock-table] tr[data-sku='TEA-1'] [data-col=on-order]")
    expect(cell).to_contain_text("18")
    shot(page, "stock-on-order")
    cell.get_by_role("link", name=re.compile(r"PO-\d{4}-000001")).click()
    expect(page.get_by_test_id("po-status")).to_have_text("Sent")
    page.goto(po_url)

    # 4. half arrives
    qty = page.locator("input[name^=line-]")
    qty.fill("9")
    page.get_by_test_id("receive").click()
    expect(page.get_by_test_id("po-status")).to_have_text("Partially received")
    assert _on_hand(app, ids) == 11
    shot(page, "purchasing-partly-received")

    # 5. the rest arrives; the low-stock alert closes
    expect(qty).to_have_value("9")  # the outstanding quantity is offered
    page.get_by_test_id("receive").click()
    expect(page.get_by_test_id("po-status")).to_have_text("Received")
    assert _on_hand(app, ids) == 20
    assert _open_alerts(app, ids) == 0
    page.goto(server.url("/inventory/alerts"))
    expect(page.get_by_text("TEA-1")).to_have_count(0)
