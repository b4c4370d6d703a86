"""Browser: a customer's invoicing details typed on the customer form (a mistyped taxpayer ID is
refused beside its field), shown on the customer page, copied onto an order and changed there,
in English and Chinese. Screenshots of the customer form and the order page in both languages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from erp_core.extensions import db
from plugins.orders import services
from plugins.orders.models import Customer
from plugins.orders.services import LineInput, OrderInput
from tests.e2e.conftest import ADMIN_PASSWORD, LiveServer, sign_in
from tests.helpers import make_user


@pytest.fixture
def orders_server(make_app):
    app = make_app(plugins=["orders"], WTF_CSRF_ENABLED=True)
    make_user(app, username="admin", password=ADMIN_PASSWORD, roles=["admin"], display_name="Ada Admin")
    with app.app_context():
        services.create_product("TEA-1", "Green tea", "20", "CNY", spec="250 g", unit="tin")
        db.session.commit()
    server = LiveServer(app).start()
    yield server
    server.stop()


def _fill_details(page, **values):
    for name, value in values.items():
        page.locator(f"#invoicing-{name}").fill(value)


def test_invoicing_details_from_customer_to_order(page, orders_server, shot):
    server = orders_server
    sign_in(page, server)
    page.goto(server.url("/orders/customers/new"))
    page.locator("#name").fill("深圳市腾讯计算机系统有限公司")
    page.locator("#invoicing-invoice_type").select_option("special")
    _fill_details(page, title="深圳市腾讯计算机系统有限公司", taxpayer_id="91440300708461136X",
                  address="深圳市南山区科技中一路腾讯大厦", phone="0755-86013388", bank="招商银行深圳分行",
                  account="8159 9999 1001")
    page.get_by_test_id("save-customer").click()
    expect(page.locator("#invoicing-taxpayer_id + .invalid-feedback")).to_contain_text(
        "last character does not match")
    page.locator("#invoicing-taxpayer_id").fill("91440300708461136T")
    shot(page, "buyerinfo_customer_form_en")
    page.get_by_test_id("save-customer").click()
    details = page.get_by_test_id("customer-invoicing")
    expect(details).to_contain_text("Special VAT invoice")
    expect(details).to_contain_text("91440300708461136T")

    with server.app.test_request_context():
        customer = db.session.scalars(select(Customer)).one()
        product_id = services.get_product(1).id
        order = services.create_order(OrderInput(customer_id=customer.id, ship_line1="科技中一路",
                                                 lines=[LineInput(product_id, 3)]))
        db.session.commit()
        order_id, customer_id = order.id, customer.id
    page.goto(server.url(f"/orders/{order_id}"))
    card = page.get_by_test_id("order-invoicing")
    expect(card).to_contain_text("招商银行深圳分行")
    shot(page, "buyerinfo_order_page_en")
    page.get_by_test_id("edit-invoicing").click()
    page.locator("#invoice_type").select_option("ordinary")
    page.locator("#bank").fill("")
    page.locator("#account").fill("")
    page.get_by_test_id("save-invoicing").click()
    page.wait_for_url(server.url(f"/orders/{order_id}"))
    expect(card).to_contain_text("Ordinary invoice")
    expect(card).not_to_contain_text("招商银行深圳分行")
    expect(page.get_by_test_id("order-timeline")).to_contain_text("Invoicing details changed")
    # the customer keeps its own details
    page.goto(server.url(f"/orders/customers/{customer_id}"))
    expect(page.get_by_test_id("customer-invoicing")).to_contain_text("招商银行深圳分行")

    page.get_by_test_id("language-switch").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_test_id("customer-invoicing")).to_contain_text("增值税专用发票")
    page.goto(server.url(f"/orders/customers/{customer_id}/edit"))
    expect(page.get_by_test_id("invoicing-fields")).to_contain_text("纳税人识别号")
    shot(page, "buyerinfo_customer_form_zh")
    page.goto(server.url(f"/orders/{order_id}"))
    expect(page.get_by_test_id("order-invoicing")).to_contain_text("普通发票")
    shot(page, "buyerinfo_order_page_zh")
