"""Invoices per shipment in the browser: invoice the first of two shipments from the order's
finance panel, see the shipment on the invoice, then the panel and the invoice in Chinese.

Screenshots land in test-artifacts/invoices-shipment-*.png.
"""

from __future__ import annotations

import os
import re

import pytest

from erp_core import settings
from erp_core.extensions import db
from plugins.finance.testing import make_paid_order
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.finance.conftest import with_demo_gateway
from tests.finance.test_invoice_shipments import ship
from tests.finance.test_invoices import SELLER
from tests.helpers import make_user

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - the [test] extra installs it
    if os.environ.get("ERP_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("the playwright package is not installed", allow_module_level=True)


@pytest.fixture
def shipment_server(make_app):
    """Orders, logistics and finance, CSRF on, the company's invoicing details, an administrator
    and a paid order of 3 units sent in two shipments (1 + 2)."""
    app = with_demo_gateway(make_app(plugins=["orders", "logistics", "finance"], WTF_CSRF_ENABLED=True))
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.test_request_context(method="POST"):
        settings.set_many(SELLER)
        order, _payment = make_paid_order(((3, "33.33"),))
        first, second = ship(order, 1), ship(order, 2)
        db.session.commit()
        app.config["E2E_SHIPMENTS"] = (order.id, first.number, second.number)
        db.session.remove()
    server = LiveServer(app).start()
    yield server
    server.stop()


def test_invoice_one_shipment_from_the_order_panel(page, shipment_server, shot):
    order_id, first, second = shipment_server.app.config["E2E_SHIPMENTS"]
    sign_in(page, shipment_server)
    page.goto(shipment_server.url(f"/finance/orders/{order_id}"))
    rows = page.get_by_test_id("shipment-invoice-row")
    expect(rows).to_have_count(2)
    shot(page, "invoices-shipment-panel-en")
    rows.filter(has_text=first).get_by_test_id("issue-shipment-invoice").click()
    expect(page.get_by_text(re.compile(r"Invoice INV-\d{4}-000001 issued\."))).to_be_visible()
    expect(page.get_by_test_id("invoice-shipment")).to_have_text(f"Shipment {first}")
    expect(page.get_by_test_id("invoice-total")).to_have_text("CN¥33.33")
    shot(page, "invoices-shipment-invoice-en")
    page.goto(shipment_server.url(f"/finance/orders/{order_id}"))
    expect(page.get_by_test_id("shipment-invoice-link")).to_have_count(1)
    expect(page.get_by_test_id("issue-shipment-invoice")).to_have_count(1)
    expect(page.get_by_test_id("issue-invoice")).to_have_count(0)
    # In Chinese: the panel and the invoice.
    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("shipment-invoices")).to_contain_text("按发货单开票")
    expect(page.get_by_test_id("issue-shipment-invoice")).to_have_text("为此发货单开具销售发票")
    shot(page, "invoices-shipment-panel-zh")
    page.get_by_test_id("shipment-invoice-link").click()
    expect(page.get_by_test_id("invoice-shipment")).to_have_text(f"发货单 {first}")
    assert "Shipment" not in page.content()  # the history's field is named in Chinese too
    shot(page, "invoices-shipment-invoice-zh")
    page.get_by_test_id("language-switch").get_by_role("button", name="English").click()
    assert second
