"""Browser: from the product list (with its Available column) to the product's page with the
stock panel, the threshold saved there, the edit form landing back on the product page, and the
page in Chinese. Screenshots in both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from erp_core.extensions import db
from plugins.inventory import services as inv
from plugins.inventory.models import StockRule
from plugins.orders import services as orders
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user


@pytest.fixture
def product_server(make_app):
    app = make_app(plugins=["orders", "inventory"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.app_context():
        tea = orders.create_product("TEA-1", "Green tea", "20", "CNY", spec="250 g", unit="tin")
        orders.create_product("CUP-1", "Glass cup", "8", "CNY")
        db.session.flush()
        main = inv.default_warehouse()
        north = inv.save_warehouse(None, "N", "North")
        inv.receive_goods(main.id, {tea.id: 12})
        inv.receive_goods(north.id, {tea.id: 4})
        db.session.commit()
        tea_id = tea.id
    server = LiveServer(app).start()
    server.tea_id = tea_id
    yield server
    server.stop()


def test_product_page_with_stock_threshold_and_edit(page, product_server, shot):
    server = product_server
    sign_in(page, server)
    page.goto(server.url("/orders/products/"))
    expect(page.get_by_test_id("product-column")).to_have_text("Available")
    expect(page.get_by_role("link", name="16")).to_be_visible()
    shot(page, "product-list-stock")
    page.get_by_role("link", name="TEA-1").click()
    page.wait_for_url(server.url(f"/orders/products/{server.tea_id}"))
    stock = page.get_by_test_id("product-stock")
    expect(stock).to_contain_text("North")
    expect(stock.locator("tfoot")).to_contain_text("16")
    form = page.get_by_test_id("threshold-form")
    form.get_by_label("Low-stock threshold").fill("5")
    form.get_by_role("button", name="Save").click()
    page.wait_for_url(server.url(f"/orders/products/{server.tea_id}"))
    expect(page.get_by_text("Threshold and reorder quantity of TEA-1 saved.")).to_be_visible()
    with server.app.app_context():
        assert db.session.get(StockRule, server.tea_id).low_threshold == 5
    expect(page.get_by_test_id("receive-goods")).to_be_visible()
    shot(page, "product-page")
    page.get_by_test_id("edit-product").click()
    page.wait_for_url(server.url(f"/orders/products/{server.tea_id}/edit"))
    expect(page.get_by_test_id("product-form-panel")).to_contain_text("Low stock and reordering")
    shot(page, "product-edit")
    page.locator("#name").fill("Green tea, spring")
    page.get_by_test_id("save-product").click()
    page.wait_for_url(server.url(f"/orders/products/{server.tea_id}"))
    expect(page.get_by_test_id("product-details")).to_contain_text("Green tea, spring")
    page.get_by_test_id("receive-goods").click()
    expect(page.locator("#lines-0-sku")).to_have_value("TEA-1")
    page.goto(server.url(f"/orders/products/{server.tea_id}"))
    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("product-panel").first).to_contain_text("最近变动")
    expect(page.get_by_test_id("receive-goods")).to_have_text("收货入库")
    shot(page, "product-page-zh")
    page.goto(server.url("/orders/products/"))
    expect(page.get_by_test_id("product-column")).to_have_text("可用")
    shot(page, "product-list-stock-zh")
