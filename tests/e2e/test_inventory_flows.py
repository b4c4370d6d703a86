"""Browser: an order with three lines reserves stock when confirmed, edits move the reservation,
a confirmation beyond stock is refused with the message, and cancelling releases the stock.

Uses the shared e2e fixtures (tests/e2e/conftest.py: ``browser``, ``LiveServer``) and the
orders plugin's pages (order entry, order page and its actions); skipped when those are absent.
"""

from __future__ import annotations

import re

import pytest

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.orders import services as orders
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user

PLUGINS = ["orders", "inventory"]


@pytest.fixture
def stock_server(make_app):
    app = make_app(plugins=PLUGINS, WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.app_context():
        orders.create_customer("Lin Hai", "139 0000 1111")
        products = [orders.create_product(sku, name, "20", "CNY") for sku, name in
                    (("TEA-1", "Green tea"), ("CUP-1", "Glass cup"), ("POT-1", "Clay pot"))]
        db.session.flush()
        inv.receive_goods(inv.default_warehouse().id, {products[0].id: 10, products[1].id: 6, products[2].id: 2})
        db.session.commit()
    server = LiveServer(app).start()
    yield server
    server.stop()




def _pick(page, input_selector, text):
    """Type into a search box of the order form and pick the first suggestion."""
    box = page.locator(input_selector)
    box.fill(text)
    box.locator("xpath=..").locator(".list-group-item-action").first.click()


def _enter_order(page, server, lines):
    page.goto(server.url("/orders/new"))
    _pick(page, "[data-testid=customer-search]", "Lin")
    page.fill("input[name=ship_line1]", "8 Harbour Road")
    for index, (sku, quantity) in enumerate(lines):
        if page.locator(f"#lines-{index}-label").count() == 0:
            page.click("[data-testid=add-line]")
        _pick(page, f"#lines-{index}-label", sku)
        page.fill(f"#lines-{index}-quantity", str(quantity))
    page.click("[data-testid=save-order]")
    page.wait_for_selector("[data-testid=order-status]")
    return page.url


def _stock_row(page, server, sku):
    """(on hand, reserved, available) of ``sku`` in the default warehouse, read off the stock page."""
    page.goto(server.url(f"/inventory/?q={sku}"))
    row = page.locator(f"[data-testid=stock-table] tr[data-sku='{sku}']").first
    cells = [int(re.sub(r"\D", "", t) or 0) for t in row.locator("td.text-end").all_inner_texts()[:3]]
    return tuple(cells)


def test_order_reserves_edits_refuses_and_releases_stock(browser, stock_server, shot):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, stock_server)
        order_url = _enter_order(page, stock_server, [("TEA-1", 3), ("CUP-1", 2), ("POT-1", 1)])
        page.click("[data-testid=action-confirm]")
        assert "Confirmed" in page.locator("[data-testid=order-status]").inner_text()
        panel = page.locator("[data-testid=inventory-panel]")
        assert panel.locator("tr[data-sku='TEA-1'] [data-col=held]").inner_text() == "3"
        shot(page, "inventory-order-confirmed")
        assert _stock_row(page, stock_server, "TEA-1") == (10, 3, 7)
        assert _stock_row(page, stock_server, "POT-1") == (2, 1, 1)

        # beyond stock: 2 clay pots wanted, 1 available -> refused with the message, still a draft
        _enter_order(page, stock_server, [("POT-1", 2)])
        page.click("[data-testid=action-confirm]")
        message = page.locator(".erp-flashes").inner_text()
        assert "Not enough stock of POT-1 Clay pot in Main warehouse: 2 needed, 1 available." in message
        assert "Draft" in page.locator("[data-testid=order-status]").inner_text()
        shot(page, "inventory-confirm-refused")

        # edit the confirmed order: 3 -> 5 teas moves the reservation
        page.goto(order_url)
        page.click("[data-testid=edit-order]")
        page.fill("#lines-0-quantity", "5")
        page.click("[data-testid=save-order]")
        page.wait_for_selector("[data-testid=order-status]")
        assert _stock_row(page, stock_server, "TEA-1") == (10, 5, 5)

        # cancel: everything is released
        page.goto(order_url)
        page.click("[data-testid=action-cancel]")
        page.fill("[data-testid=cancel-reason]", "Customer changed their mind")
        page.click("[data-testid=confirm-cancel]")
        assert "Cancelled" in page.locator("[data-testid=order-status]").inner_text()
        assert _stock_row(page, stock_server, "TEA-1") == (10, 0, 10)
        assert _stock_row(page, stock_server, "CUP-1") == (6, 0, 6)
        assert _stock_row(page, stock_server, "POT-1") == (2, 0, 2)
        shot(page, "inventory-stock-released")
    finally:
        context.close()
    with stock_server.app.app_context():
        assert inv.check_ledger() == []
